"""Export records built in Python (label-schema.md "Export record"): the reference path,
used for every format on SQLite and for pairs, CSV and Parquet."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.db import connections
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Substr

from ...models import (
    Article,
    Decision,
    Item,
    Label,
    Project,
    Pseudonym,
    SchemaVersion,
)
from ..splits import SplitAssignment, group_key, split_assign
from .common import (
    CHUNK_SIZE,
    FIRST_CHUNK,
    SOFT_TYPES,
)

# --- context shared by every record ---------------------------------------------------------


@dataclass
class ExportContext:
    project: Project
    version: int | None
    schema_version: int
    field_types: dict[str, dict[str, str]]
    schema_versions: dict[int, int]
    annotators: dict[int, str]
    reviewers: dict[int, str]
    splits: SplitAssignment
    stats: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @classmethod
    def build(
        cls,
        project: Project,
        version: int | None = None,
        *,
        annotators: dict[int, str] | None = None,
        reviewers: dict[int, str] | None = None,
        splits: SplitAssignment | None = None,
    ) -> ExportContext:
        """The per-export lookups: pseudonyms, schema versions, splits (a few queries). The
        pseudonyms and the splits may be given (computed elsewhere in the same snapshot:
        fast.build_context)."""
        versions = dict(SchemaVersion.objects.filter(project=project).values_list("pk", "version"))
        current = SchemaVersion.objects.filter(project=project).order_by("-version").first()
        schema = current.schema if current else {}
        field_types = {
            kind: {f["name"]: f["type"] for f in schema.get(kind, {}).get("fields", [])}
            for kind in ("claim", "pair")
        }
        return cls(
            project=project,
            version=version,
            schema_version=current.version if current else 0,
            field_types=field_types,
            schema_versions=versions,
            annotators=annotator_pseudonyms(project) if annotators is None else annotators,
            reviewers=reviewer_pseudonyms(project) if reviewers is None else reviewers,
            splits=split_assign(project=project) if splits is None else splits,
        )


def annotator_pseudonyms(project: Project) -> dict[int, str]:
    """a1, a2, … by the order of each annotator's first label in the project: stable as the
    project grows, and never a user name. Read from the Pseudonym rows that the label table's
    triggers keep (a few rows, not an aggregate over every label)."""
    return _pseudonyms(project, Pseudonym.Role.ANNOTATOR)


def reviewer_pseudonyms(project: Project) -> dict[int, str]:
    """r1, r2, … by the order of each reviewer's first decision in the project."""
    return _pseudonyms(project, Pseudonym.Role.REVIEWER)


def _pseudonyms(project: Project, role: str) -> dict[int, str]:
    rows = (
        Pseudonym.objects.filter(project=project, role=role)
        .order_by("first_at", "user_id")
        .values_list("user_id", flat=True)
    )
    return {user_id: f"{role}{i}" for i, user_id in enumerate(rows, start=1)}


# --- records ----------------------------------------------------------------------------------


def _items(project: Project, kind: str, include: str) -> Any:
    qs = Item.objects.filter(project=project, kind="claim" if kind == "claims" else "pair")
    if include == "settled":
        qs = qs.filter(status=Item.Status.SETTLED)
    else:
        qs = qs.filter(Exists(Label.objects.filter(item_id=OuterRef("pk"))))
    return qs.order_by("pk")


def export_count(*, project: Project, kind: str, include: str) -> int:
    return _items(project, kind, include).count()


_CLAIM_ITEM_FIELDS = (
    "pk",
    "status",
    "gold",
    "aggregate",
    "claim_id",
    "claim__article_id",
    "claim__start",
    "claim__end",
    "claim__text",
    "claim__language",
    "claim__unit_kind",
    "claim__unit_defect",
    "claim__cluster_id",
    "claim__cluster__key",
)

_PAIR_ITEM_FIELDS = (
    "pk",
    "status",
    "gold",
    "aggregate",
    "pair_id",
    "pair__method",
    "pair__score",
    "pair__features",
    "pair__cluster_id",
    "pair__cluster__key",
    "pair__claim_a_id",
    "pair__claim_b_id",
)


