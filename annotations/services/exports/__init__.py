"""Dataset export: records (label-schema.md "Export record"), formats, the snapshot, versions.

A live export runs inside ONE transaction, `REPEATABLE READ, READ ONLY` on PostgreSQL, so it is
consistent with itself while annotators keep working. The output is deterministic: records
ordered by item id, JSON keys sorted, no "now" timestamps in records, `dataset_version` null for
a live export. Memory stays flat: records are produced per chunk of a server-side cursor.

Two ways to the same bytes: `records` builds record dicts in Python with a few bulk queries per
chunk (the reference path, used on SQLite); on PostgreSQL `fast` has the database build the claim
records' JSON or CSV segments (or Parquet values) in one query, with Python filling in the
canonical JSON of jsonb values through caches (the P7 path), and `fast_pairs` does the same for
pairs from plain column values (tests/exports/test_fast.py compares the paths).

Modules: common (constants, columns, encoder, snapshot), records, fast, fast_sql, fast_pairs,
formats, versions.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models import Project
from . import fast as fast_path
from . import fast_pairs
from .common import (
    CHUNK_SIZE,
    CLAIM_COLUMNS,
    COLUMNS,
    CONTENT_TYPES,
    FIRST_CHUNK,
    FORMATS,
    INCLUDES,
    KINDS,
    PAIR_COLUMNS,
    SOFT_TYPES,
    ExportError,
    check_options,
    export_snapshot,
)
from .formats import (
    FORMULA_PREFIXES,
    WRITERS,
    CsvWriter,
    JsonlWriter,
    ParquetWriter,
    csv_cell,
)
from .records import (
    RECORDS,
    ExportContext,
    annotator_pseudonyms,
    claim_records,
    export_count,
    pair_records,
    reviewer_pseudonyms,
    soft_labels,
)
from .versions import (
    VERSION_FILES,
    changelog_text,
    dataset_version_freeze,
    version_dir,
    version_file_path,
    version_get,
    versions_for,
    versions_root,
)


def export_stream(
    *,
    project: Project,
    kind: str = "claims",
    include: str = "labelled",
    fmt: str = "jsonl",
    chunk_size: int = CHUNK_SIZE,
    fast: bool = True,
) -> Iterator[bytes]:
    """The live export as a stream of bytes. The generator owns its transaction for its whole
    life: it opens when the first bytes are asked for and closes (rolls back: nothing was
    written) when the stream ends, fails or is closed early (client gone).

    On PostgreSQL records take the SQL-built path (claims: `fast.claim_lines` for JSONL,
    `fast.claim_csv` for CSV, `fast.claim_rows` for Parquet; pairs: `fast_pairs.pair_rows`;
    the same bytes); `fast=False` forces the reference path (for tests and comparisons)."""
    check_options(fmt=fmt, include=include, kind=kind)
    with export_snapshot():
        ctx = fast_path.build_context(project) if fast else ExportContext.build(project)
        if fast and kind == "pairs" and fast_path.usable():
            yield from _pairs_fast(ctx, include, fmt, chunk_size)
            return
        if fast and kind == "claims" and fast_path.usable():
            if fmt == "jsonl":
                for lines in fast_path.claim_lines(ctx, include, chunk_size):
                    yield ("\n".join(lines) + "\n").encode()
                return
            if fmt == "csv":
                yield CsvWriter(kind).start()
                for lines in fast_path.claim_csv(ctx, include, chunk_size):
                    yield "".join(lines).encode()
                return
            writer = WRITERS[fmt](kind)
            head = writer.start()
            if head:
                yield head
            for rows in fast_path.claim_rows(ctx, include, chunk_size):
                yield writer.write_rows(rows)
            tail = writer.finish()
            if tail:
                yield tail
            return
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


def _pairs_fast(ctx: ExportContext, include: str, fmt: str, chunk_size: int) -> Iterator[bytes]:
    rows_of = fast_pairs.pair_rows(ctx, include, chunk_size)
    if fmt == "parquet":
        writer = ParquetWriter("pairs")
        yield writer.start()
        for rows in rows_of:
            yield writer.write_rows(rows)
        yield writer.finish()
    elif fmt == "csv":
        yield CsvWriter("pairs").start()
        for rows in rows_of:
            yield "".join(map(fast_pairs.csv_line, rows)).encode()
    else:
        for rows in rows_of:
            yield "".join(fast_pairs.jsonl_line(row) + "\n" for row in rows).encode()


def export_filename(*, project: Project, kind: str, include: str, fmt: str) -> str:
    return f"{project.slug}-{kind}-{include}-live.{fmt}"


__all__ = [
    "CHUNK_SIZE",
    "CLAIM_COLUMNS",
    "COLUMNS",
    "CONTENT_TYPES",
    "FIRST_CHUNK",
    "FORMATS",
    "FORMULA_PREFIXES",
    "INCLUDES",
    "KINDS",
    "PAIR_COLUMNS",
    "RECORDS",
    "SOFT_TYPES",
    "VERSION_FILES",
    "WRITERS",
    "CsvWriter",
    "ExportContext",
    "ExportError",
    "JsonlWriter",
    "ParquetWriter",
    "annotator_pseudonyms",
    "changelog_text",
    "check_options",
    "claim_records",
    "csv_cell",
    "dataset_version_freeze",
    "export_count",
    "export_filename",
    "export_snapshot",
    "export_stream",
    "pair_records",
    "reviewer_pseudonyms",
    "soft_labels",
    "version_dir",
    "version_file_path",
    "version_get",
    "versions_for",
    "versions_root",
]
