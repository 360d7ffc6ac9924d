"""Per-pool preparation and the cheap pair features behind the calibrated score.

A :class:`PreparedPool` holds, for every claim of a pool, what pairing needs in array
form: the outlet group (claims of one group are never paired), language, sentence vector,
character n-gram TF-IDF rows (one vectoriser per language), IDF-weighted name keys,
number keys and a date interval. :func:`pair_features` turns arrays of pair indices
into the model matrix (columns :data:`FEATURE_NAMES`) without a Python loop over pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from annotations.pairing import encoder, ngrams
from annotations.pairing.normalise import (
    canonical_keys,
    date_interval,
    extract_dates,
    extract_names,
    known_candidates,
    number_keys,
)

#: Per-text results are memoised per process (a long-lived worker re-pairs the same
#: claims on every incremental run). Arabic names also depend on the English names of
#: the pool; they are memoised per text and the part of those names the text could
#: contain (:func:`~annotations.pairing.normalise.known_candidates`), which is exact.
#: Character n-grams are memoised in :mod:`annotations.pairing.ngrams`.
_CACHE_SIZE = 262_144


@lru_cache(maxsize=_CACHE_SIZE)
def _english_names(text: str) -> tuple[str, ...]:
    return tuple(extract_names(text))


@lru_cache(maxsize=_CACHE_SIZE)
def _arabic_names(text: str, known: frozenset[str]) -> tuple[str, ...]:
    return tuple(extract_names(text, known={k: k for k in known}))


@lru_cache(maxsize=_CACHE_SIZE)
def _known_candidates(text: str) -> frozenset[str]:
    return known_candidates(text)


@lru_cache(maxsize=_CACHE_SIZE)
def _number_keys(text: str) -> tuple[str, ...]:
    return tuple(sorted(number_keys(text)))


@lru_cache(maxsize=_CACHE_SIZE)
def _interval(text: str, published: date | None) -> tuple[date, date, bool] | None:
    return date_interval(extract_dates(text, published))


if TYPE_CHECKING:
    from annotations.pairing.candidates import ClaimInfo

#: Columns of the model matrix, in order (see :mod:`annotations.pairing.calibration`).
FEATURE_NAMES = (
    "encoder",
    "tfidf",
    "article_encoder",
    "article_names",
    "context_encoder",
    "names",
    "numbers",
    "date_near",
    "date_far",
    "length_ratio",
)
#: Columns of the final model: the pair's own features, then the second-order ones
#: (see :mod:`annotations.pairing.neighbours`).
MODEL_NAMES = (*FEATURE_NAMES, "neighbours", "expanded_encoder", "expanded_context")
#: Two dates closer than this (days, interval gap) count as "near".
DATE_WINDOW_DAYS = 3
#: Further apart than this counts as "far"; in between is neutral.
DATE_FAR_DAYS = 30
#: A claim without a date of its own is anchored to the two weeks before its article's date.
PUBLISHED_LOOKBACK_DAYS = 14
_NAMES_CAP = 2.0
#: Neighbouring claims on each side that form a claim's context vector.
CONTEXT_RADIUS = 2
_NUMBERS_CAP = 3.0
#: Pairs per chunk of :func:`pair_features` (bounds its memory: ~0.3 GB per gathered array).
PAIR_CHUNK = 131_072


def group_key(claim: ClaimInfo) -> str:
    """Claims with equal keys are never paired: same outlet, or same article if no outlet."""
    if claim.outlet:
        return "o:" + claim.outlet.strip().casefold()
    return f"a:{claim.article_id!s}"


@dataclass
class PreparedPool:
    claims: list[ClaimInfo]
    ids: list[Any]
    group: np.ndarray  # int codes of group_key
    lang: np.ndarray  # int codes of language
    languages: list[str]
    emb: np.ndarray  # (n, 512) float32, unit rows
    tfidf: dict[int, sp.csr_matrix]  # language code -> rows of that language (pool order),
    # hashed char n-grams (see annotations.pairing.ngrams)
    lang_pos: np.ndarray  # row of each claim inside its language's matrix
    lang_rows: dict[int, np.ndarray]  # language code -> pool indices, ascending
    names: sp.csr_matrix  # (n, n_names) IDF weights
    name_keys: list[str]
    numbers: sp.csr_matrix  # (n, n_numbers) binary
    date_lo: np.ndarray  # float ordinal, nan when unknown
    date_hi: np.ndarray
    date_from_text: np.ndarray  # bool: interval from the text (else from the published date)
    year_known: np.ndarray  # bool: False for day-month dates of undated articles
    doy_lo: np.ndarray  # day of year (0-365) of date_lo / date_hi, for year-less comparisons
    doy_hi: np.ndarray
    article: np.ndarray  # int codes of article_id
    art_emb: np.ndarray  # (n_articles, 512) unit centroid of each article's claim vectors
    art_names: sp.csr_matrix  # (n_articles, n_names) L2-normalised summed name weights
    ctx_emb: np.ndarray  # (n, 512) unit mean vector of the claim and its article neighbours
    length: np.ndarray  # characters
    dup_code: np.ndarray  # equal for claims with the same article and the same text
    #: per-pool derived data that callers compute once (the retrieval space and cells)
    derived: dict[Any, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.claims)


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    return codes, list(index)


def _embeddings(claims: Sequence[ClaimInfo]) -> np.ndarray:
    emb = np.empty((len(claims), encoder.DIM), dtype=np.float32)
    missing = [i for i, c in enumerate(claims) if c.embedding is None]
    for i, c in enumerate(claims):
        if c.embedding is not None:
            emb[i] = np.asarray(c.embedding, dtype=np.float32).reshape(-1)
    if missing:
        emb[missing] = encoder.encode([claims[i].text for i in missing])
    return encoder.normalise_rows(emb)


def _binary_matrix(rows: list[list[str]]) -> tuple[sp.csr_matrix, list[str]]:
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for keys in rows:
        indices.extend(vocab.setdefault(k, len(vocab)) for k in dict.fromkeys(keys))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    matrix = sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(rows), len(vocab)),
    )
    return matrix, list(vocab)


def _names(claims: Sequence[ClaimInfo]) -> tuple[sp.csr_matrix, list[str]]:
    """Name keys per claim; Arabic claims may reuse skeletons of the pool's English names."""
    per_claim: list[list[str]] = [[] for _ in claims]
    arabic = []
    for i, c in enumerate(claims):
        if c.language == "ar":
            arabic.append(i)
        else:
            per_claim[i] = list(_english_names(c.text))
    known = {k for keys in per_claim for k in keys if len(k) >= 4}
    for i in arabic:
        text = claims[i].text
        per_claim[i] = list(_arabic_names(text, _known_candidates(text) & known))
    mapping = canonical_keys(k for keys in per_claim for k in keys)
    matrix, vocab = _binary_matrix([[mapping[k] for k in keys] for keys in per_claim])
    df = np.asarray((matrix > 0).sum(axis=0)).ravel()
    n = max(len(claims), 1)
    idf = np.log((1.0 + n) / (1.0 + df)) / math.log(1.0 + n + 1.0)
    matrix = matrix @ sp.diags(idf.astype(np.float32))
    return sp.csr_matrix(matrix), vocab