class _ArticleCache:
    """Article provenance (document, outlet registry, sha256 of the article text), fetched in
    bulk for the articles of a chunk. Bounded: cleared when it grows large."""

    LIMIT = 5000

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    def load(self, article_ids: set[int]) -> None:
        missing = [a for a in article_ids if a not in self.rows]
        if not missing:
            return
        if len(self.rows) + len(missing) > self.LIMIT:
            self.rows = {a: self.rows[a] for a in article_ids if a in self.rows}
        qs = (
            Article.objects.filter(pk__in=missing)
            .annotate(body=Substr("document__text", F("start") + 1, F("end") - F("start")))
            .values_list(
                "pk",
                "title",
                "published",
                "outlet_name",
                "document_id",
                "document__name",
                "document__url",
                "document__sha256",
                "outlet__name",
                "outlet__country",
                "outlet__kind",
                "outlet__affiliation",
                "outlet__reviewed",
                "body",
            )
        )
        for row in qs:
            self.rows[row[0]] = self.entry(row)

    @staticmethod
    def entry(row: tuple[Any, ...]) -> dict[str, Any]:
        """One article's fields from (pk, title, published, outlet_name, document id, name,
        url, sha256, outlet name, country, kind, affiliation, reviewed, article text)."""
        (pk, title, published, raw_outlet, doc_id, doc_name, doc_url, doc_sha) = row[:8]
        (o_name, o_country, o_kind, o_aff, o_reviewed, body) = row[8:]
        return {
            "document_id": doc_id,
            "document_name": doc_name,
            "document_url": doc_url or None,
            "document_sha256": doc_sha,
            "article_id": pk,
            "article_title": title or None,
            "article_sha256": hashlib.sha256((body or "").encode()).hexdigest(),
            "published": published.isoformat() if published else None,
            "outlet": raw_outlet or None,
            "outlet_name": o_name,
            "outlet_country": (o_country or None) if o_name is not None else None,
            "outlet_kind": o_kind,
            "outlet_affiliation": (o_aff or None) if o_name is not None else None,
            "outlet_reviewed": o_reviewed,
        }

    def get(self, article_id: int) -> dict[str, Any]:
        return self.rows[article_id]


