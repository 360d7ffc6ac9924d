"""Small text helpers shared by the suggestion rules (pure functions, no state).

Everything here works on the unit's own string so that every span the rules
return is a pair of Python ``str`` offsets into that string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Arabic short vowels, shadda, sukun, dagger alef and tatweel: ignored when matching.
AR_MARKS = "\u064b-\u0652\u0670\u0640"
_MARKS_RE = re.compile(f"[{AR_MARKS}]")
_AR_FOLD_PAIRS = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"))
ARABIC_CHAR = re.compile(r"[\u0600-\u06ff]")
PROCLITICS = "وفبل"

_QUOTE_CHARS = re.compile(r"[“”\"«»]")


def fold_arabic(text: str) -> str:
    """Drop diacritics/tatweel and unify alef, ya and ta marbuta forms."""
    if not ARABIC_CHAR.search(text):
        return text
    text = _MARKS_RE.sub("", text)
    # chained str.replace runs in C; str.translate with a dict is per-character Python
    for src, dst in _AR_FOLD_PAIRS:
        if src in text:
            text = text.replace(src, dst)
    return text


def words_re(words: Iterable[str], arabic: bool = False) -> str:
    """Regex source matching any of ``words``, compiled as a character trie.

    Python's regex engine tries every branch of a flat alternation at every
    position; a trie tries only the branch of the current character, which is
    what keeps the lexicon scans fast. A space in a phrase matches any
    whitespace; a trailing ``*`` matches any word continuation (``embarrass*``).
    Arabic words are folded and matched whatever their diacritics and hamza forms.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        if arabic:
            word = fold_arabic(word)
        for ch in word:
            if ch == "*":
                node["*"] = {}
                break
            node = node.setdefault(ch, {})
        else:
            node[""] = {}

    def char(ch: str) -> str:
        if ch == " ":
            return r"\s+"
        return ar_pattern(ch) if arabic else re.escape(ch)

    def emit(node: dict[str, Any]) -> str:
        if "*" in node:
            return r"\w*"
        alts = [char(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return "(?:" + body + ")?" if len(alts) == 1 else body + "?"
        return body

    return "(?:" + emit(trie) + ")"


def ar_pattern(word: str) -> str:
    """Regex source matching an Arabic word whatever its diacritics and hamza forms."""
    out = []
    for ch in fold_arabic(word):
        if ch == "ا":
            out.append("[اأإآٱ]")
        elif ch == "ي":
            out.append("[يى]")
        elif ch == "ه":
            out.append("[هة]")
        else:
            out.append(re.escape(ch))
        out.append(f"[{AR_MARKS}]*")
    return "".join(out)


def ar_alternation(words: Iterable[str]) -> str:
    """Diacritic-tolerant alternation of Arabic words (a trie, see :func:`words_re`)."""
    return words_re(words, arabic=True)


def ar_phrases(phrases: Iterable[str]) -> str:
    """Regex source for whole Arabic phrases (an optional proclitic before each)."""
    alts = (
        r"\s+".join(ar_alternation([w]) for w in phrase.split())
        for phrase in sorted(phrases, key=len, reverse=True)
    )
    return r"(?<![\w\u064b-\u0652\u0670\u0640])[وفبل]?(?:" + "|".join(alts) + r")(?![\w])"


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges inside double quotes (“…”, "…", «…»).

    A closing quote with no opening one means the unit continues a quotation
    opened earlier (the region starts at 0); an opening quote that is never
    closed runs to the end of the unit. Single quotes are ignored because the
    same character is used as an apostrophe.
    """
    regions: list[tuple[int, int]] = []
    open_at: int | None = None
    for m in _QUOTE_CHARS.finditer(text):
        ch = m.group()
        if ch in "“«":
            if open_at is None:
                open_at = m.start()
            else:  # "“Syrian War Diary“": a second opening mark closes
                regions.append((open_at, m.end()))
                open_at = None
        elif ch in "”»":
            if open_at is None:
                if not regions:
                    regions.append((0, m.end()))
            else:
                regions.append((open_at, m.end()))
                open_at = None
        elif open_at is None:
            open_at = m.start()
        else:
            regions.append((open_at, m.end()))
            open_at = None
    if open_at is not None:
        regions.append((open_at, len(text)))
    return regions


def inside(pos: int, regions: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in regions)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Word tokens as offsets; Arabic proclitics و ف ب ل are split off."""
    out = []
    for m in _TOKEN.finditer(text, start, len(text) if end is None else end):
        s, e = m.span()
        word = m.group()
        if len(word) > 3 and word[0] in PROCLITICS and ARABIC_CHAR.match(word):
            out.append((s, s + 1))
            s += 1
        out.append((s, e))
    return out


def strip_span(text: str, start: int, end: int, arabic: bool = False) -> tuple[int, int] | None:
    """Trim spaces/punctuation (and Arabic proclitics) from a span's edges."""
    while start < end and not text[start].isalnum() and text[start] not in "[":
        start += 1
    while end > start and not text[end - 1].isalnum() and text[end - 1] not in "]":
        end -= 1
    if arabic:
        start = strip_proclitic(text, start, end)
    return (start, end) if end > start else None


def strip_proclitic(text: str, start: int, end: int) -> int:
    """Move ``start`` past the proclitics of the first Arabic word of a span.

    Only strips when what remains still looks like a word: a definite article
    (وال، بال، فال، لل) or a known cue handled by the caller.
    """
    folded = fold_arabic(text[start:end])
    skip = 0
    if folded.startswith(("وبال", "فبال", "ولل", "فلل")):
        skip = 2
    elif (folded[:1] in PROCLITICS and folded[1:3] == "ال") or (
        folded.startswith("لل") and len(folded) > 3
    ):
        skip = 1
    return advance_letters(text, start, skip)


def advance_letters(text: str, pos: int, n: int) -> int:
    """Offset after ``n`` letters from ``pos``, also skipping their diacritics."""
    for _ in range(n):
        pos += 1
        while pos < len(text) and _MARKS_RE.match(text[pos]):
            pos += 1
    return pos
