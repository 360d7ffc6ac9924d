"""Reporting-frame detector for English and Arabic units (label family A).

`suggest_attribution(text, language, registry)` finds the matrix reporting
frame of one unit (the frame whose cue is the unit's main predicate) with
precompiled regular expressions and a few linear scans, so it can run at ingest
on every sentence. It returns character offsets into ``text``; Arabic spans
exclude the proclitics و ف ب ل.

The rules follow label-schema.md, family A:
- a frame is a cue (say, report, deny, claim, according to, announce, قال،
  أكد، أفاد، نفى، بحسب، أعلن، ذكرت …) with a source; the first frame whose
  source is the clause subject wins, then frames after quotations, sentence-final
  frames (", X reported."), parenthetical ones (", according to X,"), passives
  ("was voiced by X", "it is spelled out in X that") and participles after a
  speech-act main verb ("issued a statement denying");
- an evidential with no source (reportedly, allegedly, is said to, apparently,
  يُزعم، يُقال) leaves the unit unattributed: source_type author, commitment
  hedged, hedge_span on the evidential;
- deny/reject/dismiss/نفى → denies; "not aware", "cannot confirm" →
  uncommitted; a first-person belief inside the quotation ("We believe") →
  hedged; otherwise asserts;
- claimed/alleged/so-called/زعم/ما يُسمّى → author_stance distancing;
  revealed/admitted/pointed out/كشف/اعترف/المعلوم أن → endorsing;
- units that continue a quotation, or start in lower case, are attributed
  with the frame outside the unit;
- Arabic: وفقاً ل is a cue only before a source noun ("in accordance with
  arrangements" is not), personified قال (inanimate subject, "جاءت النتائج
  لتقول"), future and negated cues are not frames, naming devices (ما يُسمّى)
  set distancing without being cues.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any

from . import lexicon as lx
from .sources import classify_source, is_known_source, source_is_named
from .text import (
    AR_MARKS,
    ar_alternation,
    ar_phrases,
    fold_arabic,
    inside,
    quote_regions,
    strip_proclitic,
    strip_span,
    words_re,
)

Span = tuple[int, int]

FIELDS = (
    "is_attributed",
    "source_span",
    "cue_span",
    "hedge_span",
    "frame_outside_unit",
    "source_type",
    "source_named",
    "commitment",
    "author_stance",
)


@dataclass(frozen=True, slots=True)
class AttributionSuggestion:
    is_attributed: bool
    source_span: Span | None
    cue_span: Span | None
    hedge_span: Span | None
    frame_outside_unit: bool
    source_type: str
    source_named: str
    commitment: str
    author_stance: str
    confidence: Mapping[str, float] = field(default_factory=dict)
    rule: str = "none"

    def labels(self) -> dict[str, Any]:
        """Family-A fields as a flat label payload (spans as ``[start, end]``)."""
        out: dict[str, Any] = {
            "is_attributed": self.is_attributed,
            "frame_outside_unit": self.frame_outside_unit,
            "commitment": self.commitment,
            "author_stance": self.author_stance,
        }
        for name in ("source_span", "cue_span", "hedge_span"):
            value = getattr(self, name)
            if value is not None:
                out[name] = [value[0], value[1]]
        if self.is_attributed:
            out["source_type"] = self.source_type
            out["source_named"] = self.source_named
        elif self.commitment == "hedged":
            out["source_type"] = "author"
            out["source_named"] = "n/a"
        return out


@dataclass(slots=True)
class _Frame:
    cue: Span | None
    source: Span | None
    rule: str
    confidence: float
    cue_word: str = ""
    outside: bool = False


# ---------------------------------------------------------------------------
# English
# ---------------------------------------------------------------------------


def _words_re(words: set[str]) -> str:
    return words_re(words)


_EN_FINITE = lx.EN_SAY | lx.EN_OBJ | lx.EN_TELL | lx.EN_VOW
_EN_CUE = re.compile(rf"\b(?P<cue>{_words_re(_EN_FINITE)})(?:\b|(?=that\b))")
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z .,'’-]+(?:\([^)]*\))?\s*[–—_-]+\s*|[A-Z][a-z]+\s+[–—]\s+|"
    r"(?:Update|UPDATE|Breaking|BREAKING)\s*:\s*)"
)
_INTRO = re.compile(
    r"(?:On|In|At|Late|Early|Last|Earlier|Later|Since|After|Before|During|Meanwhile|However|"
    r"Moreover|Previously|Recently|Reacting|Regarding|Speaking|As|Despite|Following|"
    r"Immediately|Yet|But|So|Thus|Also|Currently|Today|Yesterday|Simultaneously|Still|"
    r"Naturally|Surely|Unwittingly|Logically|Indeed|Of course|Besides|Furthermore|"
    r"Additionally|Separately|Elsewhere|Once|Then|Now|Here|A day earlier|A few days ago|"
    r"Over|Meanwhile|Overall|Notably|Specifically|Interestingly|Importantly|Finally)"
    r"\b[^,;:“”\"]{0,120}?,\s+"
)
_NAME_PARTICLE = re.compile(r"(?:al|el|as|ad|ar|an|at|ash|az)-|(?:bin|ibn|abu|de|van|von|da)$")
_SUBJ_PARENTHETICAL = re.compile(
    r"^(?P<np>.+?),\s+(?:[a-z]+ing|[a-z]+ed|who|which|whose)\b[^,]*,?\s*$"
)
_SUBJ_COORD = re.compile(r"^(?P<np>.+?)\s+(?:took|went|turned|came)\s+to\s+\S+\s+and\s*$")
_ACCORDING = re.compile(
    r"\b(?P<cue>[Aa]ccording\s+to|[Cc]iting|[Aa]s\s+(?:reported|stated|explained|noted|"
    r"mentioned|quoted|cited|claimed|announced)\s+by)\s+(?P<src>[^,.;:()“”\"]+)"
)
_PASSIVE_BY = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had\s+been|is|are)\s+(?P<cue>voiced|reported|"
    r"announced|stated|said|claimed|confirmed|denied|expressed|echoed)\s+by\s+"
    r"(?P<src>[^,.;:“”\"]+?)(?=\s*[,.;:]|\s+who\b|\s+which\b|$)"
)
_PASSIVE_IN = re.compile(
    r"\b[Ii]t\s+(?:is|was|has\s+been|had\s+been)\s+(?:\w+ly\s+)?(?P<cue>mentioned|spelled\s+out|"
    r"stated|reported|said|claimed|alleged|noted|written|confirmed)\s+in\s+(?P<src>[^,]+?)\s+that\b"
)
_SENT_FINAL = re.compile(
    r",\s+(?P<src>[^,“”\"]{2,80}?)\s+(?:has\s+|have\s+|had\s+)?(?P<cue>reported|said|says|added|"
    r"noted|stated|announced|claimed|confirmed|explained|stressed)\s*(?:on\s+\w+|today|"
    r"yesterday|in\s+a\s+statement)?\s*\.?\s*$"
)
_INVERTED = re.compile(
    r"\s*,?\s*(?P<cue>said|says|added|adds|noted|stressed|explained|stated|wrote|continued|"
    r"concluded|asked|insisted|affirmed)\s+(?P<src>[^,.;:“”\"]+)"
)
_PARTICIPLE = re.compile(
    rf"\b(?P<main>{_words_re(lx.EN_SPEECHY_MAIN)})\b[^.;:“”\"]{{0,80}}?\b"
    rf"(?P<cue>{_words_re(lx.EN_PARTICIPLES)})\b"
)
_IN_WHICH = re.compile(
    r"\b(?P<main>issued|released|published)\s+(?:an?\s+)?(?:[\w-]+\s+){0,3}statement\s+in\s+which"
    r"\s+(?:he|she|it|they)\s+(?P<cue>announced|said|declared|claimed|denied|confirmed|stated)\b"
)
_HEADLINE_TO = re.compile(r"^(?P<src>[A-Z][\w ’'-]{2,40}?)\s+to\s+(?P<cue>[A-Z][\w.]{1,20})\s*:")
# passive evidentials, matched without the "to"/"that" that must follow them
_EVIDENTIAL_STEMS = [
    f"{c} {w}{v}"
    for c in ("is", "are", "was", "were")
    for w in ("", "widely ")
    for v in (
        "said",
        "rumored",
        "rumoured",
        "believed",
        "thought",
        "reported",
        "alleged",
        "understood",
        "claimed",
    )
] + [
    f"{i}t {c} {w}{v}"
    for i in "iI"
    for c in ("is", "was", "has been", "had been")
    for w in ("", "widely ", "also ")
    for v in (
        "reported",
        "said",
        "claimed",
        "alleged",
        "rumored",
        "rumoured",
        "believed",
        "thought",
        "understood",
    )
]
_EVIDENTIAL = re.compile(
    r"\b(?P<h>"
    + words_re(lx.EN_EVIDENTIAL_ADV | lx.EN_PROBABILITY | {"alleged", "purported"})
    + r"\b|"
    + words_re(_EVIDENTIAL_STEMS)
    + r"(?=\s+(?:to|that)\b)|(?:seems?|appears?|seemed|appeared)(?=\s+(?:to|that)\b))"
)
_FIRST_PERSON = re.compile(
    r"\b(?P<h>"
    + words_re(
        {
            f"{p} {v}"
            for p in ("I", "We", "we")
            for v in ("believe", "think", "suspect", "assume", "guess", "reckon", "feel")
        }
        | {
            "My gut feeling tells me",
            "my gut feeling tells me",
            "In my opinion",
            "in my opinion",
            "In my view",
            "in my view",
            "makes me wonder",
            "makes me question",
            "makes me think",
        }
    )
    + r")\b"
)
_UNCOMMITTED = re.compile(r"\b" + words_re(lx.EN_UNCOMMITTED) + r"\b", re.I)
# Any frame, hedge or stance marker needs one of these; a unit without them
# takes the fast path (no frame, asserts, neutral), which keeps ingest cheap.
_EV_WORDS = (
    lx.EN_EVIDENTIAL_ADV
    | lx.EN_PROBABILITY
    | {"alleged", "purported", "seem", "seems", "seemed", "appear", "appears", "appeared", "said",
       "rumored", "rumoured", "believed", "thought", "reported", "understood", "claimed"}
)  # fmt: skip
_FP_WORDS = {"I", "We", "we", "My", "my", "me"}
_MISC_WORDS = {
    "according", "According", "citing", "Citing", "voiced", "expressed", "echoed", "mentioned",
    "spelled", "written", "called", "known", "clear", "fact", "abundantly", "clearly",
}  # fmt: skip
_KINDS: dict[str, frozenset[str]] = {}
for _kind, _words in (
    ("cue", _EN_FINITE | lx.EN_PARTICIPLES),
    ("ev", _EV_WORDS),
    ("fp", _FP_WORDS),
    ("misc", _MISC_WORDS),
):
    for _w in _words:
        _first = _w.split()[0]
        _KINDS[_first] = _KINDS.get(_first, frozenset()) | {_kind}
_ALL_KINDS = frozenset({"cue", "ev", "fp", "misc", "q"})
_QUOTE_KIND = frozenset({"q"})
# Any frame, hedge or stance marker needs one of these words; a unit without them
# takes the fast path (no frame, asserts, neutral), which keeps ingest cheap. The
# kinds found also tell the full rules which scans they can skip.
_EN_TRIGGER = re.compile(r"[“”\"«»]|\b" + words_re(set(_KINDS)) + r"(?:\b|(?=that\b))")
_WS = re.compile(r"\s+")
# a quotation opening with a first-person belief: “We believe …” → hedged
_QUOTE_BELIEF = re.compile(
    r"[“\"«]?\s*(?:I|We|we)\s+(?:believe|think|suspect|assume|guess|reckon|feel)\b"
)
_FIRST_PERSON_GATE = re.compile(r"\b(?:I|[Ww]e|[Mm]y|me)\b")
_SO_CALLED = re.compile(r"\bso[- ]called\b", re.I)
_ENDORSING_FACTIVE = re.compile(
    r"\b(?:it\s+is\s+(?:known|an\s+indisputable\s+fact|clear)|it\s+becomes\s+(?:\w+\s+)?clear|"
    r"it\s+is\s+(?:abundantly|clearly)\s+\w+)\s+(?:that|after)\b",
    re.I,
)
_RELATIVE_WORD = re.compile(
    r"\b(?:which|who|whom|whose|that|as|because|since|while|although|though|if|when|whereas)\b"
)
_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|its|their|his|her|this|these)\s+$")
_NO_FRAME_CONF: Mapping[str, float] = MappingProxyType(
    {
        "is_attributed": 0.8,
        "source_span": 0.8,
        "cue_span": 0.8,
        "frame_outside_unit": 0.85,
        "source_type": 0.6,
        "source_named": 0.7,
        "commitment": 0.65,
        "author_stance": 0.6,
        "hedge_span": 0.7,
    }
)
_NO_FRAME = AttributionSuggestion(
    False, None, None, None, False, "author", "n/a", "asserts", "neutral", _NO_FRAME_CONF, "none"
)
_FIRST_WORD = re.compile(r"\s*([“\"]?)([A-Za-z][\w’'-]*)")


def _main_start(text: str) -> int:
    pos = 0
    m = _DATELINE.match(text)
    if m:
        pos = m.end()
    for _ in range(3):
        m = _INTRO.match(text, pos)
        if not m:
            break
        pos = m.end()
    return pos


def _clean_subject(text: str, start: int, end: int) -> Span | None:
    """The subject noun phrase in text[start:end] (text right before a cue)."""
    toks = [(m.start(), m.end(), m.group()) for m in _NONSPACE.finditer(text, start, end)]
    if not toks or len(toks) > 28:
        return None
    words = [t[2].strip(",") for t in toks]
    first = words[0].lower()
    if not first:
        return None
    if (
        words[0][0].islower()
        and first not in lx.EN_SUBJECT_LOWER_START
        and not (_NAME_PARTICLE.match(first))
    ):
        return None
    if first in {"i", "we", "you", "us"}:
        return None
    if first in {"my", "our"} and (len(words) < 2 or not words[1].startswith("source")):
        return None
    # drop auxiliaries and adverbs before the cue ("has also", "officially", "went on to")
    n = len(toks)
    while n:
        w = words[n - 1]
        if w in _TAIL_WORDS or (w.endswith("ly") and w.islower() and len(w) > 3):
            n -= 1
        elif (
            (w == "not" and n > 1 and words[n - 2] in {"did", "has", "have", "had"})
            or (w == "long" and n > 1 and words[n - 2] == "for")
            or (w == "to" and n > 1 and words[n - 2] in {"continued", "proceeded"})
        ):
            n -= 2
        elif w == "to" and n > 2 and words[n - 3 : n - 1] == ["went", "on"]:
            n -= 3
        else:
            break
    if not n:
        return None
    seg_end = toks[n - 1][1]
    seg = text[toks[0][0] : seg_end]
    if "," in seg or " to " in seg:
        for pat in (_SUBJ_COORD, _SUBJ_PARENTHETICAL):
            m = pat.match(seg)
            if m:
                seg = m.group("np")
    seg = seg.rstrip(" ,")
    words = seg.split()
    if not 1 <= len(words) <= 14 or any(ch in seg for ch in '“”"()'):
        return None
    last = words[-1].lower()
    if last in lx.EN_PREPOSITIONS or last in _DETERMINERS:
        return None
    before_rel = _REL_SPLIT.split(seg, maxsplit=1)[0].lower().split()
    if any(w.strip(",") in lx.EN_NOT_IN_SUBJECT for w in before_rel):
        return None
    head_words = _HEAD_SPLIT.split(seg, maxsplit=1)[0].split()
    if head_words and head_words[-1].lower().strip(",") in lx.EN_INANIMATE:
        return None
    return (toks[0][0], toks[0][0] + len(seg))


_NONSPACE = re.compile(r"\S+")
_TAIL_WORDS = {
    "has",
    "have",
    "had",
    "also",
    "already",
    "just",
    "once",
    "again",
    "later",
    "then",
    "even",
    "further",
}
_DETERMINERS = lx.EN_SUBJECT_LOWER_START - {
    "he",
    "she",
    "they",
    "it",
    "others",
    "both",
    "many",
    "most",
    "some",
    "several",
}
_REL_SPLIT = re.compile(r"\b(?:who|whose)\b")
_HEAD_SPLIT = re.compile(r"\b(?:of|in|on|at|from|near|with|who|whose)\b")
_COMPLEMENT_ADVERB = re.compile(
    r"\s*(?:also|further|later|publicly|officially|repeatedly|again|earlier|today|yesterday|"
    r"in\s+exasperation|in\s+a\s+statement)\b"
)
_COMPLEMENT_THAT = re.compile(r"\s*(?:that\b|,?\s*[“\"«:])|that\b")
_NOUN_LIKE = {"reports", "claims", "notes", "states", "claim"}
_NEXT_WORD = re.compile(r"\s+([\w’'-]+)")
_TELL_COMPLEMENT = re.compile(r"\s+(?:[\w’'.-]+\s+){1,6}?(?:that\b|[“\"«:])")
_BARE_CLAUSE = re.compile(r"(?:he|she|they|it|we|the|a|an|there|this|these|[A-Z0-9])")


def _complement_ok(text: str, cue_word: str, cue_end: int) -> bool:
    pos = cue_end
    m = _COMPLEMENT_ADVERB.match(text, pos)
    if m:
        pos = m.end()
    if _COMPLEMENT_THAT.match(text, pos):
        return True
    word = _WS.sub(" ", cue_word)
    if word in _NOUN_LIKE:  # "Such reports appear…": a plural noun, unless "reports that"
        return False
    nxt_m = _NEXT_WORD.match(text, pos)
    nxt = nxt_m.group(1) if nxt_m else ""
    if word in lx.EN_VOW:
        return nxt == "to"
    if word in lx.EN_TELL:
        return bool(_TELL_COMPLEMENT.match(text, pos, pos + 120))
    if not nxt or nxt.lower() in lx.EN_PREPOSITIONS or nxt in lx.EN_REFLEXIVE:
        return False
    if word in lx.EN_OBJ:
        return True
    # say-class verbs take a bare clause: a pronoun, determiner, name or number next
    return bool(_BARE_CLAUSE.match(nxt))


def _cue_matches(text: str, start: int, cue_pos: list[int] | None) -> Iterator[re.Match[str]]:
    """Cue matches from ``start``: re-anchored at the trigger scan's positions when known."""
    if cue_pos is None:
        yield from _EN_CUE.finditer(text, start)
        return
    for pos in cue_pos:
        if pos >= start:
            m = _EN_CUE.match(text, pos)
            if m:
                yield m