def _labels_by_item(ctx: ExportContext, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The labels of a chunk of items, one query. Read with a plain cursor: the JSON values are
    decoded once here, without the ORM's per-value converters (this is the hot loop)."""
    if not item_ids:
        return {}
    out: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    table = Label._meta.db_table
    placeholders = ",".join(["%s"] * len(item_ids))
    connection = connections["default"]
    loads = json.loads
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT item_id, annotator_id, {connection.ops.quote_name('values')}, "  # noqa: S608
            f"schema_version_id, seconds, suggested, accepted, created_at FROM {table} "
            f"WHERE item_id IN ({placeholders})",
            item_ids,
        )
        rows = cursor.fetchall()
    annotators = ctx.annotators
    versions = ctx.schema_versions
    for item_id, annotator_id, values, sv_id, seconds, suggested, accepted, created in rows:
        name = annotators.get(annotator_id)
        if name is None:  # a label newer than the pseudonym query cannot exist in a snapshot
            name = annotators[annotator_id] = f"a{len(annotators) + 1}"
        if isinstance(values, (str, bytes)):
            values = loads(values)
        if isinstance(created, str):  # SQLite may return text
            from django.utils.dateparse import parse_datetime

            created = parse_datetime(created)
        if created is not None and created.tzinfo is None:  # SQLite stores UTC, naive
            created = created.replace(tzinfo=UTC)
        out[item_id].append(
            (
                int(name[1:]),
                {
                    "annotator": name,
                    "values": values,
                    "schema_version": versions.get(sv_id),
                    "seconds": seconds,
                    "created_at": created.isoformat() if created is not None else None,
                    "suggested": bool(suggested),
                    "accepted": None if accepted is None else bool(accepted),
                },
            )
        )
    return {k: [label for _, label in sorted(v, key=_first)] for k, v in out.items()}


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _decisions_by_item(ctx: ExportContext, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The newest decision of each settled item, as the record's `adjudication`."""
    if not item_ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    rows = (
        Decision.objects.filter(item_id__in=item_ids)
        .order_by("item_id", "-version")
        .values_list(
            "item_id",
            "version",
            "action",
            "reviewer_id",
            "changed_fields",
            "note",
            "overrides_majority",
            "created_at",
        )
    )
    for item_id, version, action, reviewer_id, changed, note, overrides, created in rows:
        if item_id in out:
            continue
        out[item_id] = {
            "method": "auto_settle" if action == Decision.Action.AUTO_SETTLE else "reviewer",
            "reviewer": ctx.reviewers.get(reviewer_id) if reviewer_id is not None else None,
            "changed_fields": list(changed or []),
            "note": note,
            "overrides_majority": overrides,
            "version": version,
            "decided_at": created.isoformat(),
        }
    return out


def _value_key(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if isinstance(value, str) else str(value)


def soft_labels(labels: list[dict[str, Any]], field_types: dict[str, str]) -> dict[str, Any]:
    """Per field, the share of annotators who chose each value (for a multi-select field, the
    share who ticked each choice), over the annotators who gave the field. Spans are left out."""
    counts: dict[str, dict[str, int]] = {}
    givers: dict[str, int] = {}
    for label in labels:
        values = label["values"]
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if value is None:
                continue
            ftype = field_types.get(name)
            if ftype is None:
                # A field of an older schema: infer (a list of two ints is a span).
                if isinstance(value, list):
                    if all(isinstance(v, int) for v in value):
                        continue
                    ftype = "multi"
                else:
                    ftype = "single"
            elif ftype not in SOFT_TYPES:
                continue
            givers[name] = givers.get(name, 0) + 1
            field_counts = counts.setdefault(name, {})
            if ftype == "multi":
                for choice in value if isinstance(value, list) else ():
                    key = _value_key(choice)
                    field_counts[key] = field_counts.get(key, 0) + 1
            else:
                key = _value_key(value)
                field_counts[key] = field_counts.get(key, 0) + 1
    return {
        name: {value: n / givers[name] for value, n in sorted(counts[name].items())}
        for name in sorted(givers)
    }


def _common(
    ctx: ExportContext,
    item_id: int,
    status: str,
    gold: Any,
    aggregate: Any,
    labels: list[dict[str, Any]],
    decision: dict[str, Any] | None,
    field_types: dict[str, str],
) -> dict[str, Any]:
    settled = status == Item.Status.SETTLED
    return {
        "dataset_version": ctx.version,
        "project": ctx.project.slug,
        "schema_version": ctx.schema_version,
        "guidelines_version": ctx.schema_version,
        "item_id": item_id,
        "status": status,
        "settled": settled,
        "gold": gold if settled else None,
        "adjudication": decision if settled else None,
        "labels": labels,
        "n_labels": len(labels),
        "soft_labels": soft_labels(labels, field_types),
        "aggregate": aggregate,
    }


def _chunks(qs: Any, fields: tuple[str, ...], size: int) -> Iterator[list[tuple[Any, ...]]]:
    # A small first chunk so the first bytes leave quickly; then full chunks.
    chunk: list[tuple[Any, ...]] = []
    limit = min(size, FIRST_CHUNK)
    for row in qs.values_list(*fields).iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) >= limit:
            yield chunk
            chunk = []
            limit = size
    if chunk:
        yield chunk


def claim_records(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """Claim records, one list per chunk of the server-side cursor."""
    articles = _ArticleCache()
    field_types = ctx.field_types["claim"]
    qs = _items(ctx.project, "claims", include)
    for chunk in _chunks(qs, _CLAIM_ITEM_FIELDS, chunk_size):
        ids = [row[0] for row in chunk]
        articles.load({row[5] for row in chunk})
        labels = _labels_by_item(ctx, ids)
        decisions = _decisions_by_item(
            ctx, [row[0] for row in chunk if row[1] == Item.Status.SETTLED]
        )
        records = []
        for row in chunk:
            (item_id, status, gold, aggregate, claim_id, article_id, start, end, text) = row[:9]
            (language, unit_kind, unit_defect, cluster_id, cluster_key) = row[9:]
            record = {
                "id": f"claim-{claim_id}",
                "claim_id": claim_id,
                **articles.get(article_id),
                "language": language or None,
                "start": start,
                "end": end,
                "text": text,
                "unit_kind": unit_kind,
                "unit_defect": unit_defect,
                "event_cluster": cluster_key,
                "split": ctx.splits.split_of(cluster_id, article_id),
                **_common(
                    ctx,
                    item_id,
                    status,
                    gold,
                    aggregate,
                    labels.get(item_id, []),
                    decisions.get(item_id),
                    field_types,
                ),
            }
            _count(ctx, "claims", record)
            records.append(record)
        yield records


def _claim_provenance(ids: set[int], articles: _ArticleCache) -> dict[int, dict[str, Any]]:
    from ...models import Claim

    rows = list(
        Claim.objects.filter(pk__in=ids).values_list(
            "pk",
            "article_id",
            "start",
            "end",
            "text",
            "language",
            "unit_kind",
            "unit_defect",
            "cluster_id",
            "cluster__key",
        )
    )
    articles.load({row[1] for row in rows})
    out = {}
    for pk, article_id, start, end, text, language, kind, defect, cluster_id, key in rows:
        out[pk] = {
            "claim_id": pk,
            **articles.get(article_id),
            "language": language or None,
            "start": start,
            "end": end,
            "text": text,
            "unit_kind": kind,
            "unit_defect": defect,
            "event_cluster": key,
            "_group": group_key(cluster_id, article_id),
        }
    return out


def pair_records(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """Pair records: both claims' provenance and offsets, how the pair was proposed, family C
    labels. The split is that of the pair's event cluster, else that of claim A's group."""
    articles = _ArticleCache()
    field_types = ctx.field_types["pair"]
    qs = _items(ctx.project, "pairs", include)
    for chunk in _chunks(qs, _PAIR_ITEM_FIELDS, chunk_size):
        ids = [row[0] for row in chunk]
        claims = _claim_provenance({r[10] for r in chunk} | {r[11] for r in chunk}, articles)
        labels = _labels_by_item(ctx, ids)
        decisions = _decisions_by_item(
            ctx, [row[0] for row in chunk if row[1] == Item.Status.SETTLED]
        )
        records = []
        for row in chunk:
            (item_id, status, gold, aggregate, pair_id, method, score, features) = row[:8]
            (cluster_id, cluster_key, a_id, b_id) = row[8:]
            a = dict(claims[a_id])
            b = dict(claims[b_id])
            split = None
            if cluster_id is not None:
                split = ctx.splits.by_group.get(("cluster", cluster_id))
            if split is None:
                split = ctx.splits.by_group.get(a["_group"])
            del a["_group"], b["_group"]
            record = {
                "id": f"pair-{pair_id}",
                "pair_id": pair_id,
                "method": method,
                "score": score,
                "features": features,
                "claim_a": a,
                "claim_b": b,
                "event_cluster": cluster_key,
                "split": split,
                **_common(
                    ctx,
                    item_id,
                    status,
                    gold,
                    aggregate,
                    labels.get(item_id, []),
                    decisions.get(item_id),
                    field_types,
                ),
            }
            _count(ctx, "pairs", record)
            records.append(record)
        yield records


def _count(ctx: ExportContext, kind: str, record: dict[str, Any]) -> None:
    stats = ctx.stats
    stats[f"{kind}:split"][record["split"] or "none"] += 1
    stats[f"{kind}:settled"][str(record["settled"]).lower()] += 1
    if kind == "claims":
        stats["claims:language"][record["language"] or "unknown"] += 1
        stats["claims:defect"][record["unit_defect"]] += 1
        if record["adjudication"]:
            stats["claims:method"][record["adjudication"]["method"]] += 1
            if record["adjudication"]["overrides_majority"]:
                stats["claims:overrides"]["true"] += 1


RECORDS: dict[str, Callable[..., Iterator[list[dict[str, Any]]]]] = {
    "claims": claim_records,
    "pairs": pair_records,
}
