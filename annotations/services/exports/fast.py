"""Claim records built mostly inside PostgreSQL (the P7 path): JSONL lines, CSV lines, and
rows for Parquet.

One server-side cursor over the items, in item order. For JSONL (and CSV) PostgreSQL returns
each record's text in a few ready-made segments (integers, strings through `to_json` or quoted
and neutralised as CSV cells, booleans, timestamps in Python's `isoformat`, floats in Python's
`repr`), with the item's labels aggregated into two strings (one JSON prefix per label and the
raw `jsonb` text of its values); for Parquet, plain column values. Python only fills in what
must be canonical Python JSON (sorted keys, compact): label values, gold, aggregate and the
changed fields, each through a bounded cache keyed by the `jsonb` text (label values repeat a
lot), the soft labels (cached by the item's label values), the article's part (once per
article, from the reference path's entry), the split, and joins.

The bytes are exactly those of the reference path (`records.claim_records` and the writers);
tests/exports/test_fast.py compares them on PostgreSQL. The path is used only on PostgreSQL
inside the export's REPEATABLE READ snapshot. fast_pairs.py does the same for pairs.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections import Counter
from collections.abc import Iterator
from operator import add
from typing import Any

from django.db import connections

from ...models import Project
from .common import CHUNK_SIZE, CLAIM_COLUMNS, FIRST_CHUNK, _dumps
from .fast_sql import article_sql, claims_sql
from .formats import csv_text
from .records import ExportContext, _ArticleCache, soft_labels

SEP = "\x1f"  # between labels; jsonb text and to_json output never hold it raw
FIX = "\x1e"  # around a float that Python must format itself (exponent notation, NaN, …)
_FIX_RE = re.compile("\x1e([^\x1e]*)\x1e")
# Entries per cache (jsonb text -> canonical JSON, label values -> soft labels, …): values
# repeat a lot, and a bound keeps memory flat when they do not (free-text or span labels).
CACHE_LIMIT = 4096

# Sorted-key runs of the claim record that come from the article (see _article_fragments).
_ARTICLE_RUNS = (
    ("article_id", "article_sha256", "article_title"),
    ("document_id", "document_name", "document_sha256", "document_url"),
    (
        "outlet",
        "outlet_affiliation",
        "outlet_country",
        "outlet_kind",
        "outlet_name",
        "outlet_reviewed",
    ),
    ("published",),
)


# The article's columns in CLAIM_COLUMNS (document_id … outlet_reviewed), in that order.
_FIRST = CLAIM_COLUMNS.index(("document_id", "i"))
ARTICLE_COLUMNS = tuple(name for name, _ in CLAIM_COLUMNS[_FIRST:21])
ARTICLE_KINDS = tuple(kind for _, kind in CLAIM_COLUMNS[_FIRST:21])


def usable(using: str = "default") -> bool:
    """True on PostgreSQL inside a REPEATABLE READ transaction (the export snapshot)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        return cursor.fetchone()[0] in ("repeatable read", "serializable")


def build_context(project: Project, version: int | None = None) -> ExportContext:
    """ExportContext.build inside the export's snapshot, with settings for its one-off queries:
    no JIT compile (it costs more than it saves before the first byte) and the split
    assignment's sorts in memory (when it is not cached). The pseudonyms are a few stored rows
    and the splits usually a cache hit (services/splits.py), so nothing runs in parallel."""
    connection = connections["default"]
    if not usable():
        return ExportContext.build(project, version)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
    try:
        return ExportContext.build(project, version)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO DEFAULT")


class _Canon:
    """jsonb text -> canonical JSON text (sorted keys, compact), bounded cache."""

    def __init__(self, convert: Any = None) -> None:
        self.cache: dict[str, str] = {}
        self.convert = convert

    def __call__(self, text: str | None) -> str:
        if text is None:
            return "null"
        hit = self.cache.get(text)
        if hit is None:
            value = json.loads(text)
            if self.convert is not None:
                value = self.convert(value)
            hit = _dumps(value)
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[text] = hit
        return hit


def _changed_fields(value: Any) -> list[Any]:
    return list(value or [])


class _Labels:
    """The item's label values ('\\x1f'-joined jsonb texts) -> (canonical values, each closed
    with '}', and the soft labels JSON), cached."""

    def __init__(self, field_types: dict[str, str]) -> None:
        self.field_types = field_types
        self.cache: dict[str, tuple[list[str], str]] = {}
        self.values: dict[str, tuple[str, Any]] = {}

    def __call__(self, joined: str) -> tuple[list[str], str]:
        hit = self.cache.get(joined)
        if hit is None:
            parsed = []
            closed = []
            for text in joined.split(SEP):
                entry = self.values.get(text)
                if entry is None:
                    value = json.loads(text)
                    entry = (_dumps(value) + "}", value)
                    if len(self.values) >= CACHE_LIMIT:
                        self.values.clear()
                    self.values[text] = entry
                closed.append(entry[0])
                # soft_labels only reads the values: a fresh parse is not needed.
                parsed.append({"values": entry[1]})
            hit = (closed, _dumps(soft_labels(parsed, self.field_types)))
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[joined] = hit
        return hit