def _frames_en(
    text: str, quotes: list[Span], kinds: Set[str] = _ALL_KINDS, cue_pos: list[int] | None = None
) -> _Frame | None:
    start = _main_start(text)
    m = _HEADLINE_TO.match(text) if ":" in text[:64] else None
    if m and not inside(m.start(), quotes):
        return _Frame(None, m.span("src"), "headline_to", 0.6)
    according = "ccording" in text or "iting " in text or " by " in text
    m = _ACCORDING.match(text, start) if according else None
    if m:
        return _according(text, m, "according_initial", 0.9)
    # preverbal: the first cue whose subject is the clause subject
    for m in _cue_matches(text, start, cue_pos) if "cue" in kinds else ():
        if inside(m.start(), quotes):
            continue
        q_end = max((e for s, e in quotes if e <= m.start()), default=start)
        subj = _clean_subject(text, max(start, q_end), m.start())
        after_quote = q_end > start and not text[q_end : subj[0]].strip(" ,") if subj else False
        if subj and (after_quote or _complement_ok(text, m.group("cue"), m.end())):
            conf = 0.85 if q_end > start or text[m.end() :].lstrip().startswith("that") else 0.75
            return _Frame(m.span("cue"), subj, "preverbal", conf, m.group("cue"))
    # “…,” added Ayatollah Khamenei.
    for _, q_end in quotes:
        m = _INVERTED.match(text, q_end)
        if m and q_end < len(text):
            src = strip_span(text, *m.span("src"))
            return _Frame(m.span("cue"), src, "inverted", 0.85, m.group("cue"))
    final = "," in text and "cue" in kinds
    m = _SENT_FINAL.search(text, max(0, len(text) - 150)) if final else None
    if m and not inside(m.start(), quotes):
        src = _clean_subject(text, *m.span("src"))
        if src:
            return _Frame(m.span("cue"), src, "sentence_final", 0.85, m.group("cue"))
    for m in _ACCORDING.finditer(text, start) if according else ():
        if not inside(m.start(), quotes) and text[: m.start()].rstrip().endswith(","):
            return _according(text, m, "according_parenthetical", 0.75)
    passive_in = " in " in text and ("t is " in text or "t was " in text or "t ha" in text)
    for pat, rule, gate in (
        (_PASSIVE_BY, "passive_by", " by " in text),
        (_PASSIVE_IN, "passive_in", passive_in),
    ):
        m = pat.search(text, start) if gate else None
        if m and not inside(m.start(), quotes):
            src = strip_span(text, *m.span("src"))
            return _Frame(m.span("cue"), src, rule, 0.7, m.group("cue"))
    if "issued" not in text and "released" not in text and "published" not in text:
        return None
    for pat in (_IN_WHICH, _PARTICIPLE):
        m = pat.search(text, start)
        if m and not inside(m.start("cue"), quotes):
            subj = _clean_subject(text, start, m.start("main"))
            if subj:
                return _Frame(m.span("cue"), subj, "participle", 0.6, m.group("cue"))
    return None


