"""Cross-source candidate pairs: claims from different outlets about the same event.

Pipeline for a pool of claims (:func:`ranked_candidates`; the other entry points wrap it):

1. :func:`~annotations.pairing.features.prepare_pool`: outlet groups, sentence vectors
   (encoded when a claim has none), per-language char n-gram TF-IDF (``char_wb`` 3-5,
   sublinear tf, hashed so no vocabulary is fitted: :mod:`annotations.pairing.ngrams`),
   names, numbers, dates, and context: the mean vector of each claim with its two
   neighbours on each side (claims of an article are expected in reading order) and
   per-article vector and name profiles. Per-text work is memoised in the process.
2. Retrieval (:func:`~annotations.pairing.retrieval.retrieve_pairs`), in blocks of rows
   so memory stays flat: per query, the ``retrieve_k`` best claims by the first-pass
   model's linear score, plus the ``top_k`` best by sentence-vector cosine over the whole
   pool (any language) and by TF-IDF cosine among claims of its own language. Columns are
   sorted by outlet group so excluding the query's own outlet is one slice per block; top
   lists come from ``argpartition``; no Python loop runs over pairs. Pools above 5,000
   claims are searched in a compressed space (see the retrieval module, which also drops
   the TF-IDF-only list there), pools from 20,000 claims by k-means cells
   (:mod:`annotations.pairing.partitioned`); the retrieved pairs are scored exactly.
3. Scoring in two passes (:mod:`annotations.pairing.neighbours`): the first-pass model
   of :mod:`annotations.pairing.calibration` scores each pair on its own features
   (:func:`~annotations.pairing.features.pair_features`) and gives every claim a
   neighbour profile; the final model adds the second-order columns (shared neighbours,
   expanded sentence and context vectors) and gives ``score`` = P(same event).
4. Per query, candidates are sorted by score, a text repeated inside one article counts
   once, and the ``top_k`` best are kept.

``method`` says how a pair was proposed: ``"encoder"`` or ``"tfidf"`` when only that
similarity's own top list found it, ``"both"`` when both lists did or when the combined
score (which uses both) did.

Pairs are only ever proposed between claims of different articles **and** different
outlets; a claim whose outlet is ``None`` forms its own group with its article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from annotations.pairing.calibration import probability
from annotations.pairing.features import (
    DATE_WINDOW_DAYS,
    MODEL_NAMES,
    PreparedPool,
    date_gap,
    prepare_pool,
    shared_names,
)
from annotations.pairing.neighbours import (
    NEIGHBOUR_K,
    PROFILE_RETRIEVE_K,
    first_pass,
    model_matrix,
    select_top,
)
from annotations.pairing.retrieval import FLAG_COMBINED, FLAG_ENCODER, FLAG_TFIDF

ClaimId = int | str

#: Score (P(same event)) at or above which a pair is proposed for annotation and linked
#: into event clusters. Chosen on the probe set (see tests/pairing/test_quality.py).
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = NEIGHBOUR_K
#: Candidates fetched per query by the combined score before exact scoring and the top-k
#: cut (the encoder-only and TF-IDF-only lists fetch ``top_k`` each). With the defaults a
#: run's first pass doubles as the neighbour profiles of its queries.
DEFAULT_RETRIEVE_K = PROFILE_RETRIEVE_K
#: Optional cap on candidates of one query from any one other article (a more varied
#: list). Off by default: on the probe set it costs recall for events that only one
#: article reports in detail.
DEFAULT_PER_ARTICLE: int | None = None


def method_name(flags: int) -> str:
    """How a pair was proposed: by one similarity alone, or by both (combined score)."""
    if flags & FLAG_COMBINED or flags & (FLAG_ENCODER | FLAG_TFIDF) == FLAG_ENCODER | FLAG_TFIDF:
        return "both"
    return "encoder" if flags & FLAG_ENCODER else "tfidf"


@dataclass(frozen=True, slots=True, eq=False)
class ClaimInfo:
    """What pairing needs to know about one claim (a sentence of an article)."""

    id: ClaimId
    article_id: ClaimId
    outlet: str | None
    language: str
    text: str
    published: date | None = None
    embedding: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class CandidatePair:
    """A proposed pair. In ranked lists ``a`` is the query claim; in pair sets ``a < b``."""

    a: ClaimId
    b: ClaimId
    score: float
    method: str  # "tfidf", "encoder" or "both"
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[ClaimId, ClaimId]:
        return (self.a, self.b) if _sort_key(self.a) <= _sort_key(self.b) else (self.b, self.a)


def _sort_key(value: ClaimId) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


def _make_pair(
    pool: PreparedPool, a: int, b: int, score: float, flag: int, x: np.ndarray, gap: float
) -> CandidatePair:
    features: dict[str, Any] = {
        name: round(float(v), 4) for name, v in zip(MODEL_NAMES, x, strict=True)
    }
    features["date_gap_days"] = None if np.isnan(gap) else int(gap)
    features["date_window_days"] = DATE_WINDOW_DAYS
    features["shared_names"] = shared_names(pool, a, b)[:8]
    return CandidatePair(
        a=pool.ids[a], b=pool.ids[b], score=round(float(score), 6), method=method_name(flag),
        features=features,
    )  # fmt: skip


def _ranked(
    pool: PreparedPool, queries: np.ndarray, top_k: int, retrieve_k: int, per_article: int | None
) -> dict[ClaimId, list[CandidatePair]]:
    fp = first_pass(pool, queries, max(retrieve_k, top_k), top_k)
    i, j, flags = fp.i, fp.j, fp.flags
    x = model_matrix(pool, fp)
    score = probability(x)
    keep = select_top(pool, i, j, score, top_k, per_article)
    gaps = date_gap(pool, i[keep], j[keep])
    result: dict[ClaimId, list[CandidatePair]] = {pool.ids[q]: [] for q in queries.tolist()}
    for pos, k in enumerate(keep.tolist()):
        a, b = int(i[k]), int(j[k])
        result[pool.ids[a]].append(_make_pair(pool, a, b, score[k], int(flags[k]), x[k], gaps[pos]))
    return result


def _union(pool_claims: Sequence[ClaimInfo], extra: Sequence[ClaimInfo]) -> list[ClaimInfo]:
    seen: set[ClaimId] = set()
    merged = []
    for c in [*pool_claims, *extra]:
        if c.id not in seen:
            seen.add(c.id)
            merged.append(c)
    return merged


def ranked_candidates(
    queries: Sequence[ClaimInfo],
    pool: Sequence[ClaimInfo],
    top_k: int = DEFAULT_TOP_K,
    retrieve_k: int = DEFAULT_RETRIEVE_K,
    per_article: int | None = DEFAULT_PER_ARTICLE,
) -> dict[ClaimId, list[CandidatePair]]:
    """For each query claim, its ``top_k`` candidates from ``pool`` (best first).

    The statistics (TF-IDF vocabulary and IDF, name IDF) are computed over ``pool`` plus
    the queries, so a query's list depends only on that union: the same list comes out of
    :func:`all_candidates` and :func:`incremental_candidates` for a new claim.
    """
    prepared = prepare_pool(_union(pool, queries))
    index = {cid: k for k, cid in enumerate(prepared.ids)}
    q = np.asarray([index[c.id] for c in queries], dtype=np.int64)
    return _ranked(prepared, q, top_k, retrieve_k, per_article)


def candidates_for(
    claim: ClaimInfo, pool: Sequence[ClaimInfo], limit: int = DEFAULT_TOP_K
) -> list[CandidatePair]:
    """The ``limit`` best candidates for one claim, best first (``a`` is the claim)."""
    return ranked_candidates([claim], pool, top_k=limit)[claim.id]


def _pair_set(
    lists: dict[ClaimId, list[CandidatePair]], threshold: float | None
) -> list[CandidatePair]:
    best: dict[tuple[ClaimId, ClaimId], CandidatePair] = {}
    for pairs in lists.values():
        for p in pairs:
            if threshold is not None and p.score < threshold:
                continue
            a, b = p.key
            if (a, b) not in best:
                best[(a, b)] = CandidatePair(a, b, p.score, p.method, p.features)
    return sorted(best.values(), key=lambda p: (-p.score, _sort_key(p.a), _sort_key(p.b)))


def all_candidates(
    claims: Sequence[ClaimInfo],
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = DEFAULT_THRESHOLD,
    retrieve_k: int = DEFAULT_RETRIEVE_K,
) -> list[CandidatePair]:
    """Unique pairs (``a < b``) of a whole project, best first.

    A pair is kept when it is in the top ``top_k`` of either claim and scores at least
    ``threshold`` (``None`` keeps every top-k pair).
    """
    lists = ranked_candidates(claims, claims, top_k=top_k, retrieve_k=retrieve_k)
    return _pair_set(lists, threshold)


def incremental_candidates(
    new_claims: Sequence[ClaimInfo],
    existing_claims: Sequence[ClaimInfo],
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = DEFAULT_THRESHOLD,
    retrieve_k: int = DEFAULT_RETRIEVE_K,
) -> list[CandidatePair]:
    """Pairs for newly arrived claims: new against existing and new, nothing else.

    The similarity work is ``len(new) x len(all)`` instead of ``len(all)**2``. Each new
    claim's ranked list equals the one a full run over all claims gives it, so the result
    equals the full run's pairs that come from the new claims' lists. Pairs an existing
    claim would gain in its own top list are not recomputed (its list is not re-ranked).
    """
    lists = ranked_candidates(
        new_claims, [*existing_claims, *new_claims], top_k=top_k, retrieve_k=retrieve_k
    )
    return _pair_set(lists, threshold)
