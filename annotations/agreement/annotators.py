"""Per-annotator figures: items labelled, median seconds per item, agreement with the
co-annotators, with the adjudicated gold and with gold (test) items.

* ``peer_agreement``: share of (field, co-annotator) comparisons on shared items with the
  same answer, pooled over the categorical fields.
* ``gold_agreement``: accuracy against the adjudicated labels, pooled over the categorical
  fields; ``gold_kappa``: mean over fields of Cohen's kappa against them (fields with fewer
  than ``min_overlap`` comparisons left out).
* ``gold_items_agreement`` / ``gold_items_kappa``: the same against gold (test) items.

Missing answers and abstention tokens are not compared. Rates are ``None`` without data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._util import slot_layout
from .encoding import encode_values
from .kappa import DEFAULT_MIN_OVERLAP, _kappa_from_pairs
from .schema import MISSING_TOKENS


def _rate(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    return [float(n / d) if d else None for n, d in zip(num, den, strict=True)]


def _gold_scores(
    ann: np.ndarray,
    codes: np.ndarray,
    gold: np.ndarray,
    n_ann: int,
    n_cat: int,
    min_overlap: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(compared, correct, kappa) per annotator for one field; ``gold`` per row."""
    ok = (codes >= 0) & (gold >= 0)
    compared = np.bincount(ann[ok], minlength=n_ann)
    correct = np.bincount(ann[ok], weights=(codes[ok] == gold[ok]), minlength=n_ann)
    kappa, n = _kappa_from_pairs(ann[ok], codes[ok], gold[ok], n_ann, n_cat)
    kappa = np.where(n >= max(min_overlap, 1), kappa, np.nan)
    return compared, correct, kappa


def annotator_stats_codes(
    item: np.ndarray,
    ann: np.ndarray,
    seconds: np.ndarray,
    fields: Mapping[str, tuple[np.ndarray, int]],
    names: Sequence[Any],
    *,
    gold: Mapping[str, np.ndarray] | None = None,
    gold_items: Mapping[str, np.ndarray] | None = None,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
) -> list[dict[str, Any]]:
    """Array form. ``fields[f] = (codes per row, number of categories)``; ``gold[f]`` and
    ``gold_items[f]`` hold a code per item index (−1 = none) in the same code space."""
    A = len(names)
    n_items = int(item.max()) + 1 if item.size else 0
    items = np.bincount(ann, minlength=A)
    secs = pd.Series(np.asarray(seconds, dtype=np.float64)).groupby(ann).median()
    median = np.full(A, np.nan)
    median[secs.index.to_numpy()] = secs.to_numpy()
    slot, n_slots = slot_layout(item, n_items)
    peer_n = np.zeros(A)
    peer_ok = np.zeros(A)
    # compared, correct, per-field kappas
    sums: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {
        key: (np.zeros(A), np.zeros(A), []) for key in ("gold", "gold_items")
    }
    for name, (codes, n_cat) in fields.items():
        ann_s = np.full((n_slots, n_items), -1, dtype=np.int64)
        cod_s = np.full((n_slots, n_items), -1, dtype=np.int64)
        ann_s[slot, item] = ann
        cod_s[slot, item] = codes
        for i in range(n_slots):
            for j in range(i + 1, n_slots):
                ok = (cod_s[i] >= 0) & (cod_s[j] >= 0)
                same = (cod_s[i, ok] == cod_s[j, ok]).astype(np.float64)
                for who in (ann_s[i, ok], ann_s[j, ok]):
                    peer_n += np.bincount(who, minlength=A)
                    peer_ok += np.bincount(who, weights=same, minlength=A)
        for key, table in (("gold", gold), ("gold_items", gold_items)):
            if table is None or name not in table:
                continue
            compared, correct, kappa = _gold_scores(
                ann, codes, table[name][item], A, n_cat, min_overlap
            )
            sums[key][0][:] += compared
            sums[key][1][:] += correct
            sums[key][2].append(kappa)
    out = []
    for a in range(A):
        row: dict[str, Any] = {
            "annotator": names[a],
            "items": int(items[a]),
            "median_seconds": None if np.isnan(median[a]) else float(median[a]),
            "peer_agreement": _rate(peer_ok[a : a + 1], peer_n[a : a + 1])[0],
            "peer_comparisons": int(peer_n[a]),
        }
        for key in ("gold", "gold_items"):
            compared, correct, kappas = sums[key]
            row[f"{key}_agreement"] = _rate(correct[a : a + 1], compared[a : a + 1])[0]
            vals = [k[a] for k in kappas if np.isfinite(k[a])]
            row[f"{key}_kappa"] = float(np.mean(vals)) if vals else None
            row[f"{key}_compared"] = int(compared[a])
        out.append(row)
    return out


def annotator_stats(
    annotators: Sequence[Any],
    items: Sequence[Any],
    seconds: Sequence[float | None],
    labels: Mapping[str, Sequence[Any]],
    *,
    gold: Mapping[Any, Mapping[str, Any]] | None = None,
    gold_items: Mapping[Any, Mapping[str, Any]] | None = None,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
) -> list[dict[str, Any]]:
    """Per-annotator figures from parallel sequences (one entry per (item, annotator)
    record); ``labels[field]`` holds each record's answer for a categorical field;
    ``gold`` / ``gold_items`` map item → {field: value}."""
    ann, names = pd.factorize(pd.Series(list(annotators), dtype=object))
    item, item_ids = pd.factorize(pd.Series(list(items), dtype=object))
    secs = np.array([np.nan if s is None else float(s) for s in seconds])
    fields: dict[str, tuple[np.ndarray, int]] = {}
    golds: dict[str, dict[str, np.ndarray]] = {"gold": {}, "gold_items": {}}
    n = len(ann)
    for name, values in labels.items():
        extra: list[Any] = []
        for table in (gold, gold_items):
            extra.extend(
                (table.get(i) or {}).get(name) if table is not None else None for i in item_ids
            )
        enc = encode_values(list(values) + extra, "nominal", missing_tokens=missing_tokens)
        fields[name] = (enc.codes[:n], len(enc.domain))
        m = len(item_ids)
        if gold is not None:
            golds["gold"][name] = enc.codes[n : n + m]
        if gold_items is not None:
            golds["gold_items"][name] = enc.codes[n + m : n + 2 * m]
    return annotator_stats_codes(
        np.asarray(item, dtype=np.int64),
        np.asarray(ann, dtype=np.int64),
        secs,
        fields,
        list(names),
        gold=golds["gold"] if gold is not None else None,
        gold_items=golds["gold_items"] if gold_items is not None else None,
        min_overlap=min_overlap,
    )