def _dates(claims: Sequence[ClaimInfo]) -> tuple[np.ndarray, ...]:
    n = len(claims)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    from_text = np.zeros(n, dtype=bool)
    year_known = np.ones(n, dtype=bool)
    for i, c in enumerate(claims):
        interval = _interval(c.text, c.published)
        if interval is not None:
            lo[i], hi[i] = interval[0].toordinal(), interval[1].toordinal()
            from_text[i], year_known[i] = True, interval[2]
        elif c.published is not None:
            start: date = c.published - timedelta(days=PUBLISHED_LOOKBACK_DAYS)
            lo[i], hi[i] = start.toordinal(), c.published.toordinal()
    doy_lo, doy_hi = np.full(n, np.nan), np.full(n, np.nan)
    for arr, out in ((lo, doy_lo), (hi, doy_hi)):
        ok = ~np.isnan(arr)
        out[ok] = [
            o - date(date.fromordinal(int(o)).year, 1, 1).toordinal() for o in arr[ok].tolist()
        ]
    return lo, hi, from_text, year_known, doy_lo, doy_hi


def _window(article: np.ndarray, radius: int = CONTEXT_RADIUS) -> sp.csr_matrix:
    """Row i averages claim i with the claims up to ``radius`` places before and after it
    in the same article (claims of an article are taken in the order given)."""
    n = len(article)
    rows, cols = [], []
    for offset in range(-radius, radius + 1):
        i = np.arange(max(0, -offset), min(n, n - offset))
        same = article[i] == article[i + offset]
        rows.append(i[same])
        cols.append(i[same] + offset)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, n))


