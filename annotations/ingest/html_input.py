"""HTML input: plain text out, one article per ``<article>`` element.

* The page is parsed with lxml; ``script``, ``style``, ``noscript``, ``head``,
  ``template``, ``iframe``, ``object``, ``embed``, ``svg``, ``math`` and form
  controls are removed with their content, and every ``on*``
  attribute is dropped, before any text is taken.  The stored text is plain
  text (no markup at all), so neither scripts nor event handlers can survive.
* Each outermost ``<article>`` element is extracted on its own with
  trafilatura (favouring recall, comments excluded); its title is the first
  ``h1``–``h3`` inside it (else trafilatura's title), its byline, date and
  site name come from trafilatura's metadata.
* A page without ``<article>`` elements is extracted whole by trafilatura and
  split into articles like plain text; when it has several ``h1``/``h2``
  headings (several stories), trafilatura would drop the headings that
  separate them, so the page's blocks (``main`` or ``body`` without ``nav``,
  ``header``, ``footer``, ``aside``) are kept instead, one line per block.
* Without trafilatura (or when it finds nothing) a simple block extractor is
  used: one line per block element.

Document text: the articles joined by a blank line, each as its title line, a
blank line, then its text lines; offsets index that text.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

import lxml.html
from lxml import etree

from annotations.ingest.articles import build_article, segment_page
from annotations.ingest.dates import parse_date
from annotations.ingest.errors import IngestError
from annotations.ingest.types import ArticleUnit, SourceDoc

logger = logging.getLogger(__name__)

_DROP_TAGS: Final = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "button", "select", "textarea", "head",
)  # fmt: skip
_PAGE_FURNITURE: Final = ("nav", "header", "footer", "aside", "menu")
_BLOCK_TAGS: Final = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "pre", "td",
     "th", "dd", "dt", "div", "section", "header", "footer", "tr", "br", "address", "caption"}
)  # fmt: skip
_ARTICLE_GAP: Final = "\n\n\n"


def html_documents(name: str, html: str) -> list[SourceDoc]:
    """The articles of one HTML page as one SourceDoc."""
    root = _parse(name, html)
    page_title = _page_title(root)
    _sanitize(root)
    elements = root.xpath("//article[not(ancestor::article)]")
    parts: list[tuple[str, str, dict[str, str | None]]] = []
    for element in elements:
        title = _first_heading(element)
        text, meta = _extract(element)
        if title is None:
            title = meta.get("title") or ""
        text = _drop_leading_title(text, title)
        if text.strip() or title.strip():
            parts.append((title.strip(), text.strip(), meta))
    if not elements:
        headings = [h for h in root.iter("h1", "h2") if h.text_content().strip()]
        if len(headings) > 1:
            # several headed sections: trafilatura would drop the headings that separate
            # them, so keep the page's block structure and split it like plain text
            for element in list(root.iter(*_PAGE_FURNITURE)):
                if element.getparent() is not None:
                    element.drop_tree()
            main = next(iter(root.iter("main")), None)
            text, meta = _blocks_text(main if main is not None else root), {}
        else:
            text, meta = _extract(root)
        title = (meta.get("title") or page_title or "").strip()
        text = text.strip()
        if not text:
            raise IngestError(name, "the HTML page holds no text")
        if title and not text.startswith(title):
            text = title + "\n\n" + text
        return [SourceDoc(name=name, text=text, articles=segment_page(text), format="html")]
    if not parts:
        raise IngestError(name, "the HTML page holds no text")
    return [_assemble(name, parts)]


def _assemble(name: str, parts: list[tuple[str, str, dict[str, str | None]]]) -> SourceDoc:
    chunks: list[str] = []
    spans: list[tuple[int, int, int, dict[str, str | None]]] = []
    pos = 0
    for title, body, meta in parts:
        piece = f"{title}\n\n{body}" if title and body else (title or body)
        if chunks:
            chunks.append(_ARTICLE_GAP)
            pos += len(_ARTICLE_GAP)
        spans.append((pos, pos + len(piece), len(title), meta))
        chunks.append(piece)
        pos += len(piece)
    text = "".join(chunks)
    articles: list[ArticleUnit] = []
    for start, end, title_len, meta in spans:
        articles.append(
            build_article(
                text,
                start,
                end,
                title_span=(start, start + title_len) if title_len else None,
                outlet=meta.get("sitename"),
                byline=meta.get("author"),
                published=_iso(meta.get("date")),
                url=meta.get("url"),
            )
        )
    return SourceDoc(name=name, text=text, articles=articles, format="html")


def _parse(name: str, html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise IngestError(name, f"cannot parse HTML ({exc})") from None


def _page_title(root: Any) -> str | None:
    found = root.xpath("//head/title/text()")
    return " ".join(str(found[0]).split()) if found else None


def _sanitize(root: Any) -> None:
    for element in list(root.iter(*_DROP_TAGS)):
        if element is not root and element.getparent() is not None:
            element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in list(element.attrib):
            if attribute.lower().startswith("on") or attribute.lower() in ("style", "srcdoc"):
                del element.attrib[attribute]
    for comment in root.xpath("//comment() | //processing-instruction()"):
        comment.drop_tree()


def _first_heading(element: Any) -> str | None:
    for heading in element.iter("h1", "h2", "h3"):
        text = " ".join(heading.text_content().split())
        if text:
            return text
    return None


def _extract(element: Any) -> tuple[str, dict[str, str | None]]:
    snippet = lxml.html.tostring(element, encoding="unicode")
    result = _trafilatura(snippet)
    if result is not None and result[0].strip():
        return result
    return _blocks_text(element), (result[1] if result else {})


def _trafilatura(snippet: str) -> tuple[str, dict[str, str | None]] | None:
    try:
        import trafilatura
        from trafilatura.settings import use_config
    except ImportError:  # the block extractor below takes over
        logger.warning("trafilatura unavailable; using the simple HTML text extractor")
        return None
    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    try:
        doc = trafilatura.bare_extraction(
            snippet,
            with_metadata=True,
            favor_recall=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            config=config,
        )
    except Exception:  # extractor bug on odd markup: fall back
        logger.exception("trafilatura failed; using the simple HTML text extractor")
        return None
    if doc is None:
        return None
    meta = {key: _clean(getattr(doc, key, None)) for key in ("title", "author", "date", "sitename")}
    meta["url"] = None
    return _clean(getattr(doc, "text", None)) or "", meta


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _blocks_text(element: Any) -> str:
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = " ".join("".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    def walk(node: Any) -> None:
        if not isinstance(node.tag, str):
            if node.tail:
                current.append(node.tail)
            return
        block = node.tag in _BLOCK_TAGS
        if block:
            flush()
        if node.text:
            current.append(node.text)
        for child in node:
            walk(child)
        if block:
            flush()
        if node.tail:
            current.append(node.tail)

    walk(element)
    flush()
    return "\n".join(lines)


def _drop_leading_title(text: str, title: str) -> str:
    if not title:
        return text
    first, _, rest = text.strip().partition("\n")
    if " ".join(first.split()) == " ".join(title.split()):
        return rest
    return text


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return parse_date(value)
