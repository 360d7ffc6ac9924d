"""Sentence boundaries with exact offsets, for English, Arabic and others.

The base splitter is ``sentencex`` (compiled, fast).  Its boundaries are
character indices into the string it was given; they are checked against the
returned text and, should a future version report something else, recovered
by searching the sentence strings in order.  Post-rules, all linear in the
input and applied only around punctuation:

* glued sentences (``said.He``, ``besieged.Al-Masdar News``, ``2019.He``,
  Arabic ``الأمر.وقال``) are split, and both halves get ``unit_defect="glued"``;
* abbreviations the base splitter ends a sentence on are re-joined
  (``Ms.``, ``approx.``, ``var.``, Arabic one-letter titles ``د.``, ``أ.د.``);
* a closing quote or bracket stays with the sentence it closes;
* Arabic: sentences end at ``.``, ``؟``, ``!``, ``۔``; never at ``،`` or ``؛``;
* input longer than ``CHUNK_CHARS`` is handled in chunks cut at a sentence end
  or a space, and a sentence longer than ``MAX_SENTENCE_CHARS`` is cut at a
  comma or space (``unit_defect="fragment"``): a 1 MB line without punctuation
  costs a few milliseconds.

Sentences never include surrounding whitespace.  Newlines inside a region
(hard-wrapped paragraphs) are treated as spaces.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

import sentencex

Span = tuple[int, int, str]  # start, end, unit_defect
_SPACE = re.compile(" ")

MAX_SENTENCE_CHARS: Final = 2000
CHUNK_CHARS: Final = 50_000

_NL_TO_SPACE: Final = str.maketrans({"\n": " ", "\r": " ", "\u2028": " ", "\u2029": " "})
_TERMINALS: Final = frozenset(".!?؟۔…")
_CLOSERS: Final = frozenset("”’»)]\"'›")

# A sentence end directly followed by the start of the next sentence.
_GLUE_EN = re.compile(r"[.!?][\"”’]?(?=[A-Z][a-z])")
_GLUE_AR = re.compile(r"[.!؟][\"”’»]?(?=[\u0621-\u064A]{2})")
# Abbreviations sentencex ends a sentence on although more follows ("Ms. Jones", "approx. 20").
_ABBREVIATIONS: Final = frozenset(
    _SPACE.split("Ms Mmes Ft Vol vol Vols approx var est Gens Fig fig Figs figs Ref ref Dept dept")
    + _SPACE.split("Gov Univ Assn Bros Mssrs")
)
_NUMBER_ABBREVIATIONS: Final = frozenset(_SPACE.split("No Nos no nos Art art Sec sec p pp Vol vol"))
_SOFT_BREAK = re.compile(r"[,،;؛:]\s")
_OPENERS: Final = frozenset("“‘«\"'‹")
_QUOTE_CHARS = re.compile('[“”"«»]')
_QUOTE_MARKS: Final = ("“", "”", '"', "«", "»")
# A sentence end inside a span (before a capital or an Arabic letter).
_INNER_END = re.compile(r"[.!?؟][”’\"»]?\s+[“\"«‘]?[A-Z\u0621-\u064A]")


def split_sentences(
    text: str, start: int = 0, end: int | None = None, language: str = "en"
) -> list[Span]:
    """Sentence spans ``(start, end, defect)`` of ``text[start:end]``, in order."""
    stop = len(text) if end is None else end
    lang = "ar" if language == "ar" else "en" if language in ("en", "und", "") else language
    spans: list[Span] = []
    if stop - start <= CHUNK_CHARS:  # the common case: one chunk, no sentence too long
        if start < stop:
            _split_chunk(text, start, stop, lang, spans)
        if len(spans) > 1:
            spans = _rejoin(text, spans)
        if stop - start <= MAX_SENTENCE_CHARS:
            return spans
        return _limit_length(text, spans)
    pos = start
    while pos < stop:
        cut = _chunk_end(text, pos, stop)
        _split_chunk(text, pos, cut, lang, spans)
        pos = cut
    if len(spans) > 1:
        spans = _rejoin(text, spans)
    return _limit_length(text, spans)


def _chunk_end(text: str, pos: int, stop: int) -> int:
    if stop - pos <= CHUNK_CHARS:
        return stop
    limit = pos + CHUNK_CHARS
    lower = limit - CHUNK_CHARS // 4
    for sep in (". ", "? ", "! ", "؟ ", "\n", " "):
        at = text.rfind(sep, lower, limit)
        if at >= 0:
            return at + len(sep)
    return limit


def _split_chunk(text: str, a: int, b: int, lang: str, out: list[Span]) -> None:
    chunk = text[a:b]
    is_ascii = chunk.isascii()
    if (
        "\n" in chunk
        or "\r" in chunk
        or (not is_ascii and ("\u2028" in chunk or "\u2029" in chunk))
    ):
        chunk = chunk.translate(_NL_TO_SPACE)
    try:
        pieces = sentencex.segment(lang, chunk)
    except Exception:  # the splitter failed: keep the text as one span
        pieces = [chunk]
    tiled = "".join(pieces) == chunk
    quotes = (not is_ascii or '"' in chunk) and _QUOTE_CHARS.search(chunk) is not None
    if (
        tiled
        and not quotes
        and (_GLUE_AR if lang == "ar" else _GLUE_EN).search(chunk) is None
        and pieces
    ):
        _tile(chunk, a, pieces, out)  # the common case: no quotation marks, no glued sentences
        return
    refined = _running_spans(pieces) if tiled else _boundaries(chunk, lang)
    if quotes:
        quoted: list[tuple[int, int]] = []
        for i, j in refined:
            if _QUOTE_CHARS.search(chunk, i, j) and _INNER_END.search(chunk, i, j):
                quoted.extend(_split_quoted(chunk, i, j, lang))
            else:
                quoted.append((i, j))
        refined = quoted
    glued = _glue_points(chunk, lang)
    if glued:
        refined = _cut_at(refined, glued)
    prev_end = -1
    append = out.append
    for s, e in refined:
        seg = chunk[s:e]
        if seg[-1:].isspace():
            seg = seg.rstrip()
            e = s + len(seg)
        if seg[:1].isspace():
            stripped = seg.lstrip()
            s = e - len(stripped)
            seg = stripped
        if not seg:
            continue
        if s == prev_end and _is_glued(chunk, s):
            if out and out[-1][1] == a + s:
                ps, pe, _ = out[-1]
                out[-1] = (ps, pe, "glued")
            append((a + s, a + e, "glued"))
        else:
            append((a + s, a + e, "none"))
        prev_end = e


def _tile(chunk: str, a: int, pieces: list[str], out: list[Span]) -> None:
    """Spans of the base splitter's pieces, which tile ``chunk`` (at offset ``a``), stripped."""
    append = out.append
    pos = 0
    prev_end = -1
    for piece in pieces:
        m = len(piece)
        seg = piece.strip()
        if seg:
            s = pos if not piece[0].isspace() else pos + m - len(piece.lstrip())
            e = s + len(seg)
            if s == prev_end and _is_glued(chunk, s):
                if out and out[-1][1] == a + s:
                    ps, pe, _ = out[-1]
                    out[-1] = (ps, pe, "glued")
                append((a + s, a + e, "glued"))
            else:
                append((a + s, a + e, "none"))
            prev_end = e
        pos += m