def _according(text: str, m: re.Match[str], rule: str, conf: float) -> _Frame:
    src = strip_span(text, *m.span("src"))
    return _Frame(m.span("cue"), src, rule, conf, "according to")


def _hedge_en(
    text: str, quotes: list[Span], kinds: Set[str] = _ALL_KINDS
) -> tuple[Span | None, bool]:
    """(hedge span, whether it scopes over the main clause)."""
    first: Span | None = None
    for m in _EVIDENTIAL.finditer(text) if "ev" in kinds else ():
        if inside(m.start(), quotes):
            continue
        span = m.span("h")
        before = text[max(0, span[0] - 80) : span[0]]
        word = m.group("h").lower()
        nominal = word in {"alleged", "purported"} or bool(_DETERMINER_BEFORE.search(before))
        if not nominal and not _in_relative(before):
            return span, True
        first = first or span
    fp = _FIRST_PERSON.search(text) if "fp" in kinds else None
    if fp and not inside(fp.start(), quotes):
        before = text[max(0, fp.start() - 80) : fp.start()]
        return fp.span("h"), not _in_relative(before)
    return first, False


def _in_relative(before: str) -> bool:
    """Is the text right after ``before`` inside a relative clause of its segment?"""
    cut = max(before.rfind(","), before.rfind(";"), before.rfind("–"))
    return bool(_RELATIVE_WORD.search(before, cut + 1))


