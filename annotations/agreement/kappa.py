"""Cohen's kappa (nominal), for one pair of annotators and as a pairwise matrix.

``kappa = (p_o − p_e) / (1 − p_e)`` over the items both annotators labelled (missing values
and abstention tokens are left out), ``p_e`` from each annotator's own marginals — the same
as ``sklearn.metrics.cohen_kappa_score``. When ``p_e = 1`` both annotators used one and the
same category throughout, so they agree fully: kappa = 1.0 (sklearn returns NaN). Pairs
with fewer than ``min_overlap`` shared items get NaN (``None`` in JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._util import slot_layout
from .alpha import _matrix_cells
from .encoding import encode_values
from .schema import MISSING_TOKENS

DEFAULT_MIN_OVERLAP = 10


@dataclass(frozen=True)
class KappaMatrix:
    annotators: list[Any]
    matrix: np.ndarray  # float, NaN where the overlap is too small; 1.0 on the diagonal
    overlap: np.ndarray  # int, items both labelled

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotators": list(self.annotators),
            "matrix": [[None if np.isnan(v) else float(v) for v in row] for row in self.matrix],
            "overlap": self.overlap.tolist(),
        }


def cohen_kappa(
    a: Sequence[Any], b: Sequence[Any], *, missing_tokens: Iterable[str] = MISSING_TOKENS
) -> float:
    """Kappa between two label sequences over the positions where both have a value."""
    if len(a) != len(b):
        raise ValueError("both annotators need one cell per item")
    enc = encode_values(list(a) + list(b), "nominal", missing_tokens=missing_tokens)
    ca, cb = enc.codes[: len(a)], enc.codes[len(a) :]
    both = (ca >= 0) & (cb >= 0)
    k, _ = _kappa_from_pairs(
        np.zeros(int(both.sum()), dtype=np.int64), ca[both], cb[both], 1, len(enc.domain)
    )
    return float(k[0]) if k.size else float("nan")


def _kappa_from_pairs(
    pair: np.ndarray, ca: np.ndarray, cb: np.ndarray, n_pairs: int, n_cat: int
) -> tuple[np.ndarray, np.ndarray]:
    """Kappa for each pair id given rows (pair id, code of first, code of second)."""
    n = np.bincount(pair, minlength=n_pairs).astype(np.float64)
    agree = np.bincount(pair, weights=(ca == cb).astype(np.float64), minlength=n_pairs)
    v = max(n_cat, 1)
    ma = np.bincount(pair * v + ca, minlength=n_pairs * v).reshape(n_pairs, v)
    mb = np.bincount(pair * v + cb, minlength=n_pairs * v).reshape(n_pairs, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        po = agree / n
        pe = (ma.astype(np.float64) * mb).sum(axis=1) / (n * n)
        k = np.where(pe < 1.0, (po - pe) / (1.0 - pe), 1.0)
    k[n == 0] = np.nan
    return k, n.astype(np.int64)


def pairwise_kappa_codes(
    item: np.ndarray,
    annotator: np.ndarray,
    code: np.ndarray,
    n_annotators: int,
    n_categories: int,
    *,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    layout: tuple[np.ndarray, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(kappa matrix, overlap matrix) from long rows (item index, annotator index, code;
    codes < 0 are missing). ``layout`` = :func:`slot_layout` of ``item`` if known."""
    item = np.asarray(item, dtype=np.int64)
    annotator = np.asarray(annotator, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    A = n_annotators
    V = max(n_categories, 1)
    mat = np.full((A, A), np.nan)
    over = np.zeros((A, A), dtype=np.int64)
    if item.size:
        n_items = int(item.max()) + 1
        slot, n_slots = layout if layout is not None else slot_layout(item, n_items)
        ann = np.full((n_slots, n_items), -1, dtype=np.int64)
        cod = np.full((n_slots, n_items), -1, dtype=np.int64)
        ann[slot, item] = annotator
        cod[slot, item] = np.where(code >= 0, code, -1)
        pa, pb, ca, cb = [], [], [], []
        for i in range(n_slots):
            for j in range(i + 1, n_slots):
                ok = (cod[i] >= 0) & (cod[j] >= 0) & (ann[i] != ann[j])
                a1, a2, c1, c2 = ann[i, ok], ann[j, ok], cod[i, ok], cod[j, ok]
                swap = a1 > a2
                pa.append(np.where(swap, a2, a1))
                pb.append(np.where(swap, a1, a2))
                ca.append(np.where(swap, c2, c1))
                cb.append(np.where(swap, c1, c2))
        if pa:
            lo, hi = np.concatenate(pa), np.concatenate(pb)
            c_lo, c_hi = np.concatenate(ca), np.concatenate(cb)
            key = lo * A + hi
            if A * A * V <= 20_000_000:  # pair ids straight from the annotator indices
                keys = np.arange(A * A)
                pair = key
            else:
                keys, pair = np.unique(key, return_inverse=True)
            k, n = _kappa_from_pairs(pair.reshape(-1), c_lo, c_hi, keys.size, V)
            seen = n > 0
            keys, k, n = keys[seen], k[seen], n[seen]
            r, c = keys // A, keys % A
            over[r, c] = over[c, r] = n
            k = np.where(n >= min_overlap, k, np.nan)
            mat[r, c] = mat[c, r] = k
    labelled = np.bincount(annotator[code >= 0], minlength=A)
    np.fill_diagonal(over, labelled)
    mat[np.arange(A), np.arange(A)] = np.where(labelled >= max(min_overlap, 1), 1.0, np.nan)
    return mat, over


def pairwise_kappa(
    reliability_data: Any,
    *,
    annotators: Sequence[Any] | None = None,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
) -> KappaMatrix:
    """Pairwise Cohen's kappa between the rows (annotators) of an annotators × items
    matrix, each over the items both labelled."""
    cells, r, c = _matrix_cells(reliability_data)
    enc = encode_values(cells, "nominal", missing_tokens=missing_tokens)
    codes = enc.codes.reshape(r, c)
    ann_idx, item_idx = np.nonzero(codes >= 0)
    mat, over = pairwise_kappa_codes(
        item_idx, ann_idx, codes[ann_idx, item_idx], r, len(enc.domain), min_overlap=min_overlap
    )
    names = list(annotators) if annotators is not None else list(range(r))
    return KappaMatrix(names, mat, over)