def _fix_floats(text: str) -> str:
    return _FIX_RE.sub(lambda m: _dumps(float(m.group(1))), text)


class _Articles:
    """What a claim record takes from its article, built once per article from the reference
    path's article entries (so the bytes are the same): for JSONL the four sorted-key runs, for
    CSV the cells, for Parquet the column values. Filled from the rows that the prefetch thread
    reads (`add`)."""

    def __init__(self, mode: str) -> None:
        self.by_id: dict[int, Any] = {}
        self.build = {"jsonl": _article_runs, "csv": _article_cells, "tabular": _article_values}[
            mode
        ]

    def add(self, rows: list[tuple[Any, ...]], reset: bool) -> None:
        if reset:  # bounded: the prefetch thread asks for every article again after this
            self.by_id.clear()  # in place: the record loops hold this dict
        build = self.build
        for raw in rows:
            self.by_id[raw[0]] = build(_ArticleCache.entry(raw))


def _article_runs(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_dumps({k: row[k] for k in run})[1:-1] for run in _ARTICLE_RUNS)


def _article_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in ARTICLE_COLUMNS)


def _article_cells(row: dict[str, Any]) -> str:
    cells = []
    for name, kind in zip(ARTICLE_COLUMNS, ARTICLE_KINDS, strict=True):
        value = row[name]
        if value is None:
            cells.append("")
        elif kind == "b":
            cells.append("true" if value else "false")
        elif isinstance(value, str):
            cells.append(csv_text(value))
        else:
            cells.append(str(value))
    return ",".join(cells)


class _Prefetch:
    """Reads the next chunk (and the articles it needs) in a thread while the caller turns
    the current one into records, so PostgreSQL and Python work at the same time. The thread
    is the only user of the connection while it runs (psycopg releases the GIL while it
    waits); `close` stops and joins it before the cursor or the transaction is closed."""

    def __init__(
        self, cursor: Any, raw_connection: Any, first: int, size: int, articles: tuple[int, ...]
    ) -> None:
        self.cursor = cursor
        self.article_columns = articles
        self.raw = raw_connection
        self.sizes = (first, size)
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="export-prefetch", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            size = self.sizes[0]
            requested: set[int] = set()
            sql = article_sql()
            while not self.stop.is_set():
                rows = self.cursor.fetchmany(size)
                size = self.sizes[1]
                if not rows:
                    self._put(None)
                    return
                ids = {row[i] for row in rows for i in self.article_columns}
                reset = len(requested) + len(ids) > _ArticleCache.LIMIT
                if reset:
                    requested = set()
                missing = [a for a in ids if a not in requested]
                articles: list[Any] = []
                if missing:
                    with self.raw.cursor() as cursor:
                        cursor.execute(sql, [missing])
                        articles = cursor.fetchall()
                    requested.update(missing)
                self._put((rows, articles, reset))
        except BaseException as exc:  # handed to the reading side
            self._put(exc)

    def _put(self, item: Any) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[tuple[list[tuple[Any, ...]], list[Any], bool]]:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class _State:
    """What every chunk of one export needs: query parameters, caches, article fragments."""

    def __init__(self, ctx: ExportContext, mode: str, kind: str = "claim") -> None:
        schema_versions = sorted(ctx.schema_versions.items())
        self.params: dict[str, Any] = {
            "project": ctx.project.pk,
            "dataset_version": "null" if ctx.version is None else str(int(ctx.version)),
            "schema_version": str(int(ctx.schema_version)),
            "sv_ids": [pk for pk, _ in schema_versions],
            "sv_numbers": [number for _, number in schema_versions],
            "annotators": [u for u, _ in sorted(ctx.annotators.items(), key=lambda kv: _n(kv[1]))],
            "reviewers": [u for u, _ in sorted(ctx.reviewers.items(), key=lambda kv: _n(kv[1]))],
            # CSV cells from dataset_version to guidelines_version (between id and item_id).
            "csv_head": ",{},{},{},{},".format(
                "" if ctx.version is None else int(ctx.version),
                csv_text(ctx.project.slug),
                int(ctx.schema_version),
                int(ctx.schema_version),
            ),
        }
        self.gold = _Canon()
        self.changed = _Canon(_changed_fields)
        self.labels = _Labels(ctx.field_types[kind])
        self.articles = _Articles(mode)
        self.mode = mode
        self.by_group = ctx.splits.by_group
        self.split_json: dict[str | None, str] = {None: "null"}

    def rows(
        self,
        include: str,
        chunk_size: int,
        using: str,
        sql: str | None = None,
        article_columns: tuple[int, ...] = (0,),
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The query's rows (`claims_sql` in this state's mode unless `sql` is given), one list
        per chunk, with the articles whose ids are in `article_columns` added to
        `self.articles`."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL extra_float_digits = 1")
            cursor.execute("SET LOCAL jit = off")
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql or claims_sql(include, self.mode), self.params)
            prefetch = _Prefetch(
                cursor.cursor,
                connection.connection,
                min(chunk_size, FIRST_CHUNK),
                chunk_size,
                article_columns,
            )
            try:
                for rows, articles, reset in prefetch:
                    self.articles.add(articles, reset)
                    yield rows
            finally:
                prefetch.close()

    def labels_json(self, prefixes: str | None, values: str | None) -> tuple[str, str]:
        """(the labels' JSON without brackets, the soft labels' JSON)."""
        if values is None:
            return "", "{}"
        closed, soft = self.labels(values)
        parts = prefixes.split(SEP)  # type: ignore[union-attr]
        if len(parts) != len(closed):  # a NULL prefix: a label whose annotator has no pseudonym
            raise RuntimeError("A label's annotator has no pseudonym (see models.Pseudonym).")
        labels = ",".join(map(add, parts, closed))
        if FIX in labels:
            labels = _fix_floats(labels)
        return labels, soft

    def split_of(self, article_id: int, cluster_id: int | None) -> str | None:
        return self.by_group.get(
            ("article", article_id) if cluster_id is None else ("cluster", cluster_id)
        )

    def adjudication(self, settled: bool, changed: str | None, tail: str | None) -> str:
        if settled and tail is not None:
            return '{"changed_fields":' + self.changed(changed) + tail
        return "null"


