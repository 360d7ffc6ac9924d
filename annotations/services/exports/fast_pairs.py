"""Pair records through the SQL-built path (PostgreSQL, inside the export's snapshot).

One query of plain column values (fast_sql.pairs_sql) with the labels aggregated as for claims;
Python builds each record as a row of PAIR_COLUMNS, its two claims as canonical JSON text from
the articles' sorted-key runs (fast._Articles) and the claims' own columns, and then each format
from the rows: JSONL lines (keys in sorted order), CSV lines (the cells csv.writer writes) and
Parquet row groups. The bytes are those of the reference path (`records.pair_records` and the
writers); tests/exports/test_fast.py compares them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from .common import CHUNK_SIZE, PAIR_COLUMNS, _dumps
from .fast import _null, _State
from .fast_sql import pairs_sql
from .formats import csv_text
from .records import ExportContext

KINDS = tuple(kind for _, kind in PAIR_COLUMNS)
# JSONL: the columns in sorted key order, each with its '"name":' prefix.
_SORTED = sorted(range(len(PAIR_COLUMNS)), key=lambda i: PAIR_COLUMNS[i][0])
_KEYS = [(i, _dumps(PAIR_COLUMNS[i][0]) + ":", PAIR_COLUMNS[i][1]) for i in _SORTED]


def pair_rows(
    ctx: ExportContext, include: str, chunk_size: int = CHUNK_SIZE, using: str = "default"
) -> Iterator[list[tuple[Any, ...]]]:
    """Pair records as tuples in PAIR_COLUMNS order, nested values as canonical JSON text (None
    where the record holds null), one list per chunk. Call only when `fast.usable()` is true."""
    state = _State(ctx, "jsonl", "pair")  # articles as sorted-key runs, for the claim objects
    runs = state.articles.by_id
    gold_canon = state.gold
    labels_json = state.labels_json
    adjudication_of = state.adjudication
    by_group = state.by_group
    head = (ctx.version, ctx.project.slug, ctx.schema_version, ctx.schema_version)
    stats: Counter[tuple[str | None, bool]] = Counter()
    sql = pairs_sql(include)
    for rows in state.rows(include, chunk_size, using, sql=sql, article_columns=(0, 1)):
        out: list[tuple[Any, ...]] = []
        append = out.append
        for row in rows:
            (a_article, b_article, cluster_id, a_cluster, settled, gold, aggregate) = row[:7]
            (changed, tail, item_id, pair_id, method, score, features, status) = row[7:15]
            (prefixes, values, n_labels, cluster_key) = row[15:19]
            labels, soft = labels_json(prefixes, values)
            # The pair's event cluster, else the group of claim A.
            split = by_group.get(("cluster", cluster_id)) if cluster_id is not None else None
            if split is None:
                split = by_group.get(
                    ("article", a_article) if a_cluster is None else ("cluster", a_cluster)
                )
            append(
                (
                    f"pair-{pair_id}",
                    *head,
                    item_id,
                    pair_id,
                    method,
                    score,
                    None if features is None else _null(_dumps(json.loads(features))),
                    _claim_json(runs[a_article], row[19:27]),
                    _claim_json(runs[b_article], row[27:35]),
                    status,
                    settled,
                    _null(gold_canon(gold)) if settled else None,
                    _null(adjudication_of(settled, changed, tail)),
                    "[" + labels + "]",
                    n_labels,
                    soft,
                    _null(gold_canon(aggregate)),
                    cluster_key,
                    split,
                )
            )
            stats[(split, settled)] += 1
        for (split, settled), n in stats.items():
            ctx.stats["pairs:split"][split or "none"] += n
            ctx.stats["pairs:settled"]["true" if settled else "false"] += n
        stats.clear()
        yield out


def _claim_json(runs: tuple[str, ...], claim: tuple[Any, ...]) -> str:
    """A pair's claim as the reference path's `_claim_provenance` entry, canonical JSON."""
    a, d, o, p = runs
    claim_id, start, end, text, language, unit_kind, unit_defect, cluster_key = claim
    return "".join(
        (
            "{",
            a,
            ',"claim_id":',
            str(claim_id),
            ",",
            d,
            ',"end":',
            str(end),
            ',"event_cluster":',
            _dumps(cluster_key),
            ',"language":',
            _dumps(language or None),
            ",",
            o,
            ",",
            p,
            ',"start":',
            str(start),
            ',"text":',
            _dumps(text),
            ',"unit_defect":',
            _dumps(unit_defect),
            ',"unit_kind":',
            _dumps(unit_kind),
            "}",
        )
    )


def jsonl_line(row: tuple[Any, ...]) -> str:
    """A row of pair_rows as the JSONL writer writes its record (sorted keys, compact)."""
    parts = []
    for i, key, kind in _KEYS:
        value = row[i]
        if value is None:
            parts.append(key + "null")
        elif kind == "j":
            parts.append(key + value)
        else:  # str, int, float (NaN and infinities as json writes them), bool
            parts.append(key + _dumps(value))
    return "{" + ",".join(parts) + "}"


def csv_line(row: tuple[Any, ...]) -> str:
    """A row of pair_rows as csv.writer writes the record's csv_cell values, with its CRLF."""
    cells = []
    for value, kind in zip(row, KINDS, strict=True):
        if value is None:
            cells.append("")
        elif kind == "b":
            cells.append("true" if value else "false")
        elif isinstance(value, str):
            cells.append(csv_text(value))
        else:  # numbers: csv writes their repr, never neutralised
            cells.append(repr(value))
    return ",".join(cells) + "\r\n"


__all__ = ["csv_line", "jsonl_line", "pair_rows"]
