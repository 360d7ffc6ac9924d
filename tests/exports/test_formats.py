"""CSV neutralisation, Parquet and JSONL loaded with pandas (as docs/dataset.md shows)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from annotations.services.exports import CLAIM_COLUMNS, csv_cell, export_stream

ROOT = Path(__file__).resolve().parent.parent.parent


def test_csv_neutralises_formula_cells():
    for dangerous in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(dangerous, "s") == "'" + dangerous
    assert csv_cell("plain", "s") == "plain"
    assert csv_cell(-3, "i") == -3  # numbers are numbers, not formulas
    assert csv_cell(None, "s") == ""
    assert csv_cell(True, "b") == "true"
    assert csv_cell({"a": "=x"}, "j") == '{"a":"=x"}'


def test_csv_export_neutralises_imported_text(world):
    data = b"".join(export_stream(project=world.project, fmt="csv")).decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert list(rows[0]) == [name for name, _ in CLAIM_COLUMNS]
    formula = next(r for r in rows if "HYPERLINK" in r["text"])
    assert formula["text"].startswith("'=HYPERLINK(")
    assert not any(
        value.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for value in row.values()
    )
    fact = next(r for r in rows if r["claim_id"] == str(world.claims[1].pk))
    assert json.loads(fact["gold"])["claim_types"] == ["event", "numerical"]
    assert len(json.loads(fact["labels"])) == 3


def test_jsonl_and_parquet_load_with_pandas(world, tmp_path):
    jsonl = tmp_path / "claims.jsonl"
    jsonl.write_bytes(b"".join(export_stream(project=world.project, fmt="jsonl")))
    frame = pd.read_json(jsonl, lines=True)
    assert len(frame) == 4
    for column in ("id", "text", "gold", "labels", "soft_labels", "split", "outlet_kind"):
        assert column in frame.columns
    parquet = tmp_path / "claims.parquet"
    parquet.write_bytes(b"".join(export_stream(project=world.project, fmt="parquet")))
    table = pd.read_parquet(parquet)
    assert list(table.columns) == [name for name, _ in CLAIM_COLUMNS]
    assert len(table) == 4
    assert sorted(table["id"]) == sorted(frame["id"])
    row = table.set_index("claim_id").loc[world.claims[1].pk]
    assert json.loads(row["gold"])["verifiability"] == "checkable_fact"
    assert row["outlet_kind"] == "state_media" and row["start"] == world.claims[1].start
    assert str(table["start"].dtype) == "int64"


def test_parquet_streams_one_row_group_per_chunk(world, tmp_path):
    path = tmp_path / "c.parquet"
    path.write_bytes(b"".join(export_stream(project=world.project, fmt="parquet", chunk_size=2)))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 4 and meta.num_row_groups == 2  # chunks of 2


def test_pairs_parquet_and_csv(world, tmp_path):
    path = tmp_path / "pairs.parquet"
    path.write_bytes(b"".join(export_stream(project=world.project, fmt="parquet", kind="pairs")))
    table = pd.read_parquet(path)
    assert len(table) == 1
    assert json.loads(table.iloc[0]["claim_b"])["language"] == "ar"
    data = b"".join(export_stream(project=world.project, fmt="csv", kind="pairs")).decode()
    (row,) = list(csv.DictReader(io.StringIO(data)))
    assert row["method"] == "embedding" and json.loads(row["features"])["cosine"] == 0.87


def test_empty_export_is_valid_in_every_format(project, tmp_path):
    assert b"".join(export_stream(project=project, fmt="jsonl")) == b""
    header = b"".join(export_stream(project=project, fmt="csv")).decode()
    assert header.strip() == ",".join(name for name, _ in CLAIM_COLUMNS)
    path = tmp_path / "e.parquet"
    path.write_bytes(b"".join(export_stream(project=project, fmt="parquet")))
    assert len(pd.read_parquet(path)) == 0


def test_parquet_columns_built_from_buffers_equal_pyarrows_own():
    """ParquetWriter builds columns from Arrow buffers (no pandas import in the server); the
    file is the one pyarrow's converter over the same Python values gives."""
    import random

    import pyarrow as pa

    from annotations.services.exports import COLUMNS, ParquetWriter

    rnd = random.Random(7)
    values = {
        "i": lambda: rnd.choice([0, -1, 2**63 - 1, -(2**63), rnd.randint(-999, 999)]),
        "f": lambda: rnd.choice([0.1, -0.0, float("nan"), float("inf"), 3, 1e300]),
        "b": lambda: rnd.random() < 0.5,
    }
    for kind, letters in (("claims", 'aé😀\x00,"\n'), ("pairs", 'a\x00,"\n'), ("claims", "ab")):
        values["s"] = lambda letters=letters: "".join(
            rnd.choice(letters) for _ in range(rnd.randint(0, 6))
        )
        rows = [
            tuple(
                None if rnd.random() < 0.3 else values.get(k, values["s"])()
                for _, k in COLUMNS[kind]
            )
            for _ in range(300)
        ]
        for chunk in (rows, rows[:1], []):
            ours = ParquetWriter(kind)
            data = ours.start() + ours.write_rows(chunk) + ours.finish()
            theirs = ParquetWriter(kind)
            columns = list(zip(*chunk, strict=True)) if chunk else [() for _ in COLUMNS[kind]]
            table = pa.Table.from_pydict(
                {name: list(c) for (name, _), c in zip(COLUMNS[kind], columns, strict=True)},
                schema=theirs.schema,
            )
            theirs.writer.write_table(table, row_group_size=max(1, len(chunk)))
            assert data == theirs.start() + theirs.sink.drain() + theirs.finish()


def test_parquet_export_does_not_import_pandas():
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup()\n"
        "from annotations.services.exports import ParquetWriter\n"
        "w = ParquetWriter('claims')\n"
        "row = tuple(None for _ in w.columns)\n"
        "w.start(); w.write_rows([row]); w.finish()\n"
        "assert 'pyarrow' in sys.modules and 'pandas' not in sys.modules\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workbench.settings", "DEBUG": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=120)
