"""Turning uploaded files into articles and sentence units (pure Python, no ORM).

Public API::

    decode_bytes(data, filename) -> str
    detect_format(filename, data) -> "text" | "html" | "jsonl" | "zip"
    segment_text(text, *, name="") -> list[ArticleUnit]
    segment_file(filename, data, *, max_bytes, limits=DEFAULT_LIMITS) -> list[SourceDoc]
    to_json(docs) -> dict            # the `segment` command's JSON
    content_hash(texts) -> str
    IngestError, Limits, SourceDoc, ArticleUnit, ParagraphUnit, SentenceUnit
"""

from annotations.ingest.articles import build_article, content_hash
from annotations.ingest.decode import decode_bytes
from annotations.ingest.errors import IngestError
from annotations.ingest.formats import detect_format
from annotations.ingest.limits import DEFAULT_LIMITS, Limits
from annotations.ingest.pipeline import segment_file, segment_text, to_json
from annotations.ingest.types import ArticleUnit, ParagraphUnit, SentenceUnit, SourceDoc

__all__ = [
    "DEFAULT_LIMITS",
    "ArticleUnit",
    "IngestError",
    "Limits",
    "ParagraphUnit",
    "SentenceUnit",
    "SourceDoc",
    "build_article",
    "content_hash",
    "decode_bytes",
    "detect_format",
    "segment_file",
    "segment_text",
    "to_json",
]
