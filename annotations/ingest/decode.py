"""Bytes to text, strictly.

Policy (offsets everywhere index the string this returns):

* UTF-8 is the format.  A leading UTF-8 byte order mark is removed; nothing
  else is changed (no newline or Unicode normalisation), so ``str`` offsets
  are stable and reproducible from the file.
* UTF-16 with a byte order mark (LE or BE) is accepted and decoded (some
  Windows tools write it); the BOM is removed.  UTF-16 without a BOM and UTF-32
  are rejected: they cannot be told apart from binary data reliably.
* Invalid UTF-8 is rejected, naming the line and the byte offset of the first
  bad byte.  Nothing is replaced or guessed.
* NUL characters are rejected (PostgreSQL text columns cannot hold them), and
  so are lone surrogates (a strict decoder never yields them; checked anyway,
  because the same check guards strings that come from JSON escapes).
* An empty file (or one holding only a BOM) is rejected.
"""

from __future__ import annotations

import re
from typing import NoReturn

from annotations.ingest.errors import IngestError

__all__ = ["IngestError", "check_text", "decode_bytes"]

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_LE_BOM = b"\xff\xfe"
_UTF16_BE_BOM = b"\xfe\xff"
_UTF32_LE_BOM = b"\xff\xfe\x00\x00"
_UTF32_BE_BOM = b"\x00\x00\xfe\xff"
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_bytes(data: bytes, filename: str) -> str:
    """Decode an uploaded file to ``str`` under the policy above, or raise IngestError."""
    if not data:
        raise IngestError(filename, "file is empty")
    if data.startswith(_UTF32_LE_BOM) or data.startswith(_UTF32_BE_BOM):
        raise IngestError(filename, "UTF-32 is not supported; save the file as UTF-8", byte=0)
    if data.startswith(_UTF16_LE_BOM) or data.startswith(_UTF16_BE_BOM):
        return _decode_utf16(data, filename)
    bom = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    if len(data) == bom:
        raise IngestError(filename, "file is empty (only a byte order mark)")
    nul = data.find(b"\x00", bom)
    if nul >= 0:
        raise IngestError(
            filename,
            "file contains a NUL byte (binary data or UTF-16 without a byte order mark)",
            line=data.count(b"\n", 0, nul) + 1,
            byte=nul,
        )
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        raise IngestError(
            filename,
            f"invalid UTF-8 (byte 0x{data[at]:02x}: {exc.reason}); save the file as UTF-8",
            line=data.count(b"\n", 0, at) + 1,
            byte=at,
        ) from None
    check_text(text, filename, byte_base=bom)
    return text


def _decode_utf16(data: bytes, filename: str) -> str:
    codec = "utf-16-le" if data.startswith(_UTF16_LE_BOM) else "utf-16-be"
    body = data[2:]
    if not body:
        raise IngestError(filename, "file is empty (only a byte order mark)")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        at = 2 + exc.start
        line = body[: exc.start].decode(codec, errors="replace").count("\n") + 1
        raise IngestError(filename, f"invalid UTF-16 ({exc.reason})", line=line, byte=at) from None
    check_text(text, filename, byte_base=2, units=2)
    return text


def check_text(text: str, filename: str, *, byte_base: int = 0, units: int = 0) -> None:
    """Reject NUL characters and lone surrogates in decoded text.

    ``units`` = 2 means the bytes were UTF-16 (byte offset counted as two per
    code unit); 0 means UTF-8 (offset computed exactly).
    """
    nul = text.find("\x00")
    if nul >= 0:
        _reject_char(text, nul, filename, "a NUL character", byte_base, units)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        _reject_char(text, surrogate.start(), filename, "a lone surrogate", byte_base, units)


def _reject_char(
    text: str, at: int, filename: str, what: str, byte_base: int, units: int
) -> NoReturn:
    prefix = text[:at]
    if units:
        byte = byte_base + units * (at + sum(1 for c in prefix if ord(c) > 0xFFFF))
    else:
        byte = byte_base + len(prefix.encode("utf-8", errors="surrogatepass"))
    raise IngestError(
        filename,
        f"text contains {what}, which cannot be stored",
        line=prefix.count("\n") + 1,
        byte=byte,
    )
