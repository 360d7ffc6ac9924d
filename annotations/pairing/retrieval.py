"""Blocked all-pairs retrieval: the best columns of every query row, without an n² loop.

Columns (pool claims) are sorted by outlet group, so "not the query's own outlet" is one
slice per run of same-group rows. Queries are processed per language and in blocks of
rows sized so a block holds about :data:`BLOCK_CELLS` cells. For each block:

* ``enc`` = query vectors @ pool vectors (dense BLAS product, any language);
* ``tf`` = query TF-IDF rows @ TF-IDF rows of the same language (sparse product, scattered
  into the block);
* ``lin`` = the first-pass model's linear score without its small terms: encoder and
  TF-IDF cosines, shared rare names (sparse product) and date near / far, with the
  calibrated weights;

and three top lists are taken with ``argpartition``: the ``k`` best by ``lin`` and
``k_single`` best by ``enc`` and by ``tf`` alone. Their union goes to exact scoring.

Two spaces. Up to :data:`EXACT_MAX_CLAIMS` claims the products are exact (full
vectors, sparse TF-IDF and name products). Above it, sparse char n-gram products become
the bottleneck (their cost grows with the square of n-gram frequencies), so retrieval
runs in a compressed dense space: sentence and context vectors projected on their top
:data:`PCA_DIM` principal directions, TF-IDF rows and name weights count-sketched into
:data:`SKETCH_DIM` signed hash buckets. Every product is then one BLAS call per block;
the scores of the retrieved pairs are recomputed exactly afterwards, so only which pairs
are retrieved is approximate, never their score. In this space the TF-IDF, context and
name terms come from one product (per-language slices keep TF-IDF at 0 across languages)
and there is no TF-IDF-only top list: a pair is proposed by the combined score ("both")
or by the sentence vector alone ("encoder").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from annotations.pairing import calibration
from annotations.pairing.features import (
    DATE_FAR_DAYS,
    DATE_WINDOW_DAYS,
    FEATURE_NAMES,
    PreparedPool,
    interval_gap,
)

#: Cells (rows x pool size) per block; 2e7 float32 cells = 80 MB per block array.
BLOCK_CELLS = 20_000_000
#: Names carried by more than this share of the pool (and by more than
#: RETRIEVAL_NAME_MIN_CAP claims) are left out of retrieval: their IDF weight is small
#: and they would make the sparse product dense on large pools. Exact scoring keeps them.
RETRIEVAL_NAME_MAX_DF = 0.01
RETRIEVAL_NAME_MIN_CAP = 500

#: Pools up to this size use exact products; larger ones the compressed space.
EXACT_MAX_CLAIMS = 5_000
PCA_DIM = 256
SKETCH_DIM = 256

FLAG_ENCODER = 1
FLAG_TFIDF = 2
FLAG_COMBINED = 4


def _group_ranges(sorted_groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(n_groups)
    return (
        np.searchsorted(sorted_groups, codes, side="left"),
        np.searchsorted(sorted_groups, codes, side="right"),
    )


def _mask_own_groups(
    block: np.ndarray, row_groups: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> None:
    """Set -inf where a row meets a column of its own group (rows sorted by group)."""
    bounds = np.flatnonzero(np.diff(row_groups)) + 1
    for r0, r1 in zip(np.r_[0, bounds], np.r_[bounds, len(row_groups)], strict=True):
        g = row_groups[r0]
        block[r0:r1, starts[g] : ends[g]] = -np.inf


def _top(block: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest values per row (unordered)."""
    if block.shape[1] <= k:
        return np.broadcast_to(np.arange(block.shape[1]), block.shape).copy()
    return np.argpartition(-block, k - 1, axis=1)[:, :k]


def _retrieval_names(pool: PreparedPool) -> sp.csr_matrix:
    names = pool.names
    if names.shape[1] == 0:
        return names
    df = np.diff(names.tocsc().indptr)
    keep = df <= max(RETRIEVAL_NAME_MIN_CAP, RETRIEVAL_NAME_MAX_DF * pool.n)
    return sp.csr_matrix(names[:, np.flatnonzero(keep)])


def _sketch(matrix: sp.csr_matrix, dim: int, seed: int) -> np.ndarray:
    """Count sketch: each column to one signed bucket; dot products are kept on average."""
    rng = np.random.default_rng(seed)
    width = matrix.shape[1]
    buckets = rng.integers(0, dim, width)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), width)
    hashing = sp.csr_matrix((signs, (np.arange(width), buckets)), shape=(width, dim))
    return np.asarray((matrix @ hashing).toarray(), dtype=np.float32)