def _suggest_en(text: str, registry: Mapping[str, str] | None) -> AttributionSuggestion:
    kinds: set[str] = set()
    cue_pos: list[int] = []
    for m in _EN_TRIGGER.finditer(text):
        k = _KINDS.get(m.group(), _QUOTE_KIND)
        kinds |= k
        if "cue" in k:
            cue_pos.append(m.start())
    if not kinds and ":" not in text[:64]:
        fw = _FIRST_WORD.match(text)
        if not (fw and fw.group(2)[0].islower() and len(fw.group(2)) > 1 and not fw.group(1)):
            return _NO_FRAME
    return _suggest_en_full(text, registry, kinds, cue_pos)


def _suggest_en_full(
    text: str,
    registry: Mapping[str, str] | None,
    kinds: Set[str] = _ALL_KINDS,
    cue_pos: list[int] | None = None,
) -> AttributionSuggestion:
    quotes = quote_regions(text) if "q" in kinds else []
    frame = _frames_en(text, quotes, kinds, cue_pos)
    stripped = text.lstrip()
    if frame is None:
        covered = sum(e - s for s, e in quotes)
        if quotes and covered >= 0.5 * len(stripped):
            frame = _Frame(None, None, "quote_continuation", 0.7, outside=True)
        else:
            fw = _FIRST_WORD.match(text)
            if fw and fw.group(2)[0].islower() and len(fw.group(2)) > 1 and not fw.group(1):
                frame = _Frame(None, None, "lowercase_continuation", 0.45, outside=True)
    hedge, main_hedge = _hedge_en(text, quotes, kinds)
    stance = "neutral"
    if "called" in text and _SO_CALLED.search(text):
        stance = "distancing"
    if frame is not None and frame.cue_word:
        word = _WS.sub(" ", frame.cue_word)
        if word in lx.EN_DISTANCING:
            stance = "distancing"
        elif word in lx.EN_ENDORSING:
            stance = "endorsing"
    if (
        stance == "neutral"
        and ("clear" in text or "known" in text or "fact" in text)
        and (_ENDORSING_FACTIVE.search(text))
    ):
        stance = "endorsing"
    return _finish(text, frame, hedge, main_hedge, stance, registry, quotes, arabic=False)


