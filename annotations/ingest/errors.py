"""The one exception type of the ingest pipeline.

Every rejection of an input (bad encoding, wrong file type, a bad JSONL line, a
hostile zip) is an :class:`IngestError`.  It is a ``ValueError`` so callers that
only know "bad input" can catch that, and it carries enough structure for an
API to return a per-line report without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# How many per-line errors the message text lists; ``errors`` keeps them all.
_MESSAGE_ERRORS = 20


class IngestError(ValueError):
    """A file (or one line of it) that cannot be ingested.

    ``filename`` names the file as the user gave it (``archive.zip/inner.txt``
    for a zip member), ``line`` is 1-based, ``byte`` is the 0-based byte offset
    in the file as uploaded.  ``errors`` holds per-line errors when a whole file
    is rejected because of some of its lines (JSONL).
    """

    def __init__(
        self,
        filename: str,
        message: str,
        *,
        line: int | None = None,
        byte: int | None = None,
        errors: Sequence[IngestError] = (),
    ) -> None:
        self.filename = filename
        self.message = message
        self.line = line
        self.byte = byte
        self.errors: tuple[IngestError, ...] = tuple(errors)
        super().__init__(self._render())

    def location(self) -> str:
        """``name, line 3, byte 17`` (only the parts that are known)."""
        parts = [self.filename or "<input>"]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.byte is not None:
            parts.append(f"byte {self.byte}")
        return ", ".join(parts)

    def _render(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.errors:
            shown = [f"  {e.location()}: {e.message}" for e in self.errors[:_MESSAGE_ERRORS]]
            more = len(self.errors) - _MESSAGE_ERRORS
            if more > 0:
                shown.append(f"  ... and {more} more")
            text += "\n" + "\n".join(shown)
        return text

    def __str__(self) -> str:
        return self._render()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"file", "line", "byte", "message", "errors": [...]}``."""
        return {
            "file": self.filename,
            "line": self.line,
            "byte": self.byte,
            "message": self.message,
            "errors": [e.as_dict() for e in self.errors],
        }