def claim_lines(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE, using: str = "default"
) -> Iterator[list[str]]:
    """Claim records as JSONL lines (without newlines), one list per chunk. Call only when
    `usable()` is true."""
    state = _State(ctx, "jsonl")
    fragments = state.articles.by_id
    gold_canon = state.gold
    labels_json = state.labels_json
    split_of = state.split_of
    split_json = state.split_json
    adjudication_of = state.adjudication
    project = ',"project":' + _dumps(ctx.project.slug) + ","
    after_published = {
        settled: f',"schema_version":{int(ctx.schema_version)},"settled":'
        + ("true" if settled else "false")
        + ',"soft_labels":'
        for settled in (True, False)
    }
    stats: Counter[tuple[Any, ...]] = Counter()
    for rows in state.rows(include, chunk_size, using):
        lines: list[str] = []
        append = lines.append
        for (
            article_id,
            cluster_id,
            settled,
            gold,
            aggregate,
            changed,
            adjudication_tail,
            s_claim,
            s_end,
            s_guidelines,
            prefixes,
            values,
            s_language,
            s_start,
            language,
            defect,
            action,
            overrides,
        ) in rows:
            a, d, o, p = fragments[article_id]
            labels, soft = labels_json(prefixes, values)
            split = split_of(article_id, cluster_id)
            split_text = split_json.get(split)
            if split_text is None:
                split_text = split_json[split] = _dumps(split)
            append(
                "".join(
                    (
                        '{"adjudication":',
                        adjudication_of(settled, changed, adjudication_tail),
                        ',"aggregate":',
                        gold_canon(aggregate),
                        ",",
                        a,
                        s_claim,
                        d,
                        s_end,
                        gold_canon(gold) if settled else "null",
                        s_guidelines,
                        labels,
                        s_language,
                        o,
                        project,
                        p,
                        after_published[settled],
                        soft,
                        ',"split":',
                        split_text,
                        s_start,
                    )
                )
            )
            stats[(split, settled, language, defect, action if settled else None, overrides)] += 1
        _add_stats(ctx, stats)
        stats.clear()
        yield lines


def _null(text: str) -> str | None:
    return None if text == "null" else text


