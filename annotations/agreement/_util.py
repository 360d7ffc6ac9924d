"""Small shared helpers: JSON-safe conversion and the item × slot layout."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def json_safe(obj: Any) -> Any:
    """Plain JSON types only: numpy scalars unwrapped, NaN/inf → None, tuples and sets →
    lists (sets sorted), mapping keys → str."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        return sorted((json_safe(v) for v in obj), key=lambda v: (str(type(v)), str(v)))
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return str(obj)


def rounded(x: float | None, digits: int = 6) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def slot_layout(item_idx: np.ndarray, n_items: int) -> tuple[np.ndarray, int]:
    """Rank of each row among the rows of its item (0, 1, 2, … in row order) and the
    largest number of rows of any item. Rows of one item become its "slots"."""
    item_idx = np.asarray(item_idx, dtype=np.int64)
    if item_idx.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    order = np.argsort(item_idx, kind="stable")
    sorted_items = item_idx[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_items)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, sorted_items.size]))
    rank = np.empty_like(item_idx)
    rank[order] = np.arange(sorted_items.size) - starts
    return rank, int(rank.max()) + 1


def to_slots(
    item_idx: np.ndarray,
    slot: np.ndarray,
    n_slots: int,
    n_items: int,
    values: np.ndarray,
    fill: int = -1,
) -> np.ndarray:
    """Scatter per-row ``values`` into an (n_slots × n_items) matrix."""
    out = np.full((max(n_slots, 1), n_items), fill, dtype=values.dtype)
    out[slot, item_idx] = values
    return out
