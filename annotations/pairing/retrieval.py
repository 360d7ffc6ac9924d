"""Blocked all-pairs retrieval: the best columns of every query row, without an n² loop.

Columns (pool claims) are sorted by outlet group, so "not the query's own outlet" is one
slice per run of same-group rows. Queries are processed per language and in blocks of
rows sized so a block holds about :data:`BLOCK_CELLS` cells. For each block:

* ``enc`` = query vectors @ pool vectors (dense BLAS product, any language);
* ``tf`` = query TF-IDF rows @ TF-IDF rows of the same language (sparse product, scattered
  into the block);
* ``lin`` = the logistic model's linear score without its small terms: encoder and
  TF-IDF cosines, shared rare names (sparse product) and date near / far, with the
  calibrated weights;

and three top lists are taken with ``argpartition``: the ``k`` best by ``lin`` and
``k_single`` best by ``enc`` and by ``tf`` alone. Their union goes to exact scoring.
"""

from __future__ import annotations

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


def retrieve_pairs(
    pool: PreparedPool, queries: np.ndarray, k: int, k_single: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j, encoder cosine, tfidf cosine, flags)`` for ``queries``.

    ``i`` holds pool indices of queries and ``j`` of candidates; each (i, j) occurs once;
    ``flags`` is a bit set of FLAG_ENCODER, FLAG_TFIDF and FLAG_COMBINED.
    """
    k_single = k if k_single is None else k_single
    weights = dict(zip(FEATURE_NAMES, calibration.COEFFICIENTS, strict=True))
    n = pool.n
    n_groups = int(pool.group.max()) + 1 if n else 0
    order = np.argsort(pool.group, kind="stable")
    starts, ends = _group_ranges(pool.group[order], n_groups)
    emb_cols = pool.emb[order]
    lang_cols = pool.lang[order]
    lo_cols = pool.date_lo[order].astype(np.float32)
    hi_cols = pool.date_hi[order].astype(np.float32)
    has_dates = bool(np.isfinite(lo_cols).any())
    names = _retrieval_names(pool)
    names_cols_t = names[order].T.tocsr()
    out: list[tuple[np.ndarray, ...]] = []
    queries = np.asarray(queries, dtype=np.int64)
    rows_per_block = max(16, BLOCK_CELLS // max(n, 1))
    for code in pool.lang_rows:
        q_lang = queries[pool.lang[queries] == code]
        if len(q_lang) == 0:
            continue
        q_lang = q_lang[np.argsort(pool.group[q_lang], kind="stable")]
        tf_matrix = pool.tfidf[code]
        tf_pos = np.flatnonzero(lang_cols == code)  # block columns of this language
        tf_cols_t = tf_matrix[pool.lang_pos[order[tf_pos]]].T.tocsr()
        for b0 in range(0, len(q_lang), rows_per_block):
            q = q_lang[b0 : b0 + rows_per_block]
            out.append(
                _block(pool, q, order, starts, ends, emb_cols, lo_cols, hi_cols,
                       has_dates, names, names_cols_t, tf_matrix, tf_pos, tf_cols_t, weights, k,
                       k_single)
            )  # fmt: skip
    out = [part for part in out if len(part[0])]
    if not out:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=np.float64)
        return empty_i, empty_i, empty_f, empty_f, empty_i
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def _block(
    pool: PreparedPool,
    q: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    emb_cols: np.ndarray,
    lo_cols: np.ndarray,
    hi_cols: np.ndarray,
    has_dates: bool,
    names: sp.csr_matrix,
    names_cols_t: sp.csr_matrix,
    tf_matrix: sp.csr_matrix,
    tf_pos: np.ndarray,
    tf_cols_t: sp.csr_matrix,
    weights: dict[str, float],
    k: int,
    k_single: int,
) -> tuple[np.ndarray, ...]:
    n = pool.n
    q_groups = pool.group[q]
    enc = pool.emb[q] @ emb_cols.T
    tf = np.zeros_like(enc)
    tf[:, tf_pos] = (tf_matrix[pool.lang_pos[q]] @ tf_cols_t).toarray()
    lin = enc * np.float32(weights["encoder"])
    lin += tf * np.float32(weights["tfidf"])
    if names.shape[1]:
        shared = (names[q] @ names_cols_t).tocoo()
        lin[shared.row, shared.col] += np.float32(weights["names"]) * np.minimum(shared.data, 2.0)
    art_q = pool.article[q]
    art_c = pool.article[order]
    art_sim = pool.art_emb[art_q] @ pool.art_emb.T
    art_sim *= np.float32(weights["article_encoder"])
    art_sim += (
        np.float32(weights["article_names"]) * (pool.art_names[art_q] @ pool.art_names.T).toarray()
    )
    lin += art_sim[:, art_c]
    del art_sim
    ctx = pool.ctx_emb[q] @ pool.ctx_emb[order].T
    ctx *= np.float32(weights["context_encoder"])
    lin += ctx
    del ctx
    if has_dates:
        cols = order
        f32 = np.float32
        doy = None
        known = None
        if not pool.year_known.all():
            doy = (
                pool.doy_lo[q].astype(f32)[:, None],
                pool.doy_hi[q].astype(f32)[:, None],
                pool.doy_lo[cols].astype(f32)[None, :],
                pool.doy_hi[cols].astype(f32)[None, :],
            )
            known = pool.year_known[q][:, None] & pool.year_known[cols][None, :]
        lo_q = pool.date_lo[q].astype(f32)[:, None]
        hi_q = pool.date_hi[q].astype(f32)[:, None]
        gap = interval_gap(lo_q, hi_q, lo_cols[None, :], hi_cols[None, :], doy, known)
        with np.errstate(invalid="ignore"):
            lin += np.float32(weights["date_near"]) * (gap <= DATE_WINDOW_DAYS)
            lin += np.float32(weights["date_far"]) * (gap > DATE_FAR_DAYS)
        del gap
    for block in (enc, tf, lin):
        _mask_own_groups(block, q_groups, starts, ends)
    rows = np.arange(len(q))[:, None]
    parts_r, parts_c, parts_f = [], [], []
    for block, kk, flag, ok in (
        (lin, k, FLAG_COMBINED, None),
        (enc, k_single, FLAG_ENCODER, None),
        (tf, k_single, FLAG_TFIDF, 0.0),
    ):
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
    tf_vals = np.maximum(tf[r, c], 0.0).astype(np.float64)
    return q[r], order[c], enc_vals, tf_vals, merged
