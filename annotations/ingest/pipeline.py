"""The ingest pipeline's entry points.

``segment_text``  a decoded page → articles (with units);
``segment_file``  an upload (bytes) → SourceDocs, whatever its format;
``to_json``       SourceDocs → the ``segment`` command's JSON (interfaces.md).

Everything here is pure: no ORM, no Django, no network, no disk writes.
"""

from __future__ import annotations

from typing import Any

from annotations.ingest.archive import read_zip
from annotations.ingest.articles import segment_page
from annotations.ingest.collector import paused_gc
from annotations.ingest.decode import decode_bytes
from annotations.ingest.errors import IngestError
from annotations.ingest.formats import HTML, JSONL, ZIP, detect_format
from annotations.ingest.html_input import html_documents
from annotations.ingest.jsonl_input import jsonl_documents
from annotations.ingest.limits import DEFAULT_LIMITS, Limits
from annotations.ingest.types import ArticleUnit, SourceDoc


def segment_text(text: str, *, name: str = "") -> list[ArticleUnit]:
    """Articles of one decoded plain-text page; offsets index ``text``.

    ``name`` is only used in error messages (none are raised today).
    """
    return segment_page(text)


def segment_file(
    filename: str, data: bytes, *, max_bytes: int, limits: Limits = DEFAULT_LIMITS
) -> list[SourceDoc]:
    """Decode, detect the format and segment an upload.

    Raises IngestError (naming the file, and the line or byte where known) for
    anything that cannot be ingested; never returns a partial result.  A zip
    yields the documents of all its members, named ``archive.zip/member``.
    """
    if len(data) > max_bytes:
        raise IngestError(filename, f"file is {len(data)} bytes; the limit is {max_bytes}")
    fmt = detect_format(filename, data)
    if fmt == ZIP:
        docs: list[SourceDoc] = []
        for member, content in read_zip(filename, data, limits):
            where = f"{filename}/{member}"
            if detect_format(where, content) == ZIP:
                raise IngestError(where, "nested archives are not accepted")
            docs.extend(_segment_one(where, content, limits))
        if not docs:
            raise IngestError(filename, "zip archive holds no documents")
        return docs
    return _segment_one(filename, data, limits)


def _segment_one(filename: str, data: bytes, limits: Limits) -> list[SourceDoc]:
    fmt = detect_format(filename, data)
    text = decode_bytes(data, filename)
    if not text.strip():
        raise IngestError(filename, "file holds no text (only whitespace)")
    if fmt == JSONL:
        # many small records and no cycles (collector.py); text pages pause in segment_page,
        # HTML is left alone: its parser's objects are not ours
        with paused_gc():
            return jsonl_documents(filename, text, limits)
    if fmt == HTML:
        return html_documents(filename, text)
    return [SourceDoc(name=filename, text=text, articles=segment_page(text), format="text")]


def to_json(docs: list[SourceDoc]) -> dict[str, Any]:
    """The ``segment`` command's output.

    ``{"articles": [{"title", "outlet", "byline", "published", "language",
    "start", "end", "sentences": [{"start", "end", ...}]}]}`` as in
    interfaces.md.  Offsets index the text of the article's document: for a
    plain-text file that is the file's decoded text; for JSONL each record is
    its own document (``title + "\\n\\n" + text``).  Extra keys: per article
    ``document`` (index into ``documents``), ``title_start``, ``title_end``,
    ``dateline``, ``url``, ``content_hash``; per sentence ``unit_kind``,
    ``unit_defect``, ``language``, ``claim_likelihood``; top level
    ``documents`` (name and format of each document).
    """
    articles: list[dict[str, Any]] = []
    for index, doc in enumerate(docs):
        for article in doc.articles:
            articles.append(_article_json(article, index))
    return {
        "articles": articles,
        "documents": [
            {"name": doc.name, "format": doc.format, "chars": len(doc.text)} for doc in docs
        ],
    }


def _article_json(article: ArticleUnit, document: int) -> dict[str, Any]:
    return {
        "title": article.title,
        "outlet": article.outlet,
        "byline": article.byline,
        "published": article.published,
        "language": article.language,
        "start": article.start,
        "end": article.end,
        "sentences": [
            {
                "start": unit.start,
                "end": unit.end,
                "unit_kind": unit.unit_kind,
                "unit_defect": unit.unit_defect,
                "language": unit.language,
                "claim_likelihood": unit.claim_likelihood,
            }
            for unit in article.sentences
        ],
        "document": document,
        "title_start": article.title_start,
        "title_end": article.title_end,
        "dateline": article.dateline,
        "url": article.url,
        "content_hash": article.content_hash,
    }