def _cut_at(spans: list[tuple[int, int]], points: list[int]) -> list[tuple[int, int]]:
    """Split spans at the given offsets (glued sentence boundaries)."""
    out: list[tuple[int, int]] = []
    for i, j in spans:
        inner = [g for g in points if i < g < j]
        edges = [i, *inner, j]
        out.extend(itertools.pairwise(edges))
    return out


def _running_spans(pieces: list[str]) -> list[tuple[int, int]]:
    """Offsets of pieces that tile their text: running sums of their lengths."""
    ends = list(itertools.accumulate(map(len, pieces)))
    return list(zip([0, *ends[:-1]], ends, strict=True))


def _boundaries(chunk: str, lang: str) -> list[tuple[int, int]]:
    """The base splitter's own offsets (when its pieces do not tile the chunk)."""
    try:
        found = sentencex.get_sentence_boundaries(lang, chunk)
    except Exception:  # the splitter failed: keep the text as one span
        return [(0, len(chunk))]
    triples = [(d["start_index"], d["end_index"], d["text"]) for d in found]
    if any(chunk[i:j] != t for i, j, t in triples):
        return [(s, e) for s, e, _ in _recover(chunk, [t for _, _, t in triples])]
    return [(i, j) for i, j, _ in triples]


def _base_split(chunk: str, lang: str) -> list[tuple[int, int]]:
    try:
        pieces = sentencex.segment(lang, chunk)
    except Exception:  # the splitter failed: keep the text as one span
        return [(0, len(chunk))]
    if "".join(pieces) == chunk:  # the pieces tile the chunk: offsets are running sums
        return _running_spans(pieces)
    return _boundaries(chunk, lang)


def _split_quoted(chunk: str, i: int, j: int, lang: str) -> list[tuple[int, int]]:
    """Split a span that the base splitter kept whole because of quotation marks.

    The span is split again with its quotation marks blanked out (same length);
    a piece starting in lower case (``“Is it?” she asked``) is joined back, and
    an opening quotation mark left at the end of a piece moves to the next one.
    """
    sub = chunk[i:j]
    for mark in _QUOTE_MARKS:
        if mark in sub:
            sub = sub.replace(mark, " ")
    pieces: list[list[int]] = []
    for s, e in _base_split(sub, lang):
        lead = sub[s:e].lstrip()
        if pieces and lead and lead[0].islower():
            pieces[-1][1] = i + e
        else:
            pieces.append([i + s, i + e])
    for n in range(1, len(pieces)):
        ps, b = pieces[n - 1]
        seg = chunk[ps:b].rstrip()
        if len(seg) > 1 and seg[-1] in _OPENERS and seg[-2].isspace():
            moved = ps + len(seg) - 1
            pieces[n - 1][1] = moved
            pieces[n][0] = moved
    return [(s, e) for s, e in pieces]