def _finish(
    text: str,
    frame: _Frame | None,
    hedge: Span | None,
    main_hedge: bool,
    stance: str,
    registry: Mapping[str, str] | None,
    quotes: list[Span],
    arabic: bool,
) -> AttributionSuggestion:
    conf: dict[str, float] = {}
    if frame is None:
        if hedge is None and stance == "neutral":
            return _NO_FRAME
        commitment = "hedged" if main_hedge else "asserts"
        conf.update(_NO_FRAME_CONF)
        if main_hedge:
            conf.update(source_type=0.75, commitment=0.75)
        if hedge:
            conf["hedge_span"] = 0.75
        return AttributionSuggestion(
            False, None, None, hedge, False, "author", "n/a", commitment, stance, conf, "none"
        )
    source_text = text[frame.source[0] : frame.source[1]] if frame.source else ""
    if source_text:
        stype, c_type = classify_source(source_text, registry)
        named, c_named = source_is_named(source_text, registry)
    else:
        stype, c_type, named, c_named = "unknown", 0.25, "no", 0.3
    commitment, c_commit = "asserts", 0.7
    cue_word = fold_arabic(frame.cue_word) if arabic else _WS.sub(" ", frame.cue_word)
    if cue_word in lx.EN_DENY or lx.AR_VERBS.get(cue_word) == "deny":
        commitment, c_commit = "denies", 0.85
    elif (not arabic and _UNCOMMITTED.search(text)) or (
        arabic and any(p in fold_arabic(text) for p in _AR_UNCOMMITTED_FOLDED)
    ):
        commitment, c_commit = "uncommitted", 0.7
    else:
        for s, e in quotes if _FIRST_PERSON_GATE.search(text) else ():
            if _QUOTE_BELIEF.match(text, s):
                m = _FIRST_PERSON.search(text, s, e)
                if m:
                    hedge = m.span("h")
                commitment, c_commit = "hedged", 0.7
                break
    fc = frame.confidence  # every rule confidence lies in [0.45, 0.9]
    conf = {
        "is_attributed": fc,
        "source_span": round(fc - (0.15 if frame.source else 0.1), 3),
        "cue_span": round(fc - 0.05, 3),
        "frame_outside_unit": fc,
        "source_type": round(c_type * fc, 3),
        "source_named": round(c_named * fc, 3),
        "commitment": c_commit,
        "author_stance": 0.6 if stance == "neutral" else 0.7,
        "hedge_span": 0.7,
    }
    return AttributionSuggestion(
        True,
        frame.source,
        frame.cue,
        hedge,
        frame.outside,
        stype,
        named,
        commitment,
        stance,
        conf,
        frame.rule,
    )


