"""Which input format a file is, decided from its content as well as its name.

Accepted: plain text (``.txt``, ``.text``, no extension), HTML (``.html``,
``.htm``, ``.xhtml``), JSONL (``.jsonl``, ``.ndjson``, and ``.json`` when it
holds objects one per line) and zip archives of these (``.zip``).  The
content wins over the name where they disagree in a way that matters:

* binary content (PNG, JPEG, PDF, gzip, executables...) is rejected as the
  wrong type whatever the name says (a PNG renamed ``.txt`` included);
* a zip container is accepted only as ``.zip`` (a ``.docx`` is a zip too,
  and is rejected), and a ``.zip`` that is not a zip is rejected;
* text whose first markup is ``<!DOCTYPE html>`` or ``<html>`` is read as HTML
  even when named ``.txt``; a ``.json`` holding an array is rejected with a hint.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Final

from annotations.ingest.errors import IngestError

TEXT: Final = "text"
HTML: Final = "html"
JSONL: Final = "jsonl"
ZIP: Final = "zip"

_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BINARY_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an MS Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"wOFF", "a web font"),
    (b"\x00\x00\x01\x00", "an icon"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
_EXTENSIONS: Final = {
    "": TEXT, ".txt": TEXT, ".text": TEXT,
    ".html": HTML, ".htm": HTML, ".xhtml": HTML,
    ".jsonl": JSONL, ".ndjson": JSONL, ".json": JSONL,
    ".zip": ZIP,
}  # fmt: skip
ARCHIVE_EXTENSIONS: Final = frozenset(
    {".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".jar", ".docx", ".xlsx",
     ".pptx", ".odt", ".epub", ".apk", ".whl", ".zst", ".lz", ".lzma", ".cab", ".iso"}
)  # fmt: skip
_BOMS: Final = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def extension(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def binary_kind(data: bytes) -> str | None:
    """A name for known binary content (``a PNG image``), else None."""
    if data.startswith(_ZIP_MAGIC):
        return "a zip archive"
    if len(data) >= 12 and data.startswith(b"RIFF"):
        return "a RIFF media file (WebP/WAV/AVI)"
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            return what
    return None


def detect_format(filename: str, data: bytes) -> str:
    """``text``, ``html``, ``jsonl`` or ``zip``; IngestError for anything else."""
    ext = extension(filename)
    if not data:
        raise IngestError(filename, "file is empty")
    if data.startswith(_ZIP_MAGIC):
        if ext == ".zip":
            return ZIP
        raise IngestError(
            filename,
            f"wrong type: the content is a zip container but the name says {ext or 'no type'}"
            " (upload .txt, .html, .jsonl or .zip)",
        )
    if ext == ".zip":
        raise IngestError(filename, "wrong type: named .zip but the content is not a zip archive")
    kind = binary_kind(data)
    if kind is not None:
        raise IngestError(
            filename,
            f"wrong type: the content is {kind}, not text (upload .txt, .html, .jsonl or .zip)",
        )
    declared = _EXTENSIONS.get(ext)
    if declared is None and ext in ARCHIVE_EXTENSIONS:
        raise IngestError(filename, f"wrong type: {ext} archives are not accepted; use .zip")
    head = _text_head(data)
    looks_html = head.startswith(("<!doctype html", "<html"))
    if looks_html and declared in (None, TEXT, HTML):
        return HTML
    if declared == JSONL:
        if ext == ".json" and head.startswith("["):
            raise IngestError(
                filename, "a JSON array is not supported: write one JSON object per line (JSONL)"
            )
        return JSONL
    if declared is not None:
        return declared
    if head.startswith("{"):
        return JSONL
    if head.startswith("<") and ("<p" in head or "<article" in head or "<body" in head):
        return HTML
    return TEXT


def _text_head(data: bytes) -> str:
    head = data[:2048]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore").lstrip().lower()
    return head.decode("utf-8", errors="ignore").lstrip().lower()
