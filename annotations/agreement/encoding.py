"""Labels → integer codes. Missing (None, NaN) → −1; abstention tokens (``cannot_judge``,
``n/a``, ``unsure`` by default) → −2 − token index; every other value → its index in the
field's domain (ordinal: in the given order; multi-select answers: frozensets)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .schema import MISSING_TOKENS

LEVELS = ("nominal", "ordinal", "interval", "masi", "jaccard")
SET_LEVELS = ("masi", "jaccard")


@dataclass
class Encoded:
    """Integer codes for one field. ``codes`` ≥ 0 index ``domain``; −1 = no value;
    −2 − t = the abstention token ``tokens[t]``."""

    codes: np.ndarray
    domain: list[Any]
    numeric: np.ndarray | None
    tokens: list[str]
    level: str


def _sort_key(v: Any) -> tuple[Any, ...]:
    if isinstance(v, frozenset):
        return (len(v), sorted(map(str, v)))
    if isinstance(v, bool):
        return (0, int(v), "")
    if isinstance(v, (int, float, np.number)):
        return (1, float(v), "")
    return (2, 0.0, str(v))


def _object_array(values: Iterable[Any]) -> np.ndarray:
    seq = values if isinstance(values, (list, tuple)) else list(values)
    return np.fromiter(seq, dtype=object, count=len(seq))


def encode_values(
    values: Iterable[Any] | np.ndarray,
    level: str = "nominal",
    *,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
    value_domain: Sequence[Any] | None = None,
    strict: bool = True,
) -> Encoded:
    """Encode a flat sequence of labels (see :class:`Encoded`). An ordinal
    ``value_domain`` fixes the order; values outside it raise, or with ``strict=False``
    count as missing."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    tokens_set = frozenset(missing_tokens)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb" and level not in SET_LEVELS:
        return _encode_numeric(values.ravel(), level, value_domain, strict)
    obj = values.ravel() if isinstance(values, np.ndarray) else _object_array(values)
    if level in SET_LEVELS:
        present = np.flatnonzero(~pd.isna(obj))
        sets = np.full(obj.size, None, dtype=object)
        sets[present] = _object_array(
            v
            if isinstance(v, str) and v in tokens_set
            else frozenset(v)
            if isinstance(v, (list, tuple, set, frozenset))
            else frozenset((v,))
            for v in obj[present]
        )
        obj = sets
    try:
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists) in a non-set field: compare them as tuples
        obj = _object_array(tuple(v) if isinstance(v, list) else v for v in obj)
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    uniques = list(uniques)
    tokens = sorted({u for u in uniques if isinstance(u, str) and u in tokens_set})
    kept = [u for u in uniques if not (isinstance(u, str) and u in tokens_set)]
    if level == "ordinal" and value_domain is not None:
        order = [v for v in value_domain if not (isinstance(v, str) and v in tokens_set)]
        pos = {value_key(v): i for i, v in enumerate(order)}
        bad = [u for u in kept if value_key(u) not in pos]
        if bad and strict:
            raise ValueError(f"values outside the ordinal domain: {bad[:5]!r}")
        domain = order
    else:
        if level in ("ordinal", "interval") and not all(
            isinstance(u, (int, float, np.number)) for u in kept
        ):
            raise ValueError(f"{level} data needs numbers or an ordered value_domain")
        domain = sorted(kept, key=_sort_key)
        pos = {value_key(v): i for i, v in enumerate(domain)}
    remap = np.empty(len(uniques) + 1, dtype=np.int64)
    remap[-1] = -1  # factorize's NA sentinel indexes the last slot
    for i, u in enumerate(uniques):
        if isinstance(u, str) and u in tokens_set:
            remap[i] = -2 - tokens.index(u)
        else:
            remap[i] = pos.get(value_key(u), -1)
    out = remap[np.asarray(codes, dtype=np.int64)]
    numeric = None
    if level in ("ordinal", "interval") and all(
        isinstance(v, (int, float, np.number)) for v in domain
    ):
        numeric = np.asarray(domain, dtype=np.float64)
    return Encoded(out, list(domain), numeric, tokens, level)


def value_key(v: Any) -> Any:
    """Dictionary key for a label: 1 and True hash alike, keep them apart."""
    return (type(v) is bool, v)


def _encode_numeric(
    arr: np.ndarray, level: str, value_domain: Sequence[Any] | None, strict: bool = True
) -> Encoded:
    mask = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
    uniq, inv = np.unique(arr[~mask], return_inverse=True)
    codes = np.full(arr.shape, -1, dtype=np.int64)
    if level == "ordinal" and value_domain is not None:
        order = list(value_domain)
        lookup = {float(v): i for i, v in enumerate(order)}
        perm = np.array([lookup.get(float(u), -1) for u in uniq], dtype=np.int64)
        if strict and (perm < 0).any():
            raise ValueError(f"values outside the ordinal domain: {uniq[perm < 0][:5]!r}")
        codes[~mask] = perm[inv.ravel()] if perm.size else inv.ravel()
        domain = order
    else:
        codes[~mask] = inv.ravel()
        domain = uniq.tolist()
    numeric = np.asarray(domain, dtype=np.float64) if level in ("ordinal", "interval") else None
    return Encoded(codes, domain, numeric, [], level)
