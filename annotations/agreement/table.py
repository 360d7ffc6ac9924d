"""Records → columns: every field of the schema encoded once (gates applied, abstentions
split out, spans parsed and tokenised), and the per-section computations of the report.

Records: ``{"item", "annotator", "labels": {field: value}, "seconds"?, "text"?,
"language"?, "outlet"?, "schema_version"?}``; one per (item, annotator) — a repeated pair
keeps its last record. A field absent from a record's labels is missing, except span
fields, where it means "no span marked".

Conditional fields: an annotator's answer to a gated field counts only where the gate holds
for that annotator (on the gate field's own effective value, so gates chain: relation needs
same_event = same, conflict_aspects needs relation = disagree). Alpha is computed over the
units where the gate holds for ≥ 2 annotators; ``coverage`` = those units / units labelled
by ≥ 2 annotators. ``missing_rate`` = answers that are absent or abstentions / records
where the field applies; ``abstain_rates`` splits out each abstention token.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._util import rounded, slot_layout
from .aggregation import (
    DS_ITER,
    DS_SMOOTHING,
    FIT_ITEMS,
    MACE_ITER,
    FieldAggregate,
    aggregate_codes,
    review_uncertainty,
)
from .alpha import FieldAlpha
from .annotators import annotator_stats_codes
from .encoding import Encoded, encode_values, value_key
from .kappa import DEFAULT_MIN_OVERLAP, pairwise_kappa_codes
from .schema import FieldSpec, normalize_schema
from .spans import parse_span, span_pairs_f1, span_token_ranges

SLICE_KEYS = ("language", "outlet", "schema_version")


def _objects(values: Any) -> np.ndarray:
    """1-D object array of ``values`` (lists stay list objects)."""
    seq = values if isinstance(values, (list, tuple)) else list(values)
    return np.fromiter(seq, dtype=object, count=len(seq))


def _parse_spans(obj: np.ndarray, applies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, usable) per row; ``None`` in an applicable row = no span (empty)."""
    n = obj.size
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    ok = applies.copy()
    idx = np.flatnonzero(applies & (obj != None))  # noqa: E711 - elementwise
    if idx.size:
        try:  # the common case: every answer is [start, end] of ints
            arr = np.array(obj[idx].tolist())
            fast = arr.ndim == 2 and arr.shape[1] == 2 and arr.dtype.kind in "iu"
        except (ValueError, TypeError):
            fast = False
        if fast:
            s, e = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
            good = (s >= 0) & (e >= s)
            nonempty = good & (e > s)
            start[idx] = np.where(nonempty, s, 0)
            end[idx] = np.where(nonempty, e, 0)
            ok[idx] = good
        else:
            for i in idx:
                p = parse_span(obj[i])
                if p is None:
                    ok[i] = False
                else:
                    start[i], end[i] = p
    return start, end, ok


@dataclass
class FieldState:
    spec: FieldSpec
    applies: np.ndarray  # per row: labelled and the gate holds
    codes: np.ndarray | None = None  # per row (alpha fields); −1 none, ≤ −2 abstention
    enc: Encoded | None = None
    gold: dict[str, np.ndarray] = field(default_factory=dict)  # per item codes
    alpha: FieldAlpha | None = None
    spans: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # start, end, usable
    tokens: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # first, last, tokenised
    per_item: dict[str, np.ndarray] = field(default_factory=dict)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building columns from a million records
    allocates millions of small objects, and each generation-2 pass would walk all the
    records again (3× slower in measurements). Cycles created meanwhile are collected
    once the collector resumes."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_RECORD_KEYS = ("item", "annotator", "seconds", "text")
_NO_LABELS: Mapping[str, Any] = {}