# ---------------------------------------------------------------------------
# Arabic
# ---------------------------------------------------------------------------

_M = f"[{AR_MARKS}]*"
_AR_CUE_WORDS = ar_alternation(lx.AR_VERBS.keys() | lx.AR_PREPS | lx.AR_EVIDENTIAL_PASSIVE)
_AR_CUE = re.compile(
    rf"(?<![\w\u064b-\u0652\u0670\u0640])(?P<pro>[وف]?[بل]?{_M})(?P<fut>س{_M})?"
    rf"(?P<cue>{_AR_CUE_WORDS})(?P<suf>(?:ه|ها|هم|هما|نا){_M})?(?:[اً]{_M})?(?![\w])"
)
_AR_WORD = re.compile(rf"[\w{AR_MARKS}]+")
# substrings (of folded text) that any hedge, naming device or factive contains
_AR_GATES = ("يبدو", "ربما", "رجح", "عتقد", "سمي", "سمو", "زعوم", "المعلوم", "المعروف")
_QUOTE_CHAR = re.compile(r"[“”\"«»]")
_AR_UNCOMMITTED_FOLDED = tuple(fold_arabic(p) for p in lx.AR_UNCOMMITTED)
_AR_ADDRESSEE = {"لوكاله", "لصحيفه", "لقناه", "لموقع", "للصحفيين", "لنا", "له", "لها", "لهم"}
_AR_NAMING = re.compile(ar_phrases(lx.AR_NAMING))
_AR_HEDGE = re.compile(ar_phrases(lx.AR_HEDGE_PHRASES))
_AR_FACTIVE = re.compile(ar_phrases(lx.AR_ENDORSING_FACTIVE))


