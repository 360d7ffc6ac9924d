"""Paragraphs of a page and what each one looks like on its own.

A paragraph is one line of text, except in hard-wrapped documents (almost all
lines shorter than ~100 characters, many close to a common width) where the
filled lines of a block are joined: a line shorter than the wrap width ends
its paragraph.  Blank lines are not paragraphs.  Each paragraph gets a
first-pass ``kind`` from its own text only; articles.py decides the final unit
kinds from the sequence.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from annotations.ingest.dates import parse_date_line, parse_partial_line

# first-pass kinds
SEP: Final = "sep"  # ends an article section: "Related News", "***"
BOILER: Final = "boiler"  # page furniture: "Click to see the full-size image"
ARTIFACT: Final = "artifact"  # scrape debris: "%d bloggers like this:", "*"
XLINK: Final = "xlink"  # "ALSO READ <title>"
SOURCE: Final = "source"  # a bare "Source" link label
DATE: Final = "date"
BYLINE: Final = "byline"
LIST: Final = "list"  # a line with a list marker
TITLE: Final = "title"  # short, no final punctuation: a title, heading, name or caption
BODY: Final = "body"

_SEPARATORS: Final = frozenset(
    {
        "related", "related news", "related videos", "related posts", "related articles",
        "related stories", "related content", "related topics", "also read", "read also",
        "read more", "see also", "more on the topic", "more on this topic", "more stories",
        "you may also like", "you might also like", "recommended", "recommended for you",
        "most read", "most popular", "trending", "latest news", "more from this author",
        "مقالات متعلقة", "فيديوات متعلقة", "اقرأ أيضا", "اقرأ أيضاً", "إقرأ أيضاً", "إقرأ أيضا",
        "اقرأ ايضا", "مواضيع ذات صلة", "أخبار ذات صلة", "اخبار ذات صلة", "مقالات ذات صلة",
        "شاهد أيضا", "شاهد أيضاً", "المزيد", "الأكثر قراءة",
    }
)  # fmt: skip
# A non-blank line: its stripped text as group 1 (lines are split at "\n" only).
_CONTENT_LINE = re.compile(r"^[^\S\n]*(\S(?:[^\n]*\S)?)", re.MULTILINE)
_RULE_LINE = re.compile(r"^[\s*\-=_~#•·.+◆◇■□●○]{1,80}$")
_ARTIFACT_PHRASES: Final = ("bloggers like this", "{{", "}}")
_ARTIFACT_LINES: Final = frozenset(
    {"like this:", "like this", "loading...", "[...]", "...", "undefined"}
)
# Page furniture, tested on the lower-cased line: phrases anywhere, prefixes, whole lines.
_BOILER_PHRASES: Final = (
    "click to see", "click to view", "click to enlarge", "full-size image", "share buttons",
    "all rights reserved", "leave a comment", "leave a reply", "note to readers",
    "forward this article", "crosspost on", "sign up for our", "جميع الحقوق محفوظة", "اضغط هنا",
    "انقر هنا",
)  # fmt: skip
_BOILER_PHRASE_RE = re.compile("|".join(re.escape(p) for p in _BOILER_PHRASES))
_ARTIFACT_PHRASE_RE = re.compile("|".join(re.escape(p) for p in _ARTIFACT_PHRASES))
_BOILER_PREFIXES: Final = (
    "copyright", "©", "sponsored", "tags:", "tag:", "filed under", "posted in ", "follow us",
    "subscribe", "skip to", "photo:", "image:", "video:", "photo credit", "image credit",
    "please support", "our standards:", "reading time", "تابعونا", "اشترك",
)  # fmt: skip
_BOILER_LINES: Final = frozenset(
    {"advertisement", "print", "email", "share", "share this", "share this:", "tweet", "menu",
     "comments", "comment", "previous", "next", "previous article", "next article", "إعلان"}
)  # fmt: skip
_BOILER_NUMBERED = re.compile(r"^\d+\s*(?:comments?|min(?:ute)?s?\s+read)$")
_COOKIES = re.compile(r"cookies?\b.*\b(?:accept|policy)")
_NAV_LINE = re.compile(r"^(?:[^|»›/]{1,25}[|»›]){2,}[^|»›/]{0,25}$")
_XLINK = re.compile(
    r"^(?:(?:also read|read also|read more|see also|اقرأ أيضاً?|إقرأ أيضاً?|اقرأ ايضا"
    r"|شاهد أيضاً?|طالع أيضاً?)\s*[:\-–—|]?|(?:related|recommended|more|watch)\s*[:|–—])\s+\S",
    re.IGNORECASE,
)
_SOURCE = frozenset({"source", "sources", "source:", "المصدر", "المصدر:", "via", "original"})
_BYLINE = re.compile(
    r"^(?:(?:by|written by|interviewed by|reported by|reporting by|words by|story by|author"
    r"|posted by)\s*:?\s+|بقلم\s*:?\s*"
    r"|(?:كتب|كتبت|إعداد|اعداد|تقرير|حوار|الكاتب)\s*:\s*)(?P<rest>\S.*)$",
    re.IGNORECASE,
)
_DATED_BYLINE = re.compile(r"\bby\s+(?=[A-Z\u0621-\u064a])")
_LIST_MARKER = re.compile(r"^(?:[-–•*▪►◦·]\s+|\(?\d{1,2}[.)]\s+|\[\d{1,3}\]\s*|[a-z]\)\s+)\S")
_FINAL_PUNCT = frozenset(".,;:،؛")
_CLOSING_QUOTES = frozenset('”"’»')
_INNER_SENTENCE_END = re.compile(r"[a-z\u0621-\u064a]{2}[.!?؟][\"”’]?\s+[\"“‘«]?[A-Z\u0621-\u064a]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_GLUED_END = re.compile(r"[a-z]{2}[.!?][A-Z][a-z]")

TITLE_MAX_CHARS: Final = 200
TITLE_MAX_WORDS: Final = 28
SHORT_MAX_WORDS: Final = 4
SHORT_MAX_CHARS: Final = 40


class Para:
    """One paragraph: ``[start, end)`` without surrounding whitespace."""

    __slots__ = ("blank_before", "end", "in_list", "key", "kind", "start", "text", "words")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text
        self.kind = BODY
        self.key = ""
        self.words = 0
        self.in_list = False
        self.blank_before = True  # a blank line (or the region start) comes before it

    def __repr__(self) -> str:
        return f"Para({self.start}, {self.end}, {self.kind}, {self.text[:40]!r})"


def split_paragraphs(text: str, start: int = 0, end: int | None = None) -> list[Para]:
    """Paragraphs of ``text[start:end]`` with their first-pass kinds."""
    stop = len(text) if end is None else end
    spans = _line_spans(text, start, stop)
    width = _wrap_width(spans)
    paras: list[Para] = []
    if width:
        spans = _join_wrapped(spans, width)
    blank = True
    append = paras.append
    seen: dict[str, tuple[str, str, int]] = {}  # first-pass kinds of short lines met before
    for s, e in spans:
        if s < 0:
            blank = True
            continue
        line = text[s:e]
        para = Para(s, e, line)
        para.blank_before = blank
        blank = False
        if len(line) > 300:
            pass  # classify: a long paragraph is body (Para's default)
        elif line in seen:
            para.kind, para.key, para.words = seen[line]
        else:
            classify(para)
            seen[line] = (para.kind, para.key, para.words)
        append(para)
    _mark_lists(paras)
    return paras


def _line_spans(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """Stripped spans of the non-blank lines of ``text[start:stop]``, with a ``(-1, -1)``
    marker where one or more blank lines come between two of them (or before the first)."""
    region = text[start:stop]
    spans: list[tuple[int, int]] = []  # stripped line spans, -1 start for blank lines
    if "\n" not in region and "\r" in region:  # old Mac line ends: rare, line by line
        pos = start
        for line in region.split("\r"):
            stripped = line.strip()
            if stripped:
                s = pos + len(line) - len(line.lstrip())
                spans.append((s, s + len(stripped)))
            else:
                spans.append((-1, -1))
            pos += len(line) + 1
        return spans
    # One regex pass over the text (\s is exactly str.isspace, as strip() uses).
    # (On the region, not text[start:], so that "^" matches at its start.)
    append = spans.append
    count = region.count
    prev = 0  # end of the previous non-blank line (or the region start)
    first = True
    for match in _CONTENT_LINE.finditer(region):
        s, e = match.span(1)
        if first:
            first = False
            if count("\n", 0, s):  # blank lines before the first one
                append((-1, -1))
        elif count("\n", prev, s) > 1:
            append((-1, -1))
        append((start + s, start + e))
        prev = e
    return spans


def block_mode(paras: list[Para]) -> bool:
    """True for pages that write an article's paragraphs on consecutive lines and
    separate articles (or sections) by blank lines."""
    if len(paras) < 6:
        return False
    joined = sum(1 for p in paras if not p.blank_before)
    return joined >= 0.4 * len(paras) and any(p.blank_before for p in paras[1:])


def _wrap_width(spans: list[tuple[int, int]]) -> int:
    """The wrap width of a hard-wrapped document, or 0."""
    lengths = sorted(e - s for s, e in spans if s >= 0)
    if len(lengths) < 8:
        return 0
    p95 = lengths[int(len(lengths) * 0.95) - 1]
    if p95 > 100 or lengths[-1] > 130 or p95 < 40:
        return 0
    filled = sum(1 for n in lengths if n >= 0.8 * p95)
    consecutive = sum(1 for a, b in itertools.pairwise(spans) if a[0] >= 0 and b[0] >= 0)
    if filled < 0.3 * len(lengths) or consecutive < 0.3 * len(lengths):
        return 0
    return p95


def _join_wrapped(spans: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    open_para = False
    for s, e in spans:
        if s < 0:
            out.append((s, e))
            open_para = False
            continue
        if open_para:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
        open_para = (e - s) >= 0.7 * width
    return out


def classify(para: Para) -> None:
    """Set ``kind``, ``key`` and ``words`` from the paragraph's own text."""
    text = para.text
    n = len(text)
    if n > 300:
        para.kind = BODY
        return
    words = text.count(" ") + 1
    para.words = words
    if words >= 8 and (text[-1] == "." or (text[-1] in _CLOSING_QUOTES and text[-2] in ".!?؟")):
        # a sentence-like line: only furniture phrases and list markers can make it not body
        if _BOILER_PHRASE_RE.search(text.lower()) is not None:
            para.kind = BOILER
        elif _LIST_MARKER.match(text) and n <= 100:
            para.kind = LIST
        return
    para.key = " ".join(text.casefold().split())
    key = para.key.rstrip(":").rstrip()
    if key in _SEPARATORS or (_RULE_LINE.match(text) and n >= 3):
        para.kind = SEP
        return
    if (
        key in _ARTIFACT_LINES
        or _RULE_LINE.match(text)
        or _ARTIFACT_PHRASE_RE.search(key) is not None
    ):
        para.kind = ARTIFACT
        return
    if key in _SOURCE:
        para.kind = SOURCE
        return
    if words >= 3 and _XLINK.match(text):
        para.kind = XLINK
        return
    if _is_boilerplate(key, text):
        para.kind = BOILER
        return
    if words <= 12 and text[-1] != "." and byline_name(text) is not None:
        para.kind = BYLINE
        return
    if n <= 90 and _DIGIT.search(text) is not None:
        if parse_date_line(text) is not None or (
            words <= 6 and parse_partial_line(text) is not None  # "March 3", "24 آب"
        ):
            para.kind = DATE
            return
        if words <= 16 and dated_byline(text) is not None:
            para.kind = BYLINE  # "Posted on March 3, 2021 by Jane Doe"
            return
    if _LIST_MARKER.match(text) and (n <= 100 or text[-1] not in ".!?؟"):
        para.kind = LIST
        return
    if is_title_like(text, words):
        para.kind = TITLE
        return
    para.kind = BODY