class LabelTable:
    """Columnar form of the records, with every field encoded once."""

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]],
        schema: Any = None,
        *,
        kind: str = "claim",
        texts: Mapping[Any, str | None] | None = None,
        gold: Mapping[Any, Mapping[str, Any]] | None = None,
        gold_items: Mapping[Any, Mapping[str, Any]] | None = None,
        slice_keys: Sequence[str] = SLICE_KEYS,
    ) -> None:
        with gc_paused():
            self._build(records, schema, kind, texts, gold, gold_items, slice_keys)

    def _build(
        self,
        records: Iterable[Mapping[str, Any]],
        schema: Any,
        kind: str,
        texts: Mapping[Any, str | None] | None,
        gold: Mapping[Any, Mapping[str, Any]] | None,
        gold_items: Mapping[Any, Mapping[str, Any]] | None,
        slice_keys: Sequence[str],
    ) -> None:
        self.specs = normalize_schema(schema, kind)
        keys = _RECORD_KEYS + tuple(k for k in slice_keys if k not in _RECORD_KEYS)
        names = [s.name for s in self.specs]
        no = _NO_LABELS
        # one pass: the record's own keys, then every schema field of its labels
        rows = [(*map(r.get, keys), *map((r.get("labels") or no).get, names)) for r in records]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in (*keys, *names)]
        del rows
        cols: dict[str, Sequence[Any]] = {k: columns[i] for i, k in enumerate(keys)}
        label_cols: dict[str, Sequence[Any]] = {
            n: columns[len(keys) + i] for i, n in enumerate(names)
        }
        del columns
        if any(v is None for v in cols["item"]) or any(v is None for v in cols["annotator"]):
            raise ValueError("every record needs an 'item' and an 'annotator'")
        item, items = pd.factorize(_objects(cols["item"]))
        ann, anns = pd.factorize(_objects(cols["annotator"]))
        item = np.asarray(item, dtype=np.int64)
        ann = np.asarray(ann, dtype=np.int64)
        # one record per (item, annotator): keep the last
        key = item * max(len(anns), 1) + ann
        _, last_rev = np.unique(key[::-1], return_index=True)
        keep = np.sort(key.size - 1 - last_rev)
        self.n_duplicates = int(key.size - keep.size)
        if self.n_duplicates:
            cols = {k: [v[i] for i in keep] for k, v in cols.items()}
            label_cols = {k: [v[i] for i in keep] for k, v in label_cols.items()}
            item, ann = item[keep], ann[keep]
        self.items: list[Any] = list(items)
        self.annotators: list[Any] = list(anns)
        self.item, self.ann = item, ann
        self.n_items, self.n_rows = len(self.items), int(item.size)
        self.seconds = pd.to_numeric(_objects(cols["seconds"]), errors="coerce").astype(float)
        _, first = np.unique(item, return_index=True)  # first row of each item
        self.slices: dict[str, np.ndarray] = {}
        for k in slice_keys:
            col = _objects(cols[k])
            if (col != None).any():  # noqa: E711 - elementwise
                self.slices[k] = col[first]
        text_col = _objects(cols["text"])[first]
        if texts is not None:
            text_col = _objects(
                [texts.get(it, t) for it, t in zip(self.items, text_col, strict=True)]
            )
        self.texts: list[str | None] = text_col.tolist()
        self.has_texts = bool((text_col != None).any())  # noqa: E711
        self.slot, self.n_slots = slot_layout(item, self.n_items)
        self.multi_items = np.bincount(item, minlength=self.n_items) >= 2
        self._item_pos: dict[Any, int] | None = None
        del cols
        self.fields: dict[str, FieldState] = {}
        for spec in self.specs:
            self.fields[spec.name] = self._encode_field(
                spec, label_cols.pop(spec.name), gold, gold_items
            )
        self._span_tokens()

    # ------------------------------------------------------------------ encoding
    def _gate(self, spec: FieldSpec) -> np.ndarray:
        if spec.gate is None:
            return np.ones(self.n_rows, dtype=bool)
        parent = self.fields[spec.gate.field]
        if parent.enc is None:  # gated on a span / text field: present and non-empty
            if parent.spans is None:
                return np.zeros(self.n_rows, dtype=bool)
            s, e, ok = parent.spans
            return parent.applies & ok & (e > s)
        enc = parent.enc
        holds_dom = np.array([spec.gate.holds(v) for v in enc.domain] + [False], dtype=bool)
        holds_tok = np.array([spec.gate.holds(t) for t in enc.tokens] + [False], dtype=bool)
        codes = parent.codes
        assert codes is not None
        out = np.where(codes >= 0, holds_dom[np.where(codes >= 0, codes, -1)], False)
        abst = codes <= -2
        if abst.any():
            out[abst] = holds_tok[-2 - codes[abst]]
        return out & parent.applies

    def _encode_field(
        self,
        spec: FieldSpec,
        raw: Sequence[Any],
        gold: Mapping[Any, Mapping[str, Any]] | None,
        gold_items: Mapping[Any, Mapping[str, Any]] | None,
    ) -> FieldState:
        applies = self._gate(spec)
        st = FieldState(spec=spec, applies=applies)
        st.per_item["applies"] = np.bincount(self.item, weights=applies, minlength=self.n_items)
        obj = _objects(raw)
        if not applies.all():
            obj[~applies] = None
        if spec.type == "span":
            st.spans = _parse_spans(obj, applies)
            return st
        if not spec.is_alpha:
            return st
        enc = encode_values(
            obj,
            spec.level or "nominal",
            missing_tokens=spec.missing,
            value_domain=spec.value_domain,
            strict=False,
        )
        codes = enc.codes
        st.enc, st.codes = enc, codes
        for key, table in (("gold", gold), ("gold_items", gold_items)):
            if table is not None:
                st.gold[key] = self._gold_codes(table, spec, enc)
        valid = codes >= 0
        st.per_item["valid"] = np.bincount(self.item, weights=valid, minlength=self.n_items)
        for t_i, tok in enumerate(enc.tokens):
            st.per_item[f"token:{tok}"] = np.bincount(
                self.item, weights=codes == -2 - t_i, minlength=self.n_items
            )
        slots = np.full((max(self.n_slots, 1), self.n_items), -1, dtype=np.int64)
        slots[self.slot, self.item] = np.where(valid, codes, -1)
        st.alpha = FieldAlpha(
            slots,
            spec.level or "nominal",
            len(enc.domain),
            numeric=enc.numeric,
            domain=enc.domain,
        )
        return st

    def _gold_codes(
        self, table: Mapping[Any, Mapping[str, Any]], spec: FieldSpec, enc: Encoded
    ) -> np.ndarray:
        """Per-item codes of reference labels in the field's code space; a label no
        annotator used gets the extra code ``len(domain)`` (it never matches)."""
        if self._item_pos is None:
            self._item_pos = {it: i for i, it in enumerate(self.items)}
        out = np.full(self.n_items, -1, dtype=np.int64)
        lut = {value_key(v): i for i, v in enumerate(enc.domain)}
        unseen = len(enc.domain)
        set_level = spec.level in ("masi", "jaccard")
        for it, labs in table.items():
            j = self._item_pos.get(it)
            v = labs.get(spec.name) if j is not None and labs else None
            if v is None or (isinstance(v, str) and v in spec.missing):
                continue
            if set_level and isinstance(v, (list, tuple, set, frozenset)):
                v = frozenset(v)
            out[j] = lut.get(value_key(v), unseen)
        return out

    def _span_tokens(self) -> None:
        """Token ranges of every span answer, all span fields tokenised together."""
        names = [n for n, st in self.fields.items() if st.spans is not None]
        if not names:
            return
        parts = [self.fields[n].spans for n in names]
        items = np.concatenate([self.item[p[2]] for p in parts if p is not None])
        starts = np.concatenate([p[0][p[2]] for p in parts if p is not None])
        ends = np.concatenate([p[1][p[2]] for p in parts if p is not None])
        first, last, tokenised = span_token_ranges(
            items, starts, ends, self.texts if self.has_texts else None
        )
        pos = 0
        for n in names:
            st = self.fields[n]
            assert st.spans is not None
            k = int(st.spans[2].sum())
            st.tokens = (first[pos : pos + k], last[pos : pos + k], tokenised[pos : pos + k])
            pos += k

    # ------------------------------------------------------------------ sections
    def field_entry(
        self,
        name: str,
        mask: np.ndarray | None = None,
        *,
        confidence: float | None = 0.95,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> dict[str, Any]:
        """The report entry of an alpha field over all items or the items in ``mask``."""
        groups = np.zeros(self.n_items, dtype=np.int64) if mask is None else mask.astype(np.int64)
        g = 0 if mask is None else 1
        return self._entries(
            name, groups, g + 1, [g], confidence=confidence, n_boot=n_boot, seed=seed
        )[g]

    def _entries(
        self,
        name: str,
        groups: np.ndarray,
        n_groups: int,
        wanted: Iterable[int],
        *,
        confidence: float | None,
        n_boot: int,
        seed: int,
    ) -> dict[int, dict[str, Any]]:
        """Entries for several groups of items at once (``groups``: a group per item)."""
        st = self.fields[name]
        fa = st.alpha
        assert fa is not None and st.enc is not None
        ok = fa.unit_type >= 0
        freq = np.bincount(groups[ok] * fa.K + fa.unit_type[ok], minlength=n_groups * fa.K).reshape(
            n_groups, fa.K
        )
        sums = {
            k: np.bincount(groups, weights=v, minlength=n_groups) for k, v in st.per_item.items()
        }
        if st.spec.gate is not None:
            both = np.bincount(groups, weights=st.per_item["applies"] >= 2, minlength=n_groups)
            base = np.bincount(groups, weights=self.multi_items, minlength=n_groups)
        out = {}
        for g in wanted:
            alpha, n_units, n_values, ci = fa.estimate_freq(
                freq[g].astype(np.float64), confidence=confidence, n_boot=n_boot, seed=seed
            )
            applies = float(sums["applies"][g])
            missing = applies - float(sums["valid"][g])
            entry: dict[str, Any] = {
                "type": st.spec.type,
                "level": st.spec.level,
                "alpha": rounded(alpha),
                "ci": [rounded(ci[0]), rounded(ci[1])] if ci else None,
                "items": n_units,
                "values": n_values,
                "missing_rate": rounded(missing / applies) if applies else None,
                "abstain_rates": {
                    tok: rounded(sums[f"token:{tok}"][g] / applies) if applies else None
                    for tok in st.enc.tokens
                },
            }
            if st.spec.gate is not None:
                entry["gate"] = st.spec.gate.to_dict()
                entry["coverage"] = rounded(both[g] / base[g]) if base[g] else None
            out[g] = entry
        return out

    def kappa(self, name: str, min_overlap: int = DEFAULT_MIN_OVERLAP) -> dict[str, Any]:
        st = self.fields[name]
        assert st.codes is not None and st.enc is not None
        mat, over = pairwise_kappa_codes(
            self.item,
            self.ann,
            st.codes,
            len(self.annotators),
            len(st.enc.domain),
            min_overlap=min_overlap,
            layout=(self.slot, self.n_slots),
        )
        return {
            "annotators": self.annotators,
            "matrix": [[rounded(v, 4) for v in row] for row in mat],
            "overlap": over.tolist(),
        }

    def confusion(self, name: str) -> dict[str, Any]:
        st = self.fields[name]
        assert st.alpha is not None and st.enc is not None
        return {"labels": st.enc.domain, "matrix": st.alpha.pair_counts().tolist()}

    def span_entry(self, name: str) -> dict[str, Any]:
        st = self.fields[name]
        assert st.spans is not None
        s, e, ok = st.spans
        res = span_pairs_f1(self.item[ok], s[ok], e[ok], tokens=st.tokens)
        out = res.to_dict()
        out["exact_f1"] = rounded(out["exact_f1"])
        out["token_f1"] = rounded(out["token_f1"])
        out["presence_agreement"] = rounded(out["presence_agreement"])
        out["invalid"] = int((st.applies & ~ok).sum())
        if st.spec.gate is not None:
            out["gate"] = st.spec.gate.to_dict()
        return out

    def categorical(self) -> list[str]:
        return [n for n, st in self.fields.items() if st.spec.is_nominal_like and st.enc]

    def annotator_entries(self, min_overlap: int = DEFAULT_MIN_OVERLAP) -> list[dict[str, Any]]:
        cats = self.categorical()
        fields = {}
        for n in cats:
            st = self.fields[n]
            assert st.codes is not None and st.enc is not None
            # + 1: the code of reference labels no annotator used
            fields[n] = (np.where(st.codes >= 0, st.codes, -1), len(st.enc.domain) + 1)
        gold = {n: self.fields[n].gold["gold"] for n in cats if "gold" in self.fields[n].gold}
        gitems = {
            n: self.fields[n].gold["gold_items"]
            for n in cats
            if "gold_items" in self.fields[n].gold
        }
        rows = annotator_stats_codes(
            self.item,
            self.ann,
            self.seconds,
            fields,
            self.annotators,
            gold=gold or None,
            gold_items=gitems or None,
            min_overlap=min_overlap,
        )
        for r in rows:
            for k, v in r.items():
                if isinstance(v, float):
                    r[k] = rounded(v)
        return rows

    def aggregate(
        self,
        *,
        fit_items: int = FIT_ITEMS,
        ds_iter: int = DS_ITER,
        mace_iter: int = MACE_ITER,
        smoothing: float = DS_SMOOTHING,
        seed: int = 0,
    ) -> dict[str, FieldAggregate]:
        out = {}
        for n in self.categorical():
            st = self.fields[n]
            assert st.codes is not None and st.enc is not None
            out[n] = aggregate_codes(
                self.item,
                self.ann,
                st.codes,
                self.n_items,
                st.enc.domain,
                n_workers=len(self.annotators),
                fit_items=fit_items,
                ds_iter=ds_iter,
                mace_iter=mace_iter,
                smoothing=smoothing,
                seed=seed,
                layout=(self.slot, self.n_slots),
            )
        return out

    def review_queue(
        self, aggregates: Mapping[str, FieldAggregate], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Items most in need of review first (see :func:`review_uncertainty`); items
        without any categorical answer are left out."""
        unc, prio = review_uncertainty(aggregates.values(), self.n_items)
        labelled = np.zeros(self.n_items, dtype=bool)
        for agg in aggregates.values():
            labelled |= agg.n_labels > 0
        order = np.lexsort((np.arange(self.n_items), -unc))
        order = order[labelled[order]]
        if limit is not None:
            order = order[:limit]
        return [
            {
                "item": self.items[i],
                "uncertainty": rounded(unc[i]),
                "priority": bool(prio[i]),
                "fields": {n: a.item(int(i)) for n, a in aggregates.items() if a.n_labels[i]},
            }
            for i in order
        ]

    def slice_entries(
        self,
        key: str | Mapping[Any, Any],
        *,
        max_slices: int = 30,
        confidence: float | None = 0.95,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Per-field entries for each slice: ``key`` names a record attribute (language,
        outlet, schema_version: the item's first record decides) or maps item → slice.
        The ``max_slices`` largest slices are kept (``_omitted`` counts the rest)."""
        if isinstance(key, str):
            vals = self.slices.get(key)
            if vals is None:
                return {}
        else:
            vals = _objects([key.get(it) for it in self.items])
        codes, uniq = pd.factorize(pd.Series(vals, dtype=object), use_na_sentinel=False)
        counts = np.bincount(codes, minlength=len(uniq))
        order = np.argsort(-counts, kind="stable")[:max_slices]
        rows_per_item = np.bincount(self.item, minlength=self.n_items)
        labels_per_slice = np.bincount(codes, weights=rows_per_item, minlength=len(uniq))
        per_field = {
            n: self._entries(
                n, codes, len(uniq), order, confidence=confidence, n_boot=n_boot, seed=seed
            )
            for n, st in self.fields.items()
            if st.alpha is not None
        }
        out: dict[str, Any] = {}
        for c in order:
            label = "unknown" if _is_none(uniq[c]) else str(uniq[c])
            out[label] = {
                "items": int(counts[c]),
                "labels": int(labels_per_slice[c]),
                "fields": {n: entries[c] for n, entries in per_field.items()},
            }
        if len(uniq) > len(order):
            out["_omitted"] = int(len(uniq) - len(order))
        return out


def _is_none(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)
