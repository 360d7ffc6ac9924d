"""Background jobs over a project's labels: per-item aggregates for the review queue
("aggregate") and the stored agreement report behind the dashboard ("agreement").

Both read every label of the project once (one query, streamed), hand plain arrays to the pure
functions in annotations.agreement, and write their result in one transaction, so a job that
is run again after a worker died simply recomputes the same thing.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from ..models import AgreementReport, Item, Job, Label, Project
from ..schema.validation import fields_of
from .adjudication import canon
from .jobs import JobError, ProgressFn, register
from .projects import current_schema

KINDS = {"claims": "claim", "claim": "claim", "pairs": "pair", "pair": "pair"}
AGGREGATED_TYPES = {"single", "bool", "ordinal"}
SYNC_LIMIT = 5000  # labels: below this the API computes a missing report on the spot


def kind_of(raw: str | None) -> str:
    kind = KINDS.get((raw or "claims").strip().lower())
    if kind is None:
        raise ValueError("kind must be claims or pairs")
    return kind


# --------------------------------------------------------------------------- reading labels


def label_rows(project: Project, kind: str) -> list[dict[str, Any]]:
    """Every current label of the project's items of `kind`, as plain records
    (the shape annotations.agreement.agreement_report takes) plus the `day` it was made."""
    if kind == "claim":
        lang, outlet = "item__claim__language", "item__claim__article__outlet_name"
    else:
        lang, outlet = "item__pair__claim_a__language", "item__pair__claim_a__article__outlet_name"
    qs = (
        Label.objects.filter(item__project=project, item__kind=kind)
        .order_by("item_id", "id")
        .values_list(
            "item_id",
            "annotator_id",
            "values",
            "seconds",
            lang,
            outlet,
            "schema_version__version",
            "created_at",
        )
    )
    rows = []
    for item_id, annotator_id, values, seconds, language, outlet_name, sv, created in qs.iterator(
        chunk_size=5000
    ):
        rows.append(
            {
                "item": item_id,
                "annotator": annotator_id,
                "labels": values or {},
                "seconds": seconds,
                "language": language or "",
                "outlet": outlet_name or "",
                "schema_version": sv,
                "day": created.date().isoformat(),
            }
        )
    return rows


# --------------------------------------------------------------------------- aggregation


def aggregates_compute(
    rows: list[dict[str, Any]], schema: dict[str, Any], kind: str, *, seed: int = 0
) -> dict[int, tuple[dict[str, Any], float]]:
    """Per item: ({field: {majority, share, tie, ds, ds_posterior, mace, mace_posterior,
    votes}}, uncertainty). Uncertainty = (1 − lowest DS/MACE posterior) + 1 when in some field
    the Dawid–Skene label is not among the most-voted ones, so those come first."""
    import numpy as np

    from ..agreement._util import json_safe
    from ..agreement.aggregation import aggregate_codes, review_uncertainty
    from ..agreement.alpha import encode_values
    from ..agreement.schema import MISSING_TOKENS

    item_ids = list(dict.fromkeys(r["item"] for r in rows))
    item_index = {item_id: i for i, item_id in enumerate(item_ids)}
    workers = list(dict.fromkeys(r["annotator"] for r in rows))
    worker_index = {w: i for i, w in enumerate(workers)}
    n = len(item_ids)
    out: dict[int, dict[str, Any]] = {item_id: {} for item_id in item_ids}
    aggs = []
    for field in fields_of(schema, kind):
        if field["type"] not in AGGREGATED_TYPES:
            continue
        name = field["name"]
        sel = [r for r in rows if r["labels"].get(name) is not None]
        if not sel:
            continue
        enc = encode_values(
            [r["labels"][name] for r in sel], "nominal", missing_tokens=MISSING_TOKENS
        )
        agg = aggregate_codes(
            np.fromiter((item_index[r["item"]] for r in sel), dtype=np.int64, count=len(sel)),
            np.fromiter(
                (worker_index[r["annotator"]] for r in sel), dtype=np.int64, count=len(sel)
            ),
            enc.codes,
            n,
            enc.domain,
            n_workers=len(workers),
            seed=seed,
        )
        aggs.append(agg)
        for i in np.flatnonzero(agg.n_labels > 0):
            entry = agg.item(int(i))
            if entry is not None:
                out[item_ids[int(i)]][name] = json_safe(entry)
    if not n:
        return {}
    if aggs:
        uncertainty, _ = review_uncertainty(aggs, n)
    else:
        uncertainty = np.zeros(n)
    return {item_id: (out[item_id], float(uncertainty[i])) for i, item_id in enumerate(item_ids)}


def aggregates_store(*, project: Project, kind: str, progress: ProgressFn | None = None) -> int:
    """Recompute and store Item.aggregate and Item.uncertainty for every labelled item."""
    progress = progress or (lambda *a, **k: None)
    schema = current_schema(project).schema
    progress(0.05, "reading labels")
    rows = label_rows(project, kind)
    progress(0.2, f"aggregating {len(rows)} labels")
    result = aggregates_compute(rows, schema, kind, seed=project.seed)
    progress(0.7, "storing")
    batch: list[Item] = []
    stored = 0
    with transaction.atomic():
        for item_id, (aggregate, uncertainty) in result.items():
            batch.append(Item(pk=item_id, aggregate=aggregate, uncertainty=uncertainty))
            if len(batch) >= 2000:
                Item.objects.bulk_update(batch, ["aggregate", "uncertainty"])
                stored += len(batch)
                batch = []
        if batch:
            Item.objects.bulk_update(batch, ["aggregate", "uncertainty"])
            stored += len(batch)
        # Settled items are not waiting for anyone: keep them out of the review ordering.
        Item.objects.filter(project=project, kind=kind, status=Item.Status.SETTLED).update(
            uncertainty=0.0
        )
    return stored


@register("aggregate")
def aggregate_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    if job.project is None:
        raise JobError("The job has no project.")
    kind = kind_of(job.params.get("kind"))
    stored = aggregates_store(project=job.project, kind=kind, progress=progress)
    return {"items": stored, "kind": kind}


# --------------------------------------------------------------------------- agreement report


def _agreement_report(
    records: list[dict[str, Any]],
    schema: dict[str, Any],
    kind: str,
    *,
    gold: dict[Any, dict[str, Any]] | None = None,
    gold_items: dict[Any, dict[str, Any]] | None = None,
    texts: dict[Any, str] | None = None,
) -> dict:
    """The report from annotations.agreement (fields, kappa, spans, annotators, confusion,
    slices) for the schema block of `kind`."""
    try:
        from ..agreement import agreement_report
    except ImportError:  # the package without its top-level report: compute the core parts
        return _fallback_report(records, {"fields": fields_of(schema, kind)})
    return dict(
        agreement_report(
            records,
            schema,
            kind=kind,
            gold=gold or None,
            gold_items=gold_items or None,
            texts=texts or None,
            aggregate=False,  # the review-queue aggregates are stored per item instead
        )
    )


def _fallback_report(records: list[dict[str, Any]], block: dict[str, Any]) -> dict[str, Any]:
    """The same shape from the package's lower-level functions (used while the top-level
    `agreement_report` is not there)."""
    import numpy as np

    from ..agreement._util import json_safe
    from ..agreement.alpha import krippendorff_alpha
    from ..agreement.kappa import pairwise_kappa
    from ..agreement.schema import normalize_schema
    from ..agreement.spans import span_f1

    specs = normalize_schema(block)
    items = list(dict.fromkeys(r["item"] for r in records))
    annotators = sorted({r["annotator"] for r in records})
    col = {it: j for j, it in enumerate(items)}
    row = {a: i for i, a in enumerate(annotators)}

    def matrix(name: str, gate=None) -> list[list[Any]]:
        m: list[list[Any]] = [[None] * len(items) for _ in annotators]
        for r in records:
            labels = r["labels"]
            if gate is not None and not gate.holds(labels.get(gate.field)):
                continue
            m[row[r["annotator"]]][col[r["item"]]] = labels.get(name)
        return m

    fields: dict[str, Any] = {}
    kappa: dict[str, Any] = {}
    spans: dict[str, Any] = {}
    confusion: dict[str, Any] = {}
    for spec in specs:
        if spec.type == "span":
            spans[spec.name] = span_f1(matrix(spec.name, spec.gate)).to_dict()
            continue
        if not spec.is_alpha or spec.level is None:  # alpha levels are never None
            continue
        m = matrix(spec.name, spec.gate)
        res = krippendorff_alpha(
            m, spec.level, value_domain=spec.value_domain, confidence=0.95, n_boot=500
        )
        fields[spec.name] = res.to_dict()
        if spec.is_nominal_like:
            kappa[spec.name] = pairwise_kappa(m, annotators=annotators, min_overlap=1).to_dict()
            confusion[spec.name] = _confusion(m, list(spec.choices))
    slices: dict[str, Any] = {}
    for key in ("language", "outlet", "schema_version"):
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            groups[r.get(key)].append(r)
        slices[key] = {}
        for value, recs in sorted(groups.items(), key=lambda kv: str(kv[0])):
            sub = _fallback_fields(recs, specs)
            slices[key][str(value)] = sub
    return json_safe(
        {
            "fields": fields,
            "kappa": kappa,
            "spans": spans,
            "annotators": [],
            "confusion": confusion,
            "slices": slices,
            "n_items": len(items),
            "n_labels": len(records),
            "_annotator_ids": annotators,
            "_np": np.__version__,
        }
    )


def _fallback_fields(records: list[dict[str, Any]], specs: list[Any]) -> dict[str, Any]:
    from ..agreement.alpha import krippendorff_alpha

    items = list(dict.fromkeys(r["item"] for r in records))
    annotators = sorted({r["annotator"] for r in records})
    col = {it: j for j, it in enumerate(items)}
    row = {a: i for i, a in enumerate(annotators)}
    out = {}
    for spec in specs:
        if not spec.is_alpha or not spec.required:
            continue
        m: list[list[Any]] = [[None] * len(items) for _ in annotators]
        for r in records:
            m[row[r["annotator"]]][col[r["item"]]] = r["labels"].get(spec.name)
        res = krippendorff_alpha(m, spec.level, value_domain=spec.value_domain)
        out[spec.name] = {"alpha": res.alpha, "items": res.n_items}
    return out


def _confusion(m: list[list[Any]], choices: list[Any]) -> dict[str, Any]:
    """Counts of (value of one annotator, value of another) over ordered annotator pairs on
    the same item, symmetric."""
    labels = [canon(c) for c in choices]
    index = {c: i for i, c in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    n_items = len(m[0]) if m else 0
    for j in range(n_items):
        values = [canon(r[j]) for r in m if r[j] is not None]
        for a in range(len(values)):
            for b in range(len(values)):
                if a != b and values[a] in index and values[b] in index:
                    counts[index[values[a]]][index[values[b]]] += 1
    return {"labels": list(choices), "matrix": counts}


def annotator_figures(project: Project, kind: str, rows: list[dict[str, Any]]) -> list[dict]:
    """Per annotator: items labelled, median seconds, agreement with the adjudicated gold and
    accuracy on gold items (share of the required fields answered as expected)."""
    schema = current_schema(project).schema
    required = [f["name"] for f in fields_of(schema, kind) if f.get("required")]
    items = {
        pk: (is_gold, expected, gold)
        for pk, is_gold, expected, gold in Item.objects.filter(project=project, kind=kind)
        .filter(labels__isnull=False)
        .distinct()
        .values_list("pk", "is_gold", "gold_expected", "gold")
    }
    per: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"items": 0, "seconds": [], "gold": [0, 0], "adjudicated": [0, 0]}
    )
    for r in rows:
        entry = per[r["annotator"]]
        entry["items"] += 1
        if r["seconds"] is not None:
            entry["seconds"].append(float(r["seconds"]))
        is_gold, expected, gold = items.get(r["item"], (False, None, None))
        for target, reference in (("gold", expected if is_gold else None), ("adjudicated", gold)):
            if not reference:
                continue
            field_names = list(reference) if target == "gold" else required
            for name in field_names:
                if name in reference:
                    entry[target][1] += 1
                    entry[target][0] += canon(r["labels"].get(name)) == canon(reference[name])
    names = dict(get_user_model().objects.filter(pk__in=list(per)).values_list("pk", "username"))
    out = []
    for annotator_id, e in sorted(per.items(), key=lambda kv: names.get(kv[0], "")):
        out.append(
            {
                "annotator": annotator_id,
                "name": names.get(annotator_id, str(annotator_id)),
                "items": e["items"],
                "median_seconds": statistics.median(e["seconds"]) if e["seconds"] else None,
                "gold_checks": e["gold"][1],
                "gold_accuracy": e["gold"][0] / e["gold"][1] if e["gold"][1] else None,
                "adjudicated_checks": e["adjudicated"][1],
                "adjudicated_agreement": (
                    e["adjudicated"][0] / e["adjudicated"][1] if e["adjudicated"][1] else None
                ),
            }
        )
    return out


def agreement_compute(*, project: Project, kind: str, progress: ProgressFn | None = None) -> dict:
    """The dashboard's report: the agreement package's report plus labels per day and
    per-annotator figures with gold accuracy."""
    from ..agreement._util import json_safe

    progress = progress or (lambda *a, **k: None)
    progress(0.05, "reading labels")
    rows = label_rows(project, kind)
    schema = current_schema(project).schema
    progress(0.2, f"computing agreement over {len(rows)} labels")
    records = [{k: v for k, v in r.items() if k != "day"} for r in rows]
    gold, gold_items, texts = _references(project, kind)
    report = (
        _agreement_report(records, schema, kind, gold=gold, gold_items=gold_items, texts=texts)
        if records
        else _empty_report()
    )
    progress(0.8, "annotator figures")
    figures = annotator_figures(project, kind, rows)
    lib_rows = {
        str(a.get("annotator")): a for a in report.get("annotators") or [] if isinstance(a, dict)
    }
    for fig in figures:
        extra = lib_rows.get(str(fig["annotator"]), {})
        for key, value in extra.items():
            fig.setdefault(key, value)
    report["annotators"] = figures
    per_day: dict[str, int] = defaultdict(int)
    for r in rows:
        per_day[r["day"]] += 1
    report["progress"] = [{"day": d, "labels": per_day[d]} for d in sorted(per_day)]
    report["kind"] = "pairs" if kind == "pair" else "claims"
    report["n_labels"] = len(rows)
    report["n_items"] = len({r["item"] for r in rows})
    report.pop("_np", None)
    if kind == "claim":
        from .suggestions import suggestion_effect

        report["suggestion_effect"] = suggestion_effect(project=project)
    return json_safe(report)


def _references(project: Project, kind: str) -> tuple[dict, dict, dict]:
    """Adjudicated gold and gold-item expectations per item, and the claims' texts (for
    token-level span F1)."""
    gold: dict[int, dict[str, Any]] = {}
    expected: dict[int, dict[str, Any]] = {}
    qs = Item.objects.filter(project=project, kind=kind).filter(
        Q(gold__isnull=False) | Q(is_gold=True)
    )
    for pk, value, is_gold, exp in qs.values_list("pk", "gold", "is_gold", "gold_expected"):
        if value:
            gold[pk] = value
        if is_gold and exp:
            expected[pk] = exp
    texts: dict[int, str] = {}
    if kind == "claim":
        texts = dict(
            Item.objects.filter(project=project, kind=kind, labels__isnull=False)
            .distinct()
            .values_list("pk", "claim__text")
        )
    return gold, expected, texts


def _empty_report() -> dict[str, Any]:
    return {"fields": {}, "kappa": {}, "spans": {}, "annotators": [], "confusion": {}, "slices": {}}


def report_store(
    *, project: Project, kind: str, job: Job | None = None, progress: ProgressFn | None = None
) -> AgreementReport:
    started = time.perf_counter()
    result = agreement_compute(project=project, kind=kind, progress=progress)
    return AgreementReport.objects.create(
        project=project,
        kind=kind,
        result=result,
        seconds=time.perf_counter() - started,
        job=job,
    )


def latest_report(project: Project, kind: str) -> AgreementReport | None:
    return (
        AgreementReport.objects.filter(project=project, kind=kind).order_by("-created_at").first()
    )


def small_enough_to_compute_now(project: Project, kind: str) -> bool:
    """Whether a missing report may be computed within the request: at most SYNC_LIMIT labels.
    Counts no further than SYNC_LIMIT + 1 rows, so a million labels cost nothing here."""
    labels = Label.objects.filter(item__project=project, item__kind=kind).order_by()
    return labels.values("pk")[: SYNC_LIMIT + 1].count() <= SYNC_LIMIT


@register("agreement")
def agreement_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    if job.project is None:
        raise JobError("The job has no project.")
    kind = kind_of(job.params.get("kind"))
    report = report_store(project=job.project, kind=kind, job=job, progress=progress)
    if job.params.get("aggregate", True):
        progress(0.9, "review-queue aggregates")
        aggregates_store(project=job.project, kind=kind)
    return {"report": report.pk, "kind": kind, "seconds": round(report.seconds, 3)}
