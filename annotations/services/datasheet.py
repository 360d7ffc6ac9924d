"""The datasheet (Markdown) that goes with every dataset version.

Written from the same snapshot as the records (call it inside `export_snapshot`, after the
records were produced, so their counts are in `ctx.stats`). Annotators and reviewers appear as
counts only, never by name.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef

from ..models import AgreementReport, DatasetVersion, Item, Label
from .exports import ExportContext


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip() or "—"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.{digits}f}"
    return "—"


def _counter_rows(counter: Counter[str]) -> list[list[Any]]:
    total = sum(counter.values()) or 1
    return [
        [key, n, f"{100 * n / total:.1f}%"]
        for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _agreement(ctx: ExportContext, kind: str) -> list[str]:
    report = (
        AgreementReport.objects.filter(project=ctx.project, kind=kind)
        .order_by("-created_at", "-pk")
        .first()
    )
    title = "claims" if kind == "claim" else "pairs"
    if report is None or not isinstance(report.result, dict):
        return [f"No agreement report has been computed for {title} yet."]
    fields = report.result.get("fields") or {}
    rows = []
    for name in sorted(fields):
        entry = fields[name] if isinstance(fields[name], dict) else {}
        ci = entry.get("ci")
        ci_text = (
            f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"
            if isinstance(ci, (list, tuple)) and len(ci) == 2
            else "—"
        )
        missing = entry.get("missing_rate")
        rows.append(
            [
                name,
                _fmt(entry.get("alpha")),
                ci_text,
                entry.get("items", "—"),
                f"{100 * missing:.1f}%" if isinstance(missing, (int, float)) else "—",
            ]
        )
    lines = [
        f"Krippendorff's alpha per field for {title} (report of "
        f"{report.created_at.date().isoformat()}; 95% bootstrap CI):",
        "",
    ]
    if rows:
        lines += _table(["field", "alpha", "95% CI", "items", "missing"], rows)
    else:
        lines.append("The report holds no field figures.")
    return lines


def datasheet_markdown(
    ctx: ExportContext, *, version: DatasetVersion | None = None, note: str = ""
) -> str:
    project = ctx.project
    stats = ctx.stats
    labelled_claims = Item.objects.filter(project=project, kind="claim").filter(
        Exists(Label.objects.filter(item_id=OuterRef("pk")))
    )
    outlets = list(
        labelled_claims.values_list(
            "claim__article__outlet_name",
            "claim__article__outlet__name",
            "claim__article__outlet__country",
            "claim__article__outlet__kind",
            "claim__article__outlet__affiliation",
        )
        .annotate(n=Count("pk"), articles=Count("claim__article", distinct=True))
        .order_by()
    )
    outlets.sort(key=lambda row: (-row[5], row[0] or ""))
    span = labelled_claims.aggregate(
        first=Min("claim__article__published"), last=Max("claim__article__published")
    )
    labels = Label.objects.filter(item__project=project)
    n_labels = labels.count()
    per_kind = dict(labels.values_list("item__kind").annotate(n=Count("pk")).order_by())

    title = f"Datasheet: {project.name}"
    if version is not None:
        title += f", version {version.number}"
    out: list[str] = [f"# {title}", ""]
    if version is not None:
        out += [f"Frozen from project `{project.slug}` on {version.created_at.date().isoformat()}."]
        if note:
            out += ["", f"Note: {note}"]
        out.append("")
    out += [
        "## Motivation and composition",
        "",
        "Sentence-level units (claims) of news articles, labelled for attribution, "
        "verifiability and cross-source agreement by several annotators working blind to each "
        "other, with disagreements adjudicated by reviewers. One record per labelled unit "
        "(`claims.*`) and per labelled cross-source pair (`pairs.*`).",
        "",
        f"- claim records: {sum(stats['claims:split'].values())} "
        f"({stats['claims:settled'].get('true', 0)} with settled gold labels)",
        f"- pair records: {sum(stats['pairs:split'].values())} "
        f"({stats['pairs:settled'].get('true', 0)} with settled gold labels)",
        f"- label schema and guidelines version: {ctx.schema_version}",
        "",
        "## Sources and outlets",
        "",
        "Outlet types and affiliations come from the project's reviewed outlet registry, never "
        "from annotators' labels.",
        "",
    ]
    if outlets:
        out += _table(
            ["outlet", "registry name", "country", "type", "affiliation", "articles", "units"],
            [[r[0], r[1], r[2], r[3], r[4], r[6], r[5]] for r in outlets],
        )
    else:
        out.append("No labelled units yet.")
    first, last = span["first"], span["last"]
    out += ["", "## Languages and time span", ""]
    out += _table(["language", "units", "share"], _counter_rows(stats["claims:language"]))
    out += [
        "",
        "Published dates: "
        + (
            f"{first.isoformat()} to {last.isoformat()}."
            if first and last
            else "unknown (no article carries a date)."
        ),
        "",
        "## Annotation",
        "",
        f"- annotators: {len(ctx.annotators)} (pseudonymous ids a1, a2, … in records)",
        f"- reviewers: {len(ctx.reviewers)} (pseudonymous ids r1, r2, …)",
        f"- labels: {n_labels} ({per_kind.get('claim', 0)} on claims, "
        f"{per_kind.get('pair', 0)} on pairs)",
        "",
        "## Agreement",
        "",
        *_agreement(ctx, "claim"),
        "",
        *_agreement(ctx, "pair"),
        "",
        "## Adjudication",
        "",
    ]
    methods = stats["claims:method"]
    out += _table(
        ["settled by", "claim items"],
        [
            ["reviewer", methods.get("reviewer", 0)],
            ["auto-settled (all annotators agreed)", methods.get("auto_settle", 0)],
            ["reviewer overriding the majority", stats["claims:overrides"].get("true", 0)],
        ],
    )
    out += ["", "## Splits", ""]
    out += [
        "Grouped by event cluster (claims without a cluster are grouped by article), "
        "stratified by language and outlet, with the project's fixed seed; no event crosses "
        "splits.",
        "",
    ]
    out += _table(
        ["split", "claim records", "pair records"],
        [
            [s, stats["claims:split"].get(s, 0), stats["pairs:split"].get(s, 0)]
            for s in ("train", "dev", "test")
        ],
    )
    defects = stats["claims:defect"]
    n_claims = sum(defects.values())
    defective = n_claims - defects.get("none", 0)
    unsettled = stats["claims:settled"].get("false", 0)
    out += [
        "",
        "## Known limitations",
        "",
        f"- {unsettled} of {n_claims} claim records have no settled gold (`gold` is null); "
        "use `labels` or `soft_labels` for them, or keep only `settled` records.",
        f"- {defective} claim records are marked as segmentation defects (`unit_defect` "
        "other than none: scrape debris, truncated, fragment, glued).",
        "- Units are sentences found automatically; offsets index the document's decoded text.",
        "- Soft labels and aggregate posteriors are computed from few annotators per item "
        "(see the labels count above) and are noisy.",
        "- Outlet affiliation is as reviewed in the registry at freezing time; unreviewed "
        "outlets have `outlet_reviewed` false.",
        "- Claims without an event cluster are grouped by article for the splits; an article's "
        "clustered and unclustered sentences may fall in different splits.",
        "",
    ]
    return "\n".join(out)