def _is_glued(chunk: str, s: int) -> bool:
    """True when the sentence starting at ``s`` follows the previous one with no space."""
    if s < 3 or not chunk[s].isalpha():
        return False
    k = s - 1
    while k > 0 and chunk[k] in _CLOSERS:
        k -= 1
    return chunk[k] in _TERMINALS and k >= 2 and chunk[k - 1].isalnum() and chunk[k - 2].isalnum()


def _glue_points(chunk: str, lang: str) -> list[int]:
    """Offsets inside ``chunk`` where one sentence is glued to the next."""
    points: list[int] = []
    pattern = _GLUE_AR if lang == "ar" else _GLUE_EN
    for match in pattern.finditer(chunk):
        at = match.start()
        before = chunk[max(0, at - 3) : at]
        if lang == "ar":
            ok = len(before) == 3 and all("\u0621" <= c <= "\u064a" for c in before)
        else:
            ok = (len(before) >= 2 and before[-1].islower() and before[-2].islower()) or (
                len(before) == 3 and before.isdigit() and at >= 4 and chunk[at - 4].isdigit()
            )
        if ok:
            points.append(match.end())
    return points


def _recover(chunk: str, pieces: list[str]) -> list[tuple[int, int, str]]:
    """Offsets of sentence strings found in order in ``chunk``."""
    found: list[tuple[int, int, str]] = []
    pos = 0
    for piece in pieces:
        key = piece.strip()
        if not key:
            continue
        at = chunk.find(key, pos)
        if at < 0:
            continue
        found.append((at, at + len(key), key))
        pos = at + len(key)
    if not found:
        return [(0, len(chunk), chunk)]
    # Cover the gaps so that no text is lost: extend each span to the next one.
    covered = []
    for n, (s, _, _) in enumerate(found):
        e = found[n + 1][0] if n + 1 < len(found) else len(chunk)
        s = 0 if n == 0 else s
        covered.append((s, e, chunk[s:e]))
    return covered


def _rejoin(text: str, spans: list[Span]) -> list[Span]:
    """Join spans split after an abbreviation; move stray closing quotes back."""
    out: list[Span] = [spans[0]]
    for s, e, defect in spans[1:]:
        ps, pe, pdefect = out[-1]
        if defect != "glued" and pdefect != "glued":
            first = text[s]
            if first in _CLOSERS and (s + 1 == e or text[s + 1].isspace()):
                # a closing quote split off: give it back, keep the rest
                out[-1] = (ps, s + 1, pdefect)
                rest = text[s + 1 : e]
                if rest.strip():
                    out.append((s + 1 + len(rest) - len(rest.lstrip()), e, defect))
                continue
            if text[pe - 1] == "." and _ends_with_abbreviation(text, ps, pe, first):
                out[-1] = (ps, e, pdefect if pdefect != "none" else defect)
                continue
        out.append((s, e, defect))
    return out


def _ends_with_abbreviation(text: str, ps: int, pe: int, next_first: str) -> bool:
    space = text.rfind(" ", max(ps, pe - 16), pe)
    word = text[(space + 1 if space >= 0 else ps) : pe - 1]
    if len(word) > 7:
        return False
    if word[:1] == "(":
        word = word[1:]
    if word in _ABBREVIATIONS:
        return True
    if word in _NUMBER_ABBREVIATIONS and next_first.isdigit():
        return True
    if len(word) == 1:  # an initial or a one-letter title: "R.", "د."
        return word.isalpha()
    # dotted initials: "أ.د.", "U.S."
    return "." in word and all(len(part) == 1 and part.isalpha() for part in word.split("."))


def _limit_length(text: str, spans: list[Span]) -> list[Span]:
    if all(e - s <= MAX_SENTENCE_CHARS for s, e, _ in spans):
        return spans
    out: list[Span] = []
    for s, e, defect in spans:
        while e - s > MAX_SENTENCE_CHARS:
            limit = s + MAX_SENTENCE_CHARS
            lower = s + MAX_SENTENCE_CHARS // 2
            cut = -1
            for match in _SOFT_BREAK.finditer(text, lower, limit):
                cut = match.start() + 1
            if cut < 0:
                cut = text.rfind(" ", lower, limit)
            if cut <= s:
                cut = limit
            piece = text[s:cut].rstrip()
            out.append((s, s + len(piece), "fragment"))
            rest = text[cut:e]
            s = cut + len(rest) - len(rest.lstrip())
        if s < e:
            out.append((s, e, "fragment" if out and out[-1][2] == "fragment" else defect))
    return out