def _ar_words(
    text: str, start: int, end: int | None = None, limit: int | None = None
) -> list[re.Match[str]]:
    return list(islice(_AR_WORD.finditer(text, start, len(text) if end is None else end), limit))


def _ar_head(word: str) -> str:
    w = fold_arabic(word)
    if w[:1] in "وفبل" and w[1:3] == "ال":
        w = w[1:]
    if w.startswith("لل"):
        w = w[2:]
    return w[2:] if w.startswith("ال") and len(w) > 3 else w


def _frames_ar(text: str, quotes: list[Span], cues: list[re.Match[str]]) -> _Frame | None:
    for m in cues:
        if inside(m.start(), quotes) or m.group("fut"):
            continue
        cue = fold_arabic(m.group("cue"))
        pro = fold_arabic(m.group("pro"))
        if cue in lx.AR_PREPS:
            frame = _ar_prep(text, m, cue)
            if frame:
                return frame
            continue
        if "ب" in pro or "ل" in pro:  # لتقول: purpose clause ("came to say"), not a frame
            continue
        before = text[max(0, m.start() - 12) : m.start()].split()
        if before and fold_arabic(before[-1]) in lx.AR_NEGATION:
            continue
        cls = lx.AR_VERBS.get(cue, "say")
        after = _ar_words(text, m.end(), limit=14)
        folded = [fold_arabic(w.group()) for w in after]
        comp_i = next((i for i, w in enumerate(folded) if w in lx.AR_COMPLEMENT), None)
        punct = re.search(
            r"[:“«\"]",
            text[m.end() : after[min(len(after) - 1, 8)].end()] if after else text[m.end() :],
        )
        if punct is not None:
            p_abs = m.end() + punct.start()
            p_i = sum(1 for w in after if w.end() <= p_abs)
            comp_i = p_i if comp_i is None else min(comp_i, p_i)
        if cue in lx.AR_EVIDENTIAL_PASSIVE and comp_i == 0:
            continue  # يُزعم أن / يُقال إن: evidential, handled as a hedge
        src_words: list[re.Match[str]] = []
        for w, fw in zip(after[:6], folded[:6], strict=False):
            if fw in lx.AR_SUBJECT_STOP or fw in _AR_ADDRESSEE:
                break
            src_words.append(w)
            if text[w.end() : w.end() + 2].lstrip()[:1] in '،,.:“«"':
                break
        if comp_i is not None:
            src_words = src_words[:comp_i]
        if src_words and _ar_head(src_words[0].group()) in lx.AR_INANIMATE:
            continue  # personified: "the battles said"
        if comp_i is None and cls not in {"announce", "deny", "endorsing"}:
            continue
        if comp_i is None and not src_words:
            continue
        if comp_i is None:  # VSO with an object: keep the longest registry-known subject
            for k in range(len(src_words), 0, -1):
                name = text[src_words[0].start() : src_words[k - 1].end()]
                if is_known_source(name):
                    src_words = src_words[:k]
                    break
        source = None
        if src_words:
            s = strip_proclitic(text, src_words[0].start(), src_words[0].end())
            source = (s, src_words[-1].end())
        elif not m.group("pro"):
            source = _ar_subject_before(text, m.start())  # SVO: الجيش السوري أعلن أن
        cue_span = (m.start("cue"), m.end("suf") if m.group("suf") else m.end("cue"))
        return _Frame(cue_span, source, "ar_verb", 0.8 if source else 0.6, m.group("cue"))
    return None


