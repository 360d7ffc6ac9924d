"""Output formats: JSONL, CSV (formula cells neutralised) and Parquet (one row group per chunk)."""

from __future__ import annotations

import csv
import io
import os
import re
from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from .common import COLUMNS, _dumps

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
_CSV_SPECIAL = re.compile('[",\r\n]')


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


def csv_text(text: str) -> str:
    """A text cell exactly as csv.writer writes csv_cell(text, "s") (or "j" for JSON text) in a
    row of several cells: neutralised, then quoted with quotes doubled when it holds a quote,
    a comma, CR or LF (csv.QUOTE_MINIMAL of the default dialect)."""
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


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
    """One row group per chunk, streamed as it is written. Nested values are JSON strings.

    Columns are built from their Arrow buffers (values, offsets, validity bitmaps) rather than
    by pyarrow.array over Python lists: that converter imports pandas into the server process
    (about 45 MB resident) just to ask whether a list is a pandas object."""

    def __init__(self, kind: str) -> None:
        # Arrow's allocations through the C allocator (unless the deployment chose a pool):
        # Arrow's default, mimalloc, keeps about 25 MB more resident for the whole export. Read
        # when pyarrow is first imported, which the server does here.
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.columns = COLUMNS[kind]
        self.types = {"i": pa.int64(), "f": pa.float64(), "b": pa.bool_(), "s": pa.string()}
        self.schema = pa.schema(
            [(name, self.types.get(kind, pa.string())) for name, kind in self.columns]
        )
        self.sink = _Sink()
        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")

    def start(self) -> bytes:
        return self.sink.drain()

    def write(self, records: list[dict[str, Any]]) -> bytes:
        columns = []
        for name, kind in self.columns:
            if kind == "j":
                columns.append([None if r.get(name) is None else _dumps(r[name]) for r in records])
            else:
                columns.append([r.get(name) for r in records])
        return self._write(columns, len(records))

    def write_rows(self, rows: list[tuple[Any, ...]]) -> bytes:
        """Rows in column order with nested values already JSON text (fast.claim_rows)."""
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.columns]
        return self._write(columns, len(rows))

    def _write(self, columns: list[Any], n: int) -> bytes:
        arrays = [
            self._array(kind, values)
            for (_, kind), values in zip(self.columns, columns, strict=True)
        ]
        table = self.pa.Table.from_arrays(arrays, schema=self.schema)
        self.writer.write_table(table, row_group_size=max(1, n))
        return self.sink.drain()

    def _array(self, kind: str, values: Any) -> Any:
        pa = self.pa
        n = len(values)
        nulls = values.count(None)
        validity = None
        if nulls:
            bits = bytearray(b"\xff") * ((n + 7) // 8)
            for i in [i for i, v in enumerate(values) if v is None]:
                bits[i >> 3] ^= 1 << (i & 7)
            validity = pa.py_buffer(bits)
        if kind in ("i", "f"):
            if nulls:
                values = [0 if v is None else v for v in values]
            data = pa.py_buffer(array("q" if kind == "i" else "d", values))
            buffers = [validity, data]
        elif kind == "b":
            bits = bytearray((n + 7) // 8)
            for i in [i for i, v in enumerate(values) if v]:
                bits[i >> 3] |= 1 << (i & 7)
            buffers = [validity, pa.py_buffer(bits)]
        else:
            present = [v for v in values if v is not None] if nulls else values
            text = "".join(present)
            if text.isascii():  # one encode; characters are bytes
                data = text.encode()
                lengths = map(len, values) if not nulls else (len(v or "") for v in values)
            else:
                encoded = [b"" if v is None else v.encode() for v in values]
                data = b"".join(encoded)
                lengths = map(len, encoded)
            offsets = array("i", accumulate(lengths, initial=0))
            buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
        return pa.Array.from_buffers(self.types.get(kind, pa.string()), n, buffers, nulls)

    def finish(self) -> bytes:
        self.writer.close()
        return self.sink.drain()


WRITERS: dict[str, Callable[[str], Any]] = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "parquet": ParquetWriter,
}
