"""The agreement report: plain records in, a JSON-safe dict out (the shape of
``GET /api/v1/projects/{slug}/agreement/``), and the review queue. The rules for gates,
missing answers and spans are in :mod:`.table`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ._util import json_safe, rounded
from .aggregation import DS_ITER, FIT_ITEMS, MACE_ITER, FieldAggregate
from .kappa import DEFAULT_MIN_OVERLAP
from .table import SLICE_KEYS, LabelTable, gc_paused


def agreement_report(
    records: Iterable[Mapping[str, Any]],
    schema: Any = None,
    *,
    kind: str = "claim",
    gold: Mapping[Any, Mapping[str, Any]] | None = None,
    gold_items: Mapping[Any, Mapping[str, Any]] | None = None,
    texts: Mapping[Any, str | None] | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    slice_keys: Sequence[str] = SLICE_KEYS,
    max_slices: int = 30,
    slice_boot: int = 200,
    aggregate: bool = True,
    queue_limit: int = 50,
    fit_items: int = FIT_ITEMS,
    ds_iter: int = DS_ITER,
    mace_iter: int = MACE_ITER,
) -> dict[str, Any]:
    """Every agreement figure for one project as a JSON-safe dict (no NaN: null).

    ``{"fields": {f: {"alpha", "ci", "items", "values", "missing_rate", "abstain_rates",
    "coverage"?, "gate"?}}, "kappa": {f: {"annotators", "matrix", "overlap"}},
    "spans": {f: {"exact_f1", "token_f1", …}}, "annotators": [...], "confusion":
    {f: {"labels", "matrix"}}, "slices": {key: {value: {"items", "labels", "fields"}}},
    "aggregation": {f: summary}, "review_queue": [...], "meta": {...}}``.
    """
    with gc_paused():
        return _agreement_report(
            records,
            schema,
            kind=kind,
            gold=gold,
            gold_items=gold_items,
            texts=texts,
            confidence=confidence,
            n_boot=n_boot,
            slice_boot=slice_boot,
            seed=seed,
            min_overlap=min_overlap,
            slice_keys=slice_keys,
            max_slices=max_slices,
            aggregate=aggregate,
            queue_limit=queue_limit,
            fit_items=fit_items,
            ds_iter=ds_iter,
            mace_iter=mace_iter,
        )


def _agreement_report(
    records: Iterable[Mapping[str, Any]],
    schema: Any,
    *,
    kind: str,
    gold: Mapping[Any, Mapping[str, Any]] | None,
    gold_items: Mapping[Any, Mapping[str, Any]] | None,
    texts: Mapping[Any, str | None] | None,
    confidence: float,
    n_boot: int,
    slice_boot: int,
    seed: int,
    min_overlap: int,
    slice_keys: Sequence[str],
    max_slices: int,
    aggregate: bool,
    queue_limit: int,
    fit_items: int,
    ds_iter: int,
    mace_iter: int,
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(part: str, fn: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        timings[part] = timings.get(part, 0.0) + time.perf_counter() - t0
        cpu[part] = cpu.get(part, 0.0) + time.process_time() - c0
        return res

    table = timed(
        "encode",
        lambda: LabelTable(
            records,
            schema,
            kind=kind,
            texts=texts,
            gold=gold,
            gold_items=gold_items,
            slice_keys=slice_keys,
        ),
    )

    alpha_fields = [n for n, st in table.fields.items() if st.alpha is not None]
    span_fields = [n for n, st in table.fields.items() if st.spans is not None]
    cats = table.categorical()
    report: dict[str, Any] = {
        "fields": timed(
            "alpha",
            lambda: {
                n: table.field_entry(n, confidence=confidence, n_boot=n_boot, seed=seed)
                for n in alpha_fields
            },
        ),
        "kappa": timed("kappa", lambda: {n: table.kappa(n, min_overlap) for n in cats}),
        "spans": timed("spans", lambda: {n: table.span_entry(n) for n in span_fields}),
        "annotators": timed("annotators", lambda: table.annotator_entries(min_overlap)),
        "confusion": timed("confusion", lambda: {n: table.confusion(n) for n in cats}),
        "slices": timed(
            "slices",
            lambda: {
                k: table.slice_entries(
                    k,
                    max_slices=max_slices,
                    confidence=confidence if slice_boot else None,
                    n_boot=slice_boot,
                    seed=seed,
                )
                for k in table.slices
            },
        ),
    }
    if aggregate:
        aggs = timed(
            "aggregation",
            lambda: table.aggregate(
                fit_items=fit_items, ds_iter=ds_iter, mace_iter=mace_iter, seed=seed
            ),
        )
        report["aggregation"] = {n: _aggregate_summary(a) for n, a in aggs.items()}
        report["review_queue"] = timed(
            "review_queue", lambda: table.review_queue(aggs, queue_limit)
        )
    report["meta"] = {
        "kind": kind,
        "items": table.n_items,
        "labels": table.n_rows,
        "annotators": len(table.annotators),
        "duplicates_dropped": table.n_duplicates,
        "confidence": confidence,
        "n_boot": n_boot,
        "slice_boot": slice_boot,
        "seed": seed,
        "min_overlap": min_overlap,
        "aggregation": {"fit_items": fit_items, "ds_iter": ds_iter, "mace_iter": mace_iter},
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "cpu_timings": {k: round(v, 4) for k, v in cpu.items()},
    }
    return json_safe(report)


def _aggregate_summary(a: FieldAggregate) -> dict[str, Any]:
    has = a.n_labels > 0
    n = int(has.sum())
    return {
        "items": n,
        "labels": a.labels,
        "majority_ds_conflicts": int(a.priority.sum()),
        "ds_mace_disagreements": int((has & (a.ds != a.mace)).sum()),
        "ties": int(a.tie.sum()),
        "mean_ds_posterior": rounded(float(np.nanmean(a.ds_posterior[has]))) if n else None,
        "mean_mace_posterior": rounded(float(np.nanmean(a.mace_posterior[has]))) if n else None,
        "fit_items": a.fit_items,
        "fit_seconds": rounded(a.fit_seconds, 3),
    }


def review_queue(
    records: Iterable[Mapping[str, Any]],
    schema: Any = None,
    *,
    kind: str = "claim",
    limit: int | None = None,
    fit_items: int = FIT_ITEMS,
    ds_iter: int = DS_ITER,
    mace_iter: int = MACE_ITER,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Items ordered for review: majority/Dawid–Skene conflicts first, then the lowest
    posterior; each with per-field majority, share, DS and MACE labels and posteriors."""
    table = LabelTable(records, schema, kind=kind, slice_keys=())
    aggs = table.aggregate(fit_items=fit_items, ds_iter=ds_iter, mace_iter=mace_iter, seed=seed)
    return json_safe(table.review_queue(aggs, limit))


def agreement_by_slice(
    records: Iterable[Mapping[str, Any]],
    slice_key: str | Mapping[Any, Any],
    schema: Any = None,
    *,
    kind: str = "claim",
    confidence: float | None = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    max_slices: int = 30,
) -> dict[str, Any]:
    """The per-field alpha entries (alpha, CI, items, missing rate, coverage) for each
    slice of items: ``slice_key`` is a record attribute ("language", "outlet",
    "schema_version"; an item's first record decides) or a mapping item → slice value."""
    keys = (slice_key,) if isinstance(slice_key, str) else ()
    with gc_paused():
        table = LabelTable(records, schema, kind=kind, slice_keys=keys)
        out = table.slice_entries(
            slice_key, max_slices=max_slices, confidence=confidence, n_boot=n_boot, seed=seed
        )
    return json_safe(out)
