"""Dataset export: records (label-schema.md "Export record"), formats, the snapshot, versions.

Records are built per chunk of a server-side cursor with a few bulk queries per chunk (labels,
decisions, articles), so memory stays flat and there is no query per record. A live export runs
inside ONE transaction, `REPEATABLE READ, READ ONLY` on PostgreSQL, so it is consistent with
itself while annotators keep working. The output is deterministic: records ordered by item id,
JSON keys sorted, no "now" timestamps in records, `dataset_version` null for a live export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.db.models.functions import Substr
from django.utils import timezone

from ..models import (
    Article,
    DatasetVersion,
    Decision,
    Item,
    Job,
    Label,
    Project,
    SchemaVersion,
)
from .jobs import JobError, ProgressFn, job_create, register
from .splits import SplitAssignment, group_key, split_assign

FORMATS = ("jsonl", "csv", "parquet")
INCLUDES = ("labelled", "settled")
KINDS = ("claims", "pairs")
CHUNK_SIZE = 2000
FIRST_CHUNK = 200
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}
# Kinds of schema fields that get a label distribution in `soft_labels` (spans do not).
SOFT_TYPES = {"bool", "single", "ordinal", "multi"}

# Column order of CSV and Parquet (JSONL keys are sorted). Types: i=int64, f=float64, b=bool,
# s=string, j=nested value stored as a JSON string.
CLAIM_COLUMNS: list[tuple[str, str]] = [
    ("id", "s"),
    ("dataset_version", "i"),
    ("project", "s"),
    ("schema_version", "i"),
    ("guidelines_version", "i"),
    ("item_id", "i"),
    ("claim_id", "i"),
    ("document_id", "i"),
    ("document_name", "s"),
    ("document_url", "s"),
    ("document_sha256", "s"),
    ("article_id", "i"),
    ("article_title", "s"),
    ("article_sha256", "s"),
    ("published", "s"),
    ("outlet", "s"),
    ("outlet_name", "s"),
    ("outlet_country", "s"),
    ("outlet_kind", "s"),
    ("outlet_affiliation", "s"),
    ("outlet_reviewed", "b"),
    ("language", "s"),
    ("start", "i"),
    ("end", "i"),
    ("text", "s"),
    ("unit_kind", "s"),
    ("unit_defect", "s"),
    ("status", "s"),
    ("settled", "b"),
    ("gold", "j"),
    ("adjudication", "j"),
    ("labels", "j"),
    ("n_labels", "i"),
    ("soft_labels", "j"),
    ("aggregate", "j"),
    ("event_cluster", "s"),
    ("split", "s"),
]
PAIR_COLUMNS: list[tuple[str, str]] = [
    ("id", "s"),
    ("dataset_version", "i"),
    ("project", "s"),
    ("schema_version", "i"),
    ("guidelines_version", "i"),
    ("item_id", "i"),
    ("pair_id", "i"),
    ("method", "s"),
    ("score", "f"),
    ("features", "j"),
    ("claim_a", "j"),
    ("claim_b", "j"),
    ("status", "s"),
    ("settled", "b"),
    ("gold", "j"),
    ("adjudication", "j"),
    ("labels", "j"),
    ("n_labels", "i"),
    ("soft_labels", "j"),
    ("aggregate", "j"),
    ("event_cluster", "s"),
    ("split", "s"),
]
COLUMNS = {"claims": CLAIM_COLUMNS, "pairs": PAIR_COLUMNS}


class ExportError(ValueError):
    """Bad export parameters (shown to the user)."""


def check_options(*, fmt: str, include: str, kind: str) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}")
    if include not in INCLUDES:
        raise ExportError(f"include must be one of {', '.join(INCLUDES)}")
    if kind not in KINDS:
        raise ExportError(f"kind must be one of {', '.join(KINDS)}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_dumps = _ENCODER.encode


# --- the snapshot -----------------------------------------------------------------------------


@contextmanager
def export_snapshot(*, read_only: bool = True, using: str = "default") -> Iterator[None]:
    """One transaction for the whole export. On PostgreSQL it is REPEATABLE READ (and READ ONLY
    unless the caller must write progress through the same connection), so every query of the
    export sees the database as it was at the first one. On SQLite (the embedded mode) no
    transaction is held: a long read transaction would block the annotators' writes there."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost:
            mode = "REPEATABLE READ, READ ONLY" if read_only else "REPEATABLE READ"
            with connection.cursor() as cursor:
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {mode}")
        yield


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
    def build(cls, project: Project, version: int | None = None) -> ExportContext:
        """The per-export lookups: pseudonyms, schema versions, splits (a few queries)."""
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
            annotators=annotator_pseudonyms(project),
            reviewers=reviewer_pseudonyms(project),
            splits=split_assign(project=project),
        )


