"""The auto-settle rule, on its own: the submit that completes an item calls it inside the
item's transaction, so it must not import numpy or pandas (the rest of the package does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def _canon(v: Any) -> Any:
    """Comparable form: lists and sets compare as sets (multi-select answers; a span
    [start, end] with start < end is unambiguous as a set too); 1 is not True."""
    if isinstance(v, (list, tuple, set, frozenset)):
        return ("set", frozenset(_canon(x) for x in v))
    return (type(v) is bool, v)


def should_auto_settle(
    labels: Sequence[Mapping[str, Any]],
    allow: bool,
    *,
    required: Iterable[str] = ("is_attributed", "verifiability"),
    min_annotators: int = 2,
) -> bool:
    """True only when the project allows auto-settling, at least ``min_annotators``
    annotators labelled the item, and all of them gave the same, present value for every
    required field (multi-select answers compare as sets)."""
    if not allow or len(labels) < max(min_annotators, 2):
        return False
    for name in required:
        values = [lab.get(name) if isinstance(lab, Mapping) else None for lab in labels]
        if any(v is None for v in values):
            return False
        first = _canon(values[0])
        if not all(_canon(v) == first for v in values[1:]):
            return False
    return True
