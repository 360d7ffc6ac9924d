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

from annotations.ingest.dates import parse_date_line

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
_RULE_LINE = re.compile(r"^[\s*\-=_~#•·.+◆◇■□●○]{1,80}$")
_ARTIFACTS = re.compile(
    r"%d bloggers? like this|^like this:?$|^loading\.\.\.$|^\[?\.\.\.\]?$|\{\{|\}\}|^undefined$",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"click to (?:see|view|enlarge)|full-size image|share buttons|all rights reserved"
    r"|^copyright\b|^©|^advertisement$|^sponsored|leave a (?:comment|reply)"
    r"|^comments?(?: \(\d+\))?$|^\d+ comments?$|^tags?:|^filed under|^posted in |^print$"
    r"|^email$|^share(?: this)?:?$|^tweet$|^menu$|^follow us|^subscribe\b|sign up for our"
    r"|cookies?\b.*\b(?:accept|policy)|^home\s*[|»>›/]|^skip to|^photo:|^image:|^video:"
    r"|^(?:photo|image) credit|note to readers|forward this article|crosspost on|^please support"
    r"|جميع الحقوق محفوظة|^تابعونا|اضغط هنا|انقر هنا|^اشترك",
    re.IGNORECASE,
)
_NAV_LINE = re.compile(r"^(?:[^|»›/]{1,25}\s*[|»›]\s*){2,}[^|»›/]{0,25}$")
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
_LIST_MARKER = re.compile(r"^(?:[-–•*▪►◦·]\s+|\(?\d{1,2}[.)]\s+|\[\d{1,3}\]\s*|[a-z]\)\s+)\S")
_FINAL_PUNCT = frozenset(".,;:،؛")
_INNER_SENTENCE_END = re.compile(r"[a-z\u0621-\u064a]{2}[.!?؟][\"”’]?\s+[\"“‘«]?[A-Z\u0621-\u064a]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_GLUED_END = re.compile(r"[a-z]{2}[.!?][A-Z][a-z]")

TITLE_MAX_CHARS: Final = 200
TITLE_MAX_WORDS: Final = 28
SHORT_MAX_WORDS: Final = 4
SHORT_MAX_CHARS: Final = 40


class Para:
    """One paragraph: ``[start, end)`` without surrounding whitespace."""

    __slots__ = ("end", "in_list", "key", "kind", "start", "text", "words")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text
        self.kind = BODY
        self.key = ""
        self.words = 0
        self.in_list = False

    def __repr__(self) -> str:
        return f"Para({self.start}, {self.end}, {self.kind}, {self.text[:40]!r})"


def split_paragraphs(text: str, start: int = 0, end: int | None = None) -> list[Para]:
    """Paragraphs of ``text[start:end]`` with their first-pass kinds."""
    stop = len(text) if end is None else end
    region = text[start:stop]
    sep = "\n" if "\n" in region or "\r" not in region else "\r"
    lines = region.split(sep)
    spans: list[tuple[int, int]] = []  # stripped line spans, -1 start for blank lines
    pos = start
    for line in lines:
        stripped = line.strip()
        if stripped:
            s = pos + len(line) - len(line.lstrip())
            spans.append((s, s + len(stripped)))
        else:
            spans.append((-1, -1))
        pos += len(line) + 1
    width = _wrap_width(spans)
    paras: list[Para] = []
    if width:
        spans = _join_wrapped(spans, width)
    for s, e in spans:
        if s >= 0:
            para = Para(s, e, text[s:e])
            classify(para)
            paras.append(para)
    _mark_lists(paras)
    return paras


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
    para.key = " ".join(text.casefold().split())
    key = para.key.rstrip(":").rstrip()
    if key in _SEPARATORS or (_RULE_LINE.match(text) and n >= 3):
        para.kind = SEP
        return
    if _ARTIFACTS.search(text) or _RULE_LINE.match(text):
        para.kind = ARTIFACT
        return
    if key in _SOURCE:
        para.kind = SOURCE
        return
    if _XLINK.match(text) and words >= 3:
        para.kind = XLINK
        return
    if _BOILERPLATE.search(text) or _NAV_LINE.match(text):
        para.kind = BOILER
        return
    if n <= 90 and any(c.isdigit() for c in text) and parse_date_line(text) is not None:
        para.kind = DATE
        return
    if words <= 12 and text[-1] != "." and byline_name(text) is not None:
        para.kind = BYLINE
        return
    if _LIST_MARKER.match(text) and (n <= 100 or text[-1] not in ".!?؟"):
        para.kind = LIST
        return
    if is_title_like(text, words):
        para.kind = TITLE
        return
    para.kind = BODY


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
        run = paras[i:j]
        distinct = len({p.key for p in run})
        after_colon = i > 0 and paras[i - 1].text.endswith(":")
        if distinct >= 3 or (after_colon and distinct >= 2):
            for p in run:
                p.in_list = True
        i = j


def byline_name(text: str) -> str | None:
    """The name part of a byline line (``By Aram Mirzaei for ...`` → ``Aram Mirzaei``...)."""
    match = _BYLINE.match(text)
    if match is None or match.group("rest")[0].islower():
        return None
    return match.group("rest").strip()
