"""Export constants, column lists, option checks, the canonical JSON encoder and the snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction

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