def claim_rows(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE, using: str = "default"
) -> Iterator[list[tuple[Any, ...]]]:
    """Claim records as tuples in CLAIM_COLUMNS order for CSV and Parquet, nested values
    already canonical JSON text (None where the record holds null). Call only when `usable()`
    is true."""
    state = _State(ctx, "tabular")
    article_values = state.articles.by_id
    gold_canon = state.gold
    labels_json = state.labels_json
    split_of = state.split_of
    adjudication_of = state.adjudication
    head = (ctx.version, ctx.project.slug, ctx.schema_version, ctx.schema_version)
    stats: Counter[tuple[Any, ...]] = Counter()
    for rows in state.rows(include, chunk_size, using):
        out: list[tuple[Any, ...]] = []
        append = out.append
        for (
            article_id,
            cluster_id,
            settled,
            gold,
            aggregate,
            changed,
            adjudication_tail,
            claim_id,
            item_id,
            language,
            start,
            end,
            text,
            unit_kind,
            defect,
            status,
            prefixes,
            values,
            n_labels,
            cluster_key,
            action,
            overrides,
        ) in rows:
            labels, soft = labels_json(prefixes, values)
            split = split_of(article_id, cluster_id)
            append(
                (
                    f"claim-{claim_id}",
                    *head,
                    item_id,
                    claim_id,
                    *article_values[article_id],
                    language or None,
                    start,
                    end,
                    text,
                    unit_kind,
                    defect,
                    status,
                    settled,
                    _null(gold_canon(gold)) if settled else None,
                    _null(adjudication_of(settled, changed, adjudication_tail)),
                    "[" + labels + "]",
                    n_labels,
                    soft,
                    _null(gold_canon(aggregate)),
                    cluster_key,
                    split,
                )
            )
            stats[(split, settled, language, defect, action if settled else None, overrides)] += 1
        _add_stats(ctx, stats)
        stats.clear()
        yield out


def claim_csv(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE, using: str = "default"
) -> Iterator[list[str]]:
    """Claim records as CSV lines (with their CRLF), one list per chunk: the cells of
    `claim_rows` as the CSV writer writes them. Call only when `usable()` is true."""
    state = _State(ctx, "csv")
    article_cells = state.articles.by_id
    gold_canon = state.gold
    labels_json = state.labels_json
    split_of = state.split_of
    adjudication_of = state.adjudication
    json_cells: dict[str, str] = {"null": ""}  # canonical JSON text -> cell (gold, soft, …)
    split_cells: dict[str | None, str] = {None: ""}

    def json_cell(text: str) -> str:
        cell = json_cells.get(text)
        if cell is None:
            if len(json_cells) >= CACHE_LIMIT:
                json_cells.clear()
                json_cells["null"] = ""
            cell = json_cells[text] = csv_text(text)
        return cell

    stats: Counter[tuple[Any, ...]] = Counter()
    for rows in state.rows(include, chunk_size, using):
        lines: list[str] = []
        append = lines.append
        for (
            article_id,
            cluster_id,
            settled,
            gold,
            aggregate,
            changed,
            adjudication_tail,
            s_head,
            s_language,
            prefixes,
            values,
            s_n_labels,
            s_cluster,
            language,
            defect,
            action,
            overrides,
        ) in rows:
            labels, soft = labels_json(prefixes, values)
            split = split_of(article_id, cluster_id)
            split_cell = split_cells.get(split)
            if split_cell is None:
                split_cell = split_cells[split] = csv_text(split)  # type: ignore[arg-type]
            adjudication = adjudication_of(settled, changed, adjudication_tail)
            append(
                "".join(
                    (
                        s_head,
                        article_cells[article_id],
                        s_language,
                        json_cell(gold_canon(gold)) if settled else "",
                        ",",
                        "" if adjudication == "null" else csv_text(adjudication),
                        ",",
                        csv_text("[" + labels + "]"),
                        s_n_labels,
                        json_cell(soft),
                        ",",
                        json_cell(gold_canon(aggregate)),
                        s_cluster,
                        split_cell,
                        "\r\n",
                    )
                )
            )
            stats[(split, settled, language, defect, action if settled else None, overrides)] += 1
        _add_stats(ctx, stats)
        stats.clear()
        yield lines


def _n(pseudonym: str) -> int:
    return int(pseudonym[1:])


def _add_stats(ctx: ExportContext, stats: Counter[tuple[Any, ...]]) -> None:
    """The same counts as records._count, from (split, settled, language, defect, action,
    overrides) tuples."""
    out = ctx.stats
    for (split, settled, language, defect, action, overrides), n in stats.items():
        out["claims:split"][split or "none"] += n
        out["claims:settled"]["true" if settled else "false"] += n
        out["claims:language"][language or "unknown"] += n
        out["claims:defect"][defect] += n
        if action is not None:
            out["claims:method"]["auto_settle" if action == "auto_settle" else "reviewer"] += n
            if overrides:
                out["claims:overrides"]["true"] += n


__all__ = ["build_context", "claim_csv", "claim_lines", "claim_rows", "usable"]