def annotator_pseudonyms(project: Project) -> dict[int, str]:
    """a1, a2, … by the order of each annotator's first label in the project: stable as the
    project grows, and never a user name."""
    rows = (
        Label.objects.filter(item__project=project)
        .values("annotator_id")
        .annotate(first=Min("created_at"))
        .order_by("first", "annotator_id")
        .values_list("annotator_id", flat=True)
    )
    return {user_id: f"a{i}" for i, user_id in enumerate(rows, start=1)}


def reviewer_pseudonyms(project: Project) -> dict[int, str]:
    """r1, r2, … by the order of each reviewer's first decision in the project."""
    rows = (
        Decision.objects.filter(item__project=project, reviewer__isnull=False)
        .values("reviewer_id")
        .annotate(first=Min("created_at"))
        .order_by("first", "reviewer_id")
        .values_list("reviewer_id", flat=True)
    )
    return {user_id: f"r{i}" for i, user_id in enumerate(rows, start=1)}


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

    LIMIT = 20000

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
            (pk, title, published, raw_outlet, doc_id, doc_name, doc_url, doc_sha) = row[:8]
            (o_name, o_country, o_kind, o_aff, o_reviewed, body) = row[8:]
            self.rows[pk] = {
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
    from ..models import Claim

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


# --- formats ----------------------------------------------------------------------------------


class JsonlWriter:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def start(self) -> bytes:
        return b""

    def write(self, records: list[dict[str, Any]]) -> bytes:
        return "".join(_dumps(r) + "\n" for r in records).encode()

    def finish(self) -> bytes:
        return b""


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, kind: str) -> Any:
    """One CSV cell: nested values as JSON; text that a spreadsheet would run as a formula
    (starting with = + - @, tab or carriage return) gets a leading apostrophe."""
    if value is None:
        return ""
    if kind == "j":
        value = _dumps(value)
    elif kind == "b":
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class CsvWriter:
    def __init__(self, kind: str) -> None:
        self.columns = COLUMNS[kind]

    def start(self) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([name for name, _ in self.columns])
        return buffer.getvalue().encode()

    def write(self, records: list[dict[str, Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        columns = self.columns
        writer.writerows(
            [csv_cell(record.get(name), kind) for name, kind in columns] for record in records
        )
        return buffer.getvalue().encode()

    def finish(self) -> bytes:
        return b""


class _Sink:
    """A write-only file for pyarrow that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


class ParquetWriter:
    """One row group per chunk, streamed as it is written. Nested values are JSON strings."""

    def __init__(self, kind: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.columns = COLUMNS[kind]
        types = {"i": pa.int64(), "f": pa.float64(), "b": pa.bool_(), "s": pa.string()}
        self.schema = pa.schema(
            [(name, types.get(kind, pa.string())) for name, kind in self.columns]
        )
        self.sink = _Sink()
        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")

    def start(self) -> bytes:
        return self.sink.drain()

    def write(self, records: list[dict[str, Any]]) -> bytes:
        data: dict[str, list[Any]] = {}
        for name, kind in self.columns:
            if kind == "j":
                data[name] = [None if r.get(name) is None else _dumps(r[name]) for r in records]
            else:
                data[name] = [r.get(name) for r in records]
        table = self.pa.Table.from_pydict(data, schema=self.schema)
        self.writer.write_table(table, row_group_size=max(1, len(records)))
        return self.sink.drain()

    def finish(self) -> bytes:
        self.writer.close()
        return self.sink.drain()


WRITERS: dict[str, Callable[[str], Any]] = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "parquet": ParquetWriter,
}


def export_stream(
    *,
    project: Project,
    kind: str = "claims",
    include: str = "labelled",
    fmt: str = "jsonl",
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """The live export as a stream of bytes. The generator owns its transaction for its whole
    life: it opens when the first bytes are asked for and closes (rolls back: nothing was
    written) when the stream ends, fails or is closed early (client gone)."""
    check_options(fmt=fmt, include=include, kind=kind)
    with export_snapshot():
        ctx = ExportContext.build(project)
        writer = WRITERS[fmt](kind)
        head = writer.start()
        if head:
            yield head
        for records in RECORDS[kind](ctx, include, chunk_size):
            data = writer.write(records)
            if data:
                yield data
        tail = writer.finish()
        if tail:
            yield tail


def export_filename(*, project: Project, kind: str, include: str, fmt: str) -> str:
    return f"{project.slug}-{kind}-{include}-live.{fmt}"


# --- versions ---------------------------------------------------------------------------------

VERSION_FILES = [f"{kind}.{fmt}" for kind in KINDS for fmt in FORMATS]


def versions_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "exports"


def version_dir(project: Project, number: int) -> Path:
    return versions_root() / project.slug / str(number)


def version_file_path(version: DatasetVersion, name: str) -> Path | None:
    """The path of one file of a frozen version, or None: only names recorded in the version
    are ever opened (no path from the request reaches the file system)."""
    if version.frozen_at is None or name not in (version.files or {}):
        return None
    return version_dir(version.project, version.number) / name


def dataset_version_freeze(*, project: Project, user: Any, note: str = "") -> DatasetVersion:
    """Allocate the next version number and start the job that writes its files."""
    note = (note or "").strip()[:300]
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        last = DatasetVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"]
        version = DatasetVersion.objects.create(
            project=project,
            number=(last or 0) + 1,
            note=note,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        job = job_create(
            kind="export", project=project, user=user, params={"version_id": version.pk}
        )
        DatasetVersion.objects.filter(pk=version.pk).update(job=job)
        version.job = job
    return version


def _file_entry(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"sha256": digest.hexdigest(), "size": size}


def _previous_index(project: Project, number: int) -> dict[str, tuple[str, str | None]] | None:
    """record id -> (gold as canonical JSON, split) of the newest frozen version before
    `number`, read back from its JSONL files."""
    previous = (
        DatasetVersion.objects.filter(project=project, number__lt=number, frozen_at__isnull=False)
        .order_by("-number")
        .first()
    )
    if previous is None:
        return None
    index: dict[str, tuple[str, str | None]] = {}
    for kind in KINDS:
        path = version_dir(project, previous.number) / f"{kind}.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                index[record["id"]] = (_dumps(record.get("gold")), record.get("split"))
    index["__number__"] = (str(previous.number), None)
    return index


def _changelog(
    previous: dict[str, tuple[str, str | None]] | None,
    current: dict[str, tuple[str, str | None]],
) -> dict[str, Any]:
    if previous is None:
        return {
            "previous_version": None,
            "added": sorted(current, key=_id_order),
            "removed": [],
            "gold_changed": [],
            "split_changed": [],
            "counts": {"added": len(current), "removed": 0, "gold_changed": 0, "split_changed": 0},
        }
    number = int(previous.pop("__number__")[0])
    added = sorted((k for k in current if k not in previous), key=_id_order)
    removed = sorted((k for k in previous if k not in current), key=_id_order)
    both = [k for k in current if k in previous]
    gold_changed = sorted((k for k in both if current[k][0] != previous[k][0]), key=_id_order)
    split_changed = sorted((k for k in both if current[k][1] != previous[k][1]), key=_id_order)
    return {
        "previous_version": number,
        "added": added,
        "removed": removed,
        "gold_changed": gold_changed,
        "split_changed": split_changed,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "gold_changed": len(gold_changed),
            "split_changed": len(split_changed),
        },
    }


def _id_order(record_id: str) -> tuple[str, int]:
    kind, _, number = record_id.partition("-")
    return (kind, int(number) if number.isdigit() else 0)


def changelog_text(changelog: dict[str, Any]) -> str:
    counts = changelog["counts"]
    previous = changelog["previous_version"]
    against = f"against version {previous}" if previous else "first version"
    lines = [
        f"Changes {against}: {counts['added']} records added, {counts['removed']} removed, "
        f"gold changed in {counts['gold_changed']}, split changed in {counts['split_changed']}."
    ]
    for key in ("added", "removed", "gold_changed", "split_changed"):
        ids = changelog[key]
        if ids:
            shown = ", ".join(ids[:50]) + (f", … ({len(ids) - 50} more)" if len(ids) > 50 else "")
            lines.append(f"- {key.replace('_', ' ')}: {shown}")
    lines.append("The full lists are in changelog.json.")
    return "\n".join(lines)


@register("export")
def _freeze_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """Write every file of a dataset version, then freeze the version row. Idempotent: a frozen
    version is left alone; an interrupted run starts over in a fresh temporary folder."""
    from .datasheet import datasheet_markdown

    version = (
        DatasetVersion.objects.select_related("project")
        .filter(pk=job.params.get("version_id"))
        .first()
    )
    if version is None:
        raise JobError("The dataset version no longer exists.")
    if version.frozen_at is not None:
        return {"version": version.number, "files": sorted(version.files)}
    project = version.project
    final = version_dir(project, version.number)
    if final.exists():
        raise JobError(f"Files for version {version.number} exist already; not overwritten.")
    tmp = final.parent / f".{version.number}.tmp-{job.pk}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    from .jobs import _progress_db

    try:
        read_only = _progress_db() != "default"
        current: dict[str, tuple[str, str | None]] = {}
        counts: dict[str, int] = {}
        with export_snapshot(read_only=read_only):
            ctx = ExportContext.build(project, version=version.number)
            totals = {k: export_count(project=project, kind=k, include="labelled") for k in KINDS}
            grand = max(1, sum(totals.values()))
            done = 0
            for kind in KINDS:
                writers = {fmt: WRITERS[fmt](kind) for fmt in FORMATS}
                handles = {fmt: (tmp / f"{kind}.{fmt}").open("wb") for fmt in FORMATS}
                try:
                    for fmt, writer in writers.items():
                        handles[fmt].write(writer.start())
                    for records in RECORDS[kind](ctx, "labelled"):
                        for fmt, writer in writers.items():
                            handles[fmt].write(writer.write(records))
                        for record in records:
                            current[record["id"]] = (_dumps(record["gold"]), record["split"])
                        done += len(records)
                        progress(0.95 * done / grand, f"{done} of {grand} records")
                    for fmt, writer in writers.items():
                        handles[fmt].write(writer.finish())
                finally:
                    for handle in handles.values():
                        handle.close()
                counts[kind] = totals[kind]
            datasheet = datasheet_markdown(ctx, version=version, note=version.note)
        previous = _previous_index(project, version.number)
        changelog = _changelog(previous, current)
        (tmp / "datasheet.md").write_text(datasheet, encoding="utf-8")
        (tmp / "changelog.json").write_text(
            json.dumps(changelog, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        files = {}
        for name in [*VERSION_FILES, "datasheet.md", "changelog.json"]:
            path = tmp / name
            files[name] = _file_entry(path)
            path.chmod(0o444)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    updated = DatasetVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(
        files=files,
        changelog=changelog_text(changelog),
        datasheet=datasheet,
        record_counts=counts,
        frozen_at=timezone.now(),
    )
    if not updated:
        raise JobError("The version was frozen by another run.")
    progress(1.0, "frozen")
    return {"version": version.number, "records": counts, "changes": changelog["counts"]}


def versions_for(project: Project) -> Any:
    return DatasetVersion.objects.filter(project=project).select_related("job").order_by("-number")


def version_get(*, project: Project, number: int) -> DatasetVersion | None:
    return (
        DatasetVersion.objects.filter(project=project, number=number)
        .select_related("project", "job")
        .first()
    )


__all__ = [
    "FORMATS",
    "INCLUDES",
    "KINDS",
    "ExportContext",
    "ExportError",
    "check_options",
    "claim_records",
    "csv_cell",
    "dataset_version_freeze",
    "export_count",
    "export_filename",
    "export_snapshot",
    "export_stream",
    "pair_records",
    "soft_labels",
    "version_file_path",
]