def _is_boilerplate(key: str, text: str) -> bool:
    if key in _BOILER_LINES or key.startswith(_BOILER_PREFIXES):
        return True
    if _BOILER_PHRASE_RE.search(key) is not None:
        return True
    if key[0].isdigit() and _BOILER_NUMBERED.match(key):
        return True
    if "cookie" in key and _COOKIES.search(key):
        return True
    return ("|" in text or "»" in text or "›" in text) and _NAV_LINE.match(text) is not None


def is_title_like(text: str, words: int | None = None) -> bool:
    """Short, no final punctuation, one sentence, not starting in lower case."""
    if len(text) > TITLE_MAX_CHARS or text[-1] in _FINAL_PUNCT:
        return False
    if (words if words is not None else text.count(" ") + 1) > TITLE_MAX_WORDS:
        return False
    if text[0].islower() or not _HAS_LETTER.search(text):
        return False
    return _INNER_SENTENCE_END.search(text) is None and _GLUED_END.search(text) is None


def is_short(para: Para) -> bool:
    return para.words <= SHORT_MAX_WORDS and len(para.text) <= SHORT_MAX_CHARS


def _mark_lists(paras: list[Para]) -> None:
    """Mark runs of short lines (town names, tags...) and marker lines as list items.

    A run is at least 3 distinct consecutive short title-like lines, or 2 after
    a line ending with a colon.
    """
    n = len(paras)
    i = 0
    while i < n:
        if paras[i].kind == LIST:
            paras[i].in_list = True
        if paras[i].kind != TITLE or not is_short(paras[i]):
            i += 1
            continue
        j = i
        while j < n and paras[j].kind == TITLE and is_short(paras[j]):
            j += 1
        if j < n and paras[j].kind in (DATE, BYLINE) and j - 1 > i:
            j -= 1  # the last short line is a title with its byline or date under it
        run = paras[i:j]
        distinct = len({p.key for p in run})
        after_colon = i > 0 and paras[i - 1].text.endswith(":")
        if distinct >= 3 or (after_colon and distinct >= 2):
            for p in run:
                p.in_list = True
        i = j


def dated_byline(text: str) -> tuple[str, str] | None:
    """``Posted on March 3, 2021 by Jane Doe`` → ``(iso date, name)``."""
    match = _DATED_BYLINE.search(text)
    if match is None:
        return None
    parsed = parse_date_line(text[: match.start()].strip())
    name = text[match.end() :].strip()
    if parsed is None or not name or len(name.split()) > 6:
        return None
    return parsed[0], name


def byline_name(text: str) -> str | None:
    """The name part of a byline line (``By Aram Mirzaei for ...`` → ``Aram Mirzaei``...)."""
    match = _BYLINE.match(text)
    if match is None or match.group("rest")[0].islower():
        return None
    return match.group("rest").strip()
