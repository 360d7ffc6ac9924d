"""Partitioned retrieval for large pools: an inverted file over k-means cells, in numpy.

The compressed space's full scan (:mod:`annotations.pairing.retrieval`) scores every
query against every claim: ``n**2`` cells, 10**10 at 100,000 claims, which is most of the
time of a 100k run. Above :data:`PARTITION_MIN_CLAIMS` claims the scan is partitioned:

1. **Cells.** Each claim's partition vector is its compressed sentence and context
   vectors side by side, scaled to unit length. Spherical k-means (fixed seed, fitted on
   a sample of :data:`KMEANS_SAMPLE` claims, :data:`KMEANS_ITERATIONS` rounds) gives
   about ``sqrt(n)`` centroids; every claim goes to its nearest one.
2. **Probes.** A query visits the :data:`PROBES` cells whose centroids are nearest to
   its own partition vector.
3. **Scoring.** For each cell, the queries visiting it are scored against its members in
   one product, with the full scan's linear score (sentence vector, TF-IDF sketch,
   context, names sketch, article vector and names, dates) and the same rule against the
   query's own outlet group. Per query and cell the ``k`` best by that score and the
   ``k_single`` best by sentence vector alone are kept; the lists of a query's cells are
   then merged into its top ``k`` and ``k_single``.

The work is about ``PROBES / sqrt(n)`` of the full scan (5% at 100k claims) plus the
k-means (seconds). Only *which* pairs are retrieved is approximate; their scores are
recomputed exactly afterwards. A pair is missed when the candidate sits in a cell the
query does not visit, that is when both its sentence and its context vectors are far
from the query's; ``bench/pairs.py`` prints the share of the full scan's candidates the
partitioned search finds, and ``tests/pairing/test_quality.py`` runs the probe set
through it with tiny cells.

Everything depends on the pool only (the sample and the initial centroids come from a
fixed seed), so a query's candidates are the same whichever other queries are searched
with it: incremental runs give the full run's lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from annotations.pairing.features import PreparedPool

#: Pools of at least this many claims are searched by cells (below: full scan).
PARTITION_MIN_CLAIMS = 20_000
#: Cells each query visits.
PROBES = 16
#: Claims the k-means is fitted on, and its rounds.
KMEANS_SAMPLE = 20_000
KMEANS_ITERATIONS = 8
#: Queries handled together (their per-cell lists are merged before the next chunk).
QUERY_CHUNK = 16_384
_SEED = 23

#: ``score_cell(queries, columns)`` -> (linear score, sentence cosine), both
#: ``(len(queries), len(columns))`` float32 arrays the caller may overwrite.
ScoreFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def _nearest(vectors: np.ndarray, centroids: np.ndarray, chunk: int = 8192) -> np.ndarray:
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        out[start : start + chunk] = np.argmax(vectors[start : start + chunk] @ centroids.T, 1)
    return out


def kmeans(vectors: np.ndarray, n_cells: int, seed: int = _SEED) -> np.ndarray:
    """Unit centroids of spherical k-means on unit ``vectors`` (deterministic)."""
    n = len(vectors)
    n_cells = max(1, min(n_cells, n))
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, KMEANS_SAMPLE), replace=False))]
    centroids = sample[np.sort(rng.choice(len(sample), n_cells, replace=False))].copy()
    for _ in range(KMEANS_ITERATIONS):
        assign = _nearest(sample, centroids)
        member = sp.csr_matrix(
            (np.ones(len(sample), dtype=np.float32), (assign, np.arange(len(sample)))),
            shape=(n_cells, len(sample)),
        )
        sums = np.asarray(member @ sample)
        empty = np.asarray(member.sum(axis=1)).ravel() == 0
        sums[empty] = centroids[empty]  # a cell that lost its members keeps its centroid
        centroids = _unit(sums)
    return centroids


@dataclass
class Partition:
    centroids: np.ndarray  # (cells, d) unit rows
    members: list[np.ndarray]  # pool indices of each cell, ascending
    vectors: np.ndarray  # (n, d) unit partition vectors


def partition(enc: np.ndarray, ctx: np.ndarray) -> Partition:
    """Cells of a pool from its compressed sentence and context vectors."""
    vectors = _unit(np.hstack([enc, ctx]))
    n_cells = max(1, round(math.sqrt(len(vectors))))
    centroids = kmeans(vectors, n_cells)
    cell = _nearest(vectors, centroids)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(centroids) + 1))
    members = [order[bounds[c] : bounds[c + 1]] for c in range(len(centroids))]
    return Partition(centroids, members, vectors)


class _Best:
    """Running top ``k`` (value, column) per query of a chunk."""

    def __init__(self, rows: int, k: int) -> None:
        self.val = np.full((rows, k), -np.inf, dtype=np.float32)
        self.col = np.full((rows, k), -1, dtype=np.int64)

    def offer(self, local: np.ndarray, vals: np.ndarray, cols: np.ndarray) -> None:
        """Merge candidates ``(vals, cols)`` (one row per ``local`` query) into the lists."""
        k = self.val.shape[1]
        both_v = np.hstack([self.val[local], vals])
        both_c = np.hstack([self.col[local], cols])
        if both_v.shape[1] > k:
            # ties: the smaller column wins, so the result does not depend on cell order
            keyed = both_v.astype(np.float64) - both_c * 1e-12
            top = np.argpartition(-keyed, k - 1, axis=1)[:, :k]
            both_v = np.take_along_axis(both_v, top, axis=1)
            both_c = np.take_along_axis(both_c, top, axis=1)
        self.val[local] = both_v
        self.col[local] = both_c

    def pairs(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = np.isfinite(self.val) & (self.col >= 0)
        return np.broadcast_to(chunk[:, None], ok.shape)[ok], self.col[ok]


def search(
    pool: PreparedPool,
    part: Partition,
    queries: np.ndarray,
    score_cell: ScoreFn,
    k: int,
    k_single: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(lin_i, lin_j, enc_i, enc_j)``: per query its top ``k`` by the linear score and
    top ``k_single`` by sentence vector over the cells it visits (own group excluded)."""
    probes = min(PROBES, len(part.centroids))
    out: list[tuple[np.ndarray, ...]] = []
    for start in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[start : start + QUERY_CHUNK]
        near = part.vectors[chunk] @ part.centroids.T
        visits = (
            np.argpartition(-near, probes - 1, axis=1)[:, :probes]
            if probes < near.shape[1]
            else np.broadcast_to(np.arange(near.shape[1]), near.shape)
        )
        rows = np.repeat(np.arange(len(chunk)), visits.shape[1])
        cells = visits.ravel()
        by_cell = np.argsort(cells, kind="stable")
        bounds = np.searchsorted(cells[by_cell], np.arange(len(part.centroids) + 1))
        best_lin, best_enc = _Best(len(chunk), k), _Best(len(chunk), k_single)
        for cell in range(len(part.centroids)):
            cols = part.members[cell]
            local = rows[by_cell[bounds[cell] : bounds[cell + 1]]]
            if len(local) == 0 or len(cols) == 0:
                continue
            qs = chunk[local]
            lin, enc = score_cell(qs, cols)
            own = pool.group[qs][:, None] == pool.group[cols][None, :]
            lin[own] = -np.inf
            enc[own] = -np.inf
            for block, best in ((lin, best_lin), (enc, best_enc)):
                kk = best.val.shape[1]
                top = (
                    np.argpartition(-block, kk - 1, axis=1)[:, :kk]
                    if kk < block.shape[1]
                    else np.broadcast_to(np.arange(block.shape[1]), block.shape)
                )
                best.offer(local, np.take_along_axis(block, top, axis=1), cols[top])
        out.append((*best_lin.pairs(chunk), *best_enc.pairs(chunk)))
    if not out:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty, empty
    return tuple(np.concatenate(p) for p in zip(*out, strict=True))  # type: ignore[return-value]