def _pca(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Project on the top ``dim`` directions of the (uncentred) second moment."""
    if vectors.shape[1] <= dim or len(vectors) == 0:
        return vectors
    moment = vectors.T.astype(np.float64) @ vectors.astype(np.float64)
    _, basis = np.linalg.eigh(moment)
    return np.ascontiguousarray(vectors @ basis[:, ::-1][:, :dim].astype(np.float32))


@dataclass
class _Space:
    """Per-pool retrieval matrices (rows in pool order)."""

    exact: bool
    enc: np.ndarray
    ctx: np.ndarray
    names: sp.csr_matrix | np.ndarray
    art_names: sp.csr_matrix | np.ndarray
    #: compressed only: [TF-IDF sketch | context | names sketch] per claim, and the same
    #: with the model weights applied (query side), so one product gives their share of
    #: the linear score. Each language's TF-IDF sketch has its own slice of dimensions,
    #: so claims of different languages have a TF-IDF product of exactly 0.
    rest: np.ndarray | None = None
    rest_weighted: np.ndarray | None = None


def _space(pool: PreparedPool, exact: bool, weights: dict[str, np.float32]) -> _Space:
    names = _retrieval_names(pool)
    if exact:
        return _Space(True, pool.emb, pool.ctx_emb, names, pool.art_names)
    width = max(64, SKETCH_DIM // max(1, len(pool.lang_rows)))
    tf = np.zeros((pool.n, width * len(pool.lang_rows)), dtype=np.float32)
    for slot, (code, rows) in enumerate(sorted(pool.lang_rows.items())):
        tf[rows, slot * width : (slot + 1) * width] = _sketch(pool.tfidf[code], width, 17 + code)
    ctx = _pca(pool.ctx_emb, PCA_DIM)
    names_sketch = _sketch(names, SKETCH_DIM, seed=5)
    rest = np.hstack([tf, ctx, names_sketch])
    scale = np.concatenate(
        [
            np.full(tf.shape[1], weights["tfidf"], dtype=np.float32),
            np.full(ctx.shape[1], weights["context_encoder"], dtype=np.float32),
            np.full(names_sketch.shape[1], weights["names"], dtype=np.float32),
        ]
    )
    return _Space(
        False,
        _pca(pool.emb, PCA_DIM),
        ctx,
        names_sketch,
        _sketch(pool.art_names, SKETCH_DIM, seed=9),
        rest,
        rest * scale,
    )


def search_mode(n: int) -> str:
    """How a pool of ``n`` claims is searched: "exact", "compressed" or "partitioned"."""
    from annotations.pairing import partitioned

    if n <= EXACT_MAX_CLAIMS:
        return "exact"
    return "partitioned" if n >= partitioned.PARTITION_MIN_CLAIMS else "compressed"


def retrieve_pairs(
    pool: PreparedPool,
    queries: np.ndarray,
    k: int,
    k_single: int | None = None,
    mode: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j, encoder cosine, tfidf cosine, flags)`` for ``queries``.

    ``i`` holds pool indices of queries and ``j`` of candidates; each (i, j) occurs once;
    the cosines are exact; ``flags`` is a bit set of FLAG_ENCODER, FLAG_TFIDF and
    FLAG_COMBINED. ``mode`` picks the search (default: :func:`search_mode` of the pool).
    """
    from annotations.pairing.features import encoder_cosine, tfidf_cosine

    k_single = k if k_single is None else k_single
    mode = search_mode(pool.n) if mode is None else mode
    if mode not in ("exact", "compressed", "partitioned"):
        raise ValueError(f"unknown search mode {mode!r}")
    exact = mode == "exact"
    weights = {
        name: np.float32(w)
        for name, w in zip(FEATURE_NAMES, calibration.FIRST_COEFFICIENTS, strict=True)
    }
    # computed once per pool and weights: an incremental run retrieves twice (new claims,
    # then their candidates' profiles) in one pool
    key = ("space", exact, tuple(weights.values()))
    if key not in pool.derived:
        pool.derived[key] = _space(pool, exact, weights)
    space: _Space = pool.derived[key]
    queries = np.asarray(queries, dtype=np.int64)
    if mode == "partitioned":
        i, j, flags = _partitioned(pool, space, weights, queries, k, k_single)
        return i, j, encoder_cosine(pool, i, j), tfidf_cosine(pool, i, j), flags
    n = pool.n
    n_groups = int(pool.group.max()) + 1 if n else 0
    order = np.argsort(pool.group, kind="stable")
    starts, ends = _group_ranges(pool.group[order], n_groups)
    cols = _Columns(
        order=order,
        starts=starts,
        ends=ends,
        enc=np.ascontiguousarray(space.enc[order].T),
        ctx=np.ascontiguousarray(space.ctx[order].T) if exact else None,
        rest=None if space.rest is None else np.ascontiguousarray(space.rest[order].T),
        names=_columns_of(space.names, order) if exact else None,
        lang=pool.lang[order],
        art=pool.article[order],
    )  # fmt: skip
    out: list[tuple[np.ndarray, ...]] = []
    rows_per_block = max(16, BLOCK_CELLS // max(n, 1))
    for code in pool.lang_rows:
        q_lang = queries[pool.lang[queries] == code]
        if len(q_lang) == 0:
            continue
        q_lang = q_lang[np.argsort(pool.group[q_lang], kind="stable")]
        tf_pos = np.flatnonzero(cols.lang == code)  # block columns of this language
        tf_cols_t = pool.tfidf[code][pool.lang_pos[order[tf_pos]]].T.tocsr() if exact else None
        for b0 in range(0, len(q_lang), rows_per_block):
            q = q_lang[b0 : b0 + rows_per_block]
            out.append(_block(pool, space, cols, q, code, tf_pos, tf_cols_t, weights, k, k_single))
    out = [part for part in out if len(part[0])]
    if not out:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=np.float64)
        return empty_i, empty_i, empty_f, empty_f, empty_i
    i, j, enc, tf, flags = (np.concatenate(parts) for parts in zip(*out, strict=True))
    if not exact:
        enc, tf = encoder_cosine(pool, i, j), tfidf_cosine(pool, i, j)
    return i, j, enc, tf, flags


def _partitioned(
    pool: PreparedPool,
    space: _Space,
    weights: dict[str, np.float32],
    queries: np.ndarray,
    k: int,
    k_single: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The compressed space's linear score, searched by cells (see ``partitioned``)."""
    from annotations.pairing import partitioned

    assert space.rest is not None and space.rest_weighted is not None
    rest, rest_w = space.rest, space.rest_weighted
    art_names = np.asarray(space.art_names, dtype=np.float32)
    art_left = np.hstack(
        [pool.art_emb * weights["article_encoder"], art_names * weights["article_names"]]
    ).astype(np.float32)
    art_right = np.hstack([pool.art_emb, art_names]).astype(np.float32)

    def score_cell(qs: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        enc = space.enc[qs] @ space.enc[cols].T
        lin = enc * weights["encoder"]
        lin += rest_w[qs] @ rest[cols].T
        aq, iq = np.unique(pool.article[qs], return_inverse=True)
        ac, ic = np.unique(pool.article[cols], return_inverse=True)
        lin += (art_left[aq] @ art_right[ac].T)[np.ix_(iq, ic)]
        _add_dates(pool, qs, cols, lin, weights)
        return lin, enc

    if len(queries) == 0 or pool.n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    key = ("cells", tuple(weights.values()))
    if key not in pool.derived:
        pool.derived[key] = partitioned.partition(space.enc, space.ctx)
    part = pool.derived[key]
    li, lj, ei, ej = partitioned.search(pool, part, queries, score_cell, k, k_single)
    i = np.concatenate([li, ei])
    j = np.concatenate([lj, ej])
    flags = np.concatenate(
        [np.full(len(li), FLAG_COMBINED, np.int64), np.full(len(ei), FLAG_ENCODER, np.int64)]
    )
    code = i * pool.n + j
    uniq, inverse = np.unique(code, return_inverse=True)
    merged = np.zeros(len(uniq), dtype=np.int64)
    np.bitwise_or.at(merged, inverse, flags)
    return uniq // pool.n, uniq % pool.n, merged


def _columns_of(
    matrix: sp.csr_matrix | np.ndarray, order: np.ndarray
) -> sp.csr_matrix | np.ndarray:
    if sp.issparse(matrix):
        return sp.csr_matrix(matrix[order].T)
    return np.ascontiguousarray(matrix[order].T)


@dataclass
class _Columns:
    order: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    enc: np.ndarray  # (dim, n) in column order
    ctx: np.ndarray | None  # exact space only
    rest: np.ndarray | None  # compressed space only
    names: sp.csr_matrix | np.ndarray | None  # exact space only
    lang: np.ndarray
    art: np.ndarray


def _block(
    pool: PreparedPool,
    space: _Space,
    cols: _Columns,
    q: np.ndarray,
    code: int,
    tf_pos: np.ndarray,
    tf_cols_t: sp.csr_matrix | None,
    weights: dict[str, np.float32],
    k: int,
    k_single: int,
) -> tuple[np.ndarray, ...]:
    n = pool.n
    enc = space.enc[q] @ cols.enc
    lin = enc * weights["encoder"]
    tf: np.ndarray | None = None
    if space.exact:
        assert tf_cols_t is not None and cols.ctx is not None and cols.names is not None
        tf = np.zeros_like(enc)
        tf[:, tf_pos] = (pool.tfidf[code][pool.lang_pos[q]] @ tf_cols_t).toarray()
        lin += tf * weights["tfidf"]
        ctx = space.ctx[q] @ cols.ctx
        ctx *= weights["context_encoder"]
        lin += ctx
        del ctx
        if cols.names.shape[0]:
            shared = (space.names[q] @ cols.names).tocoo()
            lin[shared.row, shared.col] += weights["names"] * np.minimum(shared.data, 2.0)
    else:  # TF-IDF, context and names in one product; no TF-IDF-only top list
        assert space.rest_weighted is not None and cols.rest is not None
        lin += space.rest_weighted[q] @ cols.rest
    art_q = pool.article[q]
    art_sim = pool.art_emb[art_q] @ pool.art_emb.T
    art_sim *= weights["article_encoder"]
    art_names = space.art_names[art_q] @ space.art_names.T
    if sp.issparse(art_names):
        art_names = art_names.toarray()
    art_sim += weights["article_names"] * art_names
    lin += art_sim[:, cols.art]
    del art_sim, art_names
    _add_dates(pool, q, cols.order, lin, weights)
    q_groups = pool.group[q]
    lists: list[tuple[np.ndarray, int, int, float | None]] = [
        (lin, k, FLAG_COMBINED, None),
        (enc, k_single, FLAG_ENCODER, None),
    ]
    if tf is not None:
        lists.append((tf, k_single, FLAG_TFIDF, 0.0))
    for block, _, _, _ in lists:
        _mask_own_groups(block, q_groups, cols.starts, cols.ends)
    rows = np.arange(len(q))[:, None]
    parts_r, parts_c, parts_f = [], [], []
    for block, kk, flag, ok in lists:
        top = _top(block, kk)
        vals = block[rows, top]
        valid = np.isfinite(vals) if ok is None else vals > ok
        parts_r.append(np.broadcast_to(rows, top.shape)[valid])
        parts_c.append(top[valid])
        parts_f.append(np.full(int(valid.sum()), flag, dtype=np.int64))
    cand_rows = np.concatenate(parts_r)
    cand_cols = np.concatenate(parts_c)
    flags = np.concatenate(parts_f)
    if len(cand_rows) == 0:
        return tuple(np.empty(0) for _ in range(5))
    code_pairs = cand_rows * n + cand_cols
    uniq, inverse = np.unique(code_pairs, return_inverse=True)
    merged = np.zeros(len(uniq), dtype=np.int64)
    np.bitwise_or.at(merged, inverse, flags)
    r, c = uniq // n, uniq % n
    enc_vals = enc[r, c].astype(np.float64)
    tf_vals = np.zeros(len(r)) if tf is None else np.maximum(tf[r, c], 0.0).astype(np.float64)
    return q[r], cols.order[c], enc_vals, tf_vals, merged


def _add_dates(
    pool: PreparedPool,
    q: np.ndarray,
    columns: np.ndarray,
    lin: np.ndarray,
    weights: dict[str, np.float32],
) -> None:
    """Add the date terms of the linear score to ``lin`` (rows ``q``, pool columns ``columns``)."""
    lo_c = pool.date_lo[columns].astype(np.float32)
    if not np.isfinite(lo_c).any():
        return
    hi_c = pool.date_hi[columns].astype(np.float32)
    f32 = np.float32
    doy = None
    known = None
    if not pool.year_known.all():
        doy = (
            pool.doy_lo[q].astype(f32)[:, None],
            pool.doy_hi[q].astype(f32)[:, None],
            pool.doy_lo[columns].astype(f32)[None, :],
            pool.doy_hi[columns].astype(f32)[None, :],
        )
        known = pool.year_known[q][:, None] & pool.year_known[columns][None, :]
    lo_q = pool.date_lo[q].astype(f32)[:, None]
    hi_q = pool.date_hi[q].astype(f32)[:, None]
    with np.errstate(invalid="ignore"):
        if doy is None:
            # gap between intervals = max(0, |mid_a - mid_b| - half_a - half_b): 3 passes
            gap = np.subtract((lo_q + hi_q) / 2, ((lo_c + hi_c) / 2)[None, :])
            np.abs(gap, out=gap)
            gap -= ((hi_c - lo_c) / 2)[None, :]
            half_q = (hi_q - lo_q) / 2
            np.add(lin, weights["date_near"], out=lin, where=gap <= DATE_WINDOW_DAYS + half_q)
            np.add(lin, weights["date_far"], out=lin, where=gap > DATE_FAR_DAYS + half_q)
        else:
            gap = interval_gap(lo_q, hi_q, lo_c[None, :], hi_c[None, :], doy, known)
            lin += weights["date_near"] * (gap <= DATE_WINDOW_DAYS)
            lin += weights["date_far"] * (gap > DATE_FAR_DAYS)