def _articles(
    claims: Sequence[ClaimInfo], emb: np.ndarray, names: sp.csr_matrix
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    article, keys = _codes([str(c.article_id) for c in claims])
    member = sp.csr_matrix(
        (np.ones(len(claims), dtype=np.float32), (article, np.arange(len(claims)))),
        shape=(len(keys), len(claims)),
    )
    art_emb = encoder.normalise_rows(np.asarray(member @ emb))
    art_names = sp.csr_matrix(member @ names)
    norms = np.sqrt(np.asarray(art_names.multiply(art_names).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    art_names = sp.csr_matrix(sp.diags(1.0 / norms) @ art_names, dtype=np.float32)
    return article, art_emb, art_names


def prepare_pool(claims: Sequence[ClaimInfo]) -> PreparedPool:
    """Everything pairing needs about ``claims`` (encodes the ones without a vector)."""
    claims = list(claims)
    group, _ = _codes([group_key(c) for c in claims])
    lang, languages = _codes([c.language or "und" for c in claims])
    lang_pos = np.zeros(len(claims), dtype=np.int64)
    tfidf: dict[int, sp.csr_matrix] = {}
    lang_rows: dict[int, np.ndarray] = {}
    for code in range(len(languages)):
        rows = np.flatnonzero(lang == code)
        lang_rows[code] = rows
        lang_pos[rows] = np.arange(len(rows))
        tfidf[code] = ngrams.tfidf(ngrams.ngram_counts([claims[i].text for i in rows]))
    names, name_keys = _names(claims)
    numbers, _ = _binary_matrix([list(_number_keys(c.text)) for c in claims])
    lo, hi, from_text, year_known, doy_lo, doy_hi = _dates(claims)
    dup_code, _ = _codes([(str(c.article_id), c.text.strip()) for c in claims])
    emb = _embeddings(claims)
    article, art_emb, art_names = _articles(claims, emb, names)
    ctx_emb = encoder.normalise_rows(np.asarray(_window(article) @ emb))
    return PreparedPool(
        claims=claims,
        ids=[c.id for c in claims],
        group=group,
        lang=lang,
        languages=[str(x) for x in languages],
        emb=emb,
        tfidf=tfidf,
        lang_pos=lang_pos,
        lang_rows=lang_rows,
        names=names,
        name_keys=name_keys,
        numbers=numbers,
        date_lo=lo,
        date_hi=hi,
        date_from_text=from_text,
        year_known=year_known,
        doy_lo=doy_lo,
        doy_hi=doy_hi,
        article=article,
        art_emb=art_emb,
        art_names=art_names,
        ctx_emb=ctx_emb,
        length=np.fromiter((len(c.text) for c in claims), np.float64, len(claims)),
        dup_code=dup_code,
    )


def _rowwise_dot(matrix: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    if matrix.shape[1] == 0 or len(i) == 0:
        return np.zeros(len(i), dtype=np.float64)
    return np.asarray(matrix[i].multiply(matrix[j]).sum(axis=1), dtype=np.float64).ravel()


def tfidf_cosine(pool: PreparedPool, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Exact char n-gram cosine for pairs of the same language (0 across languages)."""
    out = np.zeros(len(i), dtype=np.float64)
    same = pool.lang[i] == pool.lang[j]
    for code, matrix in pool.tfidf.items():
        sel = np.flatnonzero(same & (pool.lang[i] == code))
        for start in range(0, len(sel), 100_000):
            part = sel[start : start + 100_000]
            out[part] = _rowwise_dot(matrix, pool.lang_pos[i[part]], pool.lang_pos[j[part]])
    return out


def encoder_cosine(pool: PreparedPool, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.empty(len(i), dtype=np.float64)
    for start in range(0, len(i), 50_000):
        a, b = i[start : start + 50_000], j[start : start + 50_000]
        out[start : start + len(a)] = np.einsum("ij,ij->i", pool.emb[a], pool.emb[b])
    return out


def pair_features(
    pool: PreparedPool,
    i: np.ndarray,
    j: np.ndarray,
    enc: np.ndarray | None = None,
    tfidf: np.ndarray | None = None,
) -> np.ndarray:
    """Model matrix ``(len(i), len(FEATURE_NAMES))`` for the pairs ``(i[k], j[k])``.

    Computed in chunks of :data:`PAIR_CHUNK` pairs: the vector columns gather two
    ``(pairs, 512)`` arrays each, 7.6 GB apiece for the 3.7 million candidate pairs of
    100k claims if done at once.
    """
    out = np.empty((len(i), len(FEATURE_NAMES)), dtype=np.float64)
    for start in range(0, len(i), PAIR_CHUNK):
        part = slice(start, start + PAIR_CHUNK)
        out[part] = _pair_features(
            pool,
            i[part],
            j[part],
            None if enc is None else enc[part],
            None if tfidf is None else tfidf[part],
        )
    return out


def _pair_features(
    pool: PreparedPool,
    i: np.ndarray,
    j: np.ndarray,
    enc: np.ndarray | None,
    tfidf: np.ndarray | None,
) -> np.ndarray:
    enc = encoder_cosine(pool, i, j) if enc is None else enc
    tfidf = tfidf_cosine(pool, i, j) if tfidf is None else tfidf
    same_language = (pool.lang[i] == pool.lang[j]).astype(np.float64)
    ai, aj = pool.article[i], pool.article[j]
    art_enc = np.einsum("ij,ij->i", pool.art_emb[ai], pool.art_emb[aj]).astype(np.float64)
    art_names = _rowwise_dot(pool.art_names, ai, aj)
    ctx = np.einsum("ij,ij->i", pool.ctx_emb[i], pool.ctx_emb[j]).astype(np.float64)
    names = np.minimum(_rowwise_dot(pool.names, i, j), _NAMES_CAP)
    numbers = np.minimum(_rowwise_dot(pool.numbers, i, j), _NUMBERS_CAP)
    gap = date_gap(pool, i, j)
    known = ~np.isnan(gap)
    near = known & (np.nan_to_num(gap, nan=1e9) <= DATE_WINDOW_DAYS)
    far = known & (np.nan_to_num(gap, nan=0.0) > DATE_FAR_DAYS)
    li, lj = pool.length[i], pool.length[j]
    ratio = np.minimum(li, lj) / np.maximum(np.maximum(li, lj), 1.0)
    return np.column_stack(
        [enc, tfidf * same_language, art_enc, art_names, ctx, names, numbers, near, far, ratio]
    ).astype(np.float64)


def interval_gap(
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
    doy: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    both_known: np.ndarray | None = None,
) -> np.ndarray:
    """Days between intervals (0 when they overlap, nan if unknown); broadcasts.

    Where ``both_known`` is False the gap is taken on the day-of-year circle from ``doy``
    (``lo_a, hi_a, lo_b, hi_b`` as days of year), for dates whose year is unknown.
    """
    gap = np.maximum(np.maximum(lo_a, lo_b) - np.minimum(hi_a, hi_b), 0.0)
    if doy is None or both_known is None:
        return gap
    dla, dha, dlb, dhb = doy
    linear = np.maximum(np.maximum(dla, dlb) - np.minimum(dha, dhb), 0.0)
    around = np.maximum(366.0 - (np.maximum(dha, dhb) - np.minimum(dla, dlb)), 0.0)
    return np.where(both_known, gap, np.minimum(linear, around))


def date_gap(pool: PreparedPool, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Days between the two claims' date intervals (0 when they overlap), nan if unknown."""
    doy = (pool.doy_lo[i], pool.doy_hi[i], pool.doy_lo[j], pool.doy_hi[j])
    known = pool.year_known[i] & pool.year_known[j]
    return interval_gap(pool.date_lo[i], pool.date_hi[i], pool.date_lo[j], pool.date_hi[j],
                        doy, known)  # fmt: skip


def shared_names(pool: PreparedPool, i: int, j: int) -> list[str]:
    m = pool.names
    a = m.indices[m.indptr[i] : m.indptr[i + 1]]
    b = set(m.indices[m.indptr[j] : m.indptr[j + 1]].tolist())
    return [pool.name_keys[k] for k in a.tolist() if k in b]