def _ar_subject_before(text: str, cue_start: int) -> Span | None:
    """A preverbal subject: up to four words back to the clause start, when the first one
    is definite (ال) or the whole phrase is a registry name."""
    lo = max(text.rfind(p, 0, cue_start) for p in "،,.:؛")
    words = _ar_words(text, lo + 1, cue_start)[-4:]
    if not words:
        return None
    first = fold_arabic(words[0].group())
    name = text[words[0].start() : words[-1].end()]
    definite = first.startswith("ال") or (first[:1] in "وف" and first[1:3] == "ال")
    if not definite and not is_known_source(name):
        return None
    if any(fold_arabic(w.group()) in lx.AR_SUBJECT_STOP for w in words):
        return None
    return (strip_proclitic(text, words[0].start(), words[0].end()), words[-1].end())


def _ar_prep(text: str, m: re.Match[str], cue: str) -> _Frame | None:
    after = _ar_words(text, m.end())
    if cue == "نقلا":
        if not after or fold_arabic(after[0].group()) != "عن":
            return None
        after = after[1:]
    if not after:
        return None
    first = after[0]
    first_f = fold_arabic(first.group())
    if cue in {"وفقا", "وفق", "طبقا"}:
        head = first_f[1:] if first_f.startswith("ل") else first_f
        if not {head, _ar_head(first_f), _ar_head(head)} & lx.AR_SOURCE_NOUNS:
            return None  # وفقاً لترتيبات: "in accordance with", not a cue
    words = []
    for w in after[:6]:
        if fold_arabic(w.group()) in lx.AR_SUBJECT_STOP:
            break
        words.append(w)
        if text[w.end() : w.end() + 2].lstrip()[:1] in '،,.:“«"':
            break
    if not words:
        return None
    s = words[0].start()
    if fold_arabic(words[0].group())[:1] == "ل" and cue in {"وفقا", "وفق", "طبقا"}:
        s = s + 1
    s = strip_proclitic(text, s, words[0].end())
    return _Frame(m.span("cue"), (s, words[-1].end()), "ar_according", 0.85, m.group("cue"))


def _suggest_ar(text: str, registry: Mapping[str, str] | None) -> AttributionSuggestion:
    folded = fold_arabic(text)
    cues = list(_AR_CUE.finditer(text))
    gates = [g for g in _AR_GATES if g in folded]
    if not cues and not gates and not _QUOTE_CHAR.search(text):
        return _NO_FRAME
    quotes = quote_regions(text)
    frame = _frames_ar(text, quotes, cues)
    if frame is None and quotes:
        stripped = text.lstrip(" –-")
        covered = sum(e - s for s, e in quotes)
        if covered >= 0.5 * len(stripped):
            frame = _Frame(None, None, "quote_continuation", 0.7, outside=True)
    hedge: Span | None = None
    main_hedge = False
    m = _AR_HEDGE.search(text) if gates else None
    if m:
        hedge, main_hedge = m.span(), True
    else:
        for mm in cues:
            if fold_arabic(mm.group("cue")) in lx.AR_EVIDENTIAL_PASSIVE:
                after = _ar_words(text, mm.end())
                if after and fold_arabic(after[0].group()) in {"ان", "بان"}:
                    hedge, main_hedge = mm.span("cue"), True
                    break
    stance = "neutral"
    if gates and _AR_NAMING.search(text):
        stance = "distancing"
    if frame is not None and frame.cue_word:
        cls = lx.AR_VERBS.get(fold_arabic(frame.cue_word))
        if cls == "distancing":
            stance = "distancing"
        elif cls == "endorsing":
            stance = "endorsing"
    if stance == "neutral" and gates and _AR_FACTIVE.search(text):
        stance = "endorsing"
    return _finish(text, frame, hedge, main_hedge, stance, registry, quotes, arabic=True)


# ---------------------------------------------------------------------------


def suggest_attribution(
    text: str, language: str, registry: Mapping[str, str] | None = None
) -> AttributionSuggestion:
    """Suggest family-A labels for one unit.

    ``language`` is an ISO code ("en", "ar"); other languages fall back to the
    English rules only when the text has no Arabic letters. ``registry`` maps
    normalised source names to source types (see :mod:`.sources`).
    """
    if language.lower().startswith("ar"):
        return _suggest_ar(text, registry)
    return _suggest_en(text, registry)
