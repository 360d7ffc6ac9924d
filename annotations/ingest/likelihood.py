"""A cheap prior that a unit states a checkable claim: ``claim_likelihood`` in [0, 1].

Not a classifier: a few surface cues, linear in the unit, used to order work
(low first for skipping, high first for labelling) and to hide units that are
certainly not claims.  Headings, captions, bylines, datelines, boilerplate,
questions and very short fragments score low; declarative sentences with
numbers, named entities, event verbs and reporting verbs score high; first-
person opinion markers lower the score.
"""

from __future__ import annotations

import re
from typing import Final

# Scores are kept in hundredths (ints) while they are built: exact, and no rounding at the end.
_KIND_BASE: Final = {
    "body": 55,
    "quote_continuation": 55,
    "list_item": 25,
    "headline": 40,
    "subheading": 15,
    "caption": 8,
    "byline": 2,
    "dateline": 2,
    "boilerplate": 1,
    "cross_link": 3,
}
# Kinds whose score does not depend on the text.
FIXED_LIKELIHOOD: Final = {
    kind: _KIND_BASE[kind] / 100 for kind in ("byline", "dateline", "boilerplate", "cross_link")
}
_CLOSING: Final = frozenset('.”"’»)')
_CUE_KINDS: Final = frozenset({"body", "quote_continuation"})
_ANY_DIGIT = re.compile(r"[0-9٠-٩]")
_ASCII_UPPER = re.compile(r"[A-Z]")
# Cue words, matched as whitespace-separated tokens (one C-level set intersection per unit),
# with trailing punctuation and, for Arabic, the conjunctions و / ف attached.
_REPORTING, _EVENT, _OPINION = 1, 2, 4
_CUE_WORDS: Final = (
    (_REPORTING, "said says told according reported reports announced claimed claims denied"
     " confirmed stated declared added noted stressed affirmed revealed admitted"
     " قال أكد اكد أعلن اعلن ذكر ذكرت أفاد افاد نفى بحسب وفق أضاف صرح كشف أعلنت"),
    (_EVENT, "killed captured launched attacked seized struck destroyed liberated wounded"
     " injured arrested fired shelled withdrew deployed intercepted bombed encircled advanced"
     " carried took was were has had have قتل قتلى استهدف سيطر سيطرت أطلق هاجم دمر حرر أصيب"
     " اعتقل قصف أسقط انسحب"),
    (_OPINION, "should must perhaps think believe hope opinion I'll I’ll أعتقد برأيي ينبغي يجب"),
)  # fmt: skip
_ATTACHED: Final = ("", ",", ".", ":", ";", "”", '"', ".”", ",”", "’", "،", ")")


def _cue_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for flag, words in _CUE_WORDS:
        for word in words.split():
            if word.isascii():
                forms = [word, word[:1].upper() + word[1:]]
            else:
                forms = [word, "و" + word, "ف" + word]
            for form in forms:
                for tail in _ATTACHED:
                    table[form + tail] = table.get(form + tail, 0) | flag
    return table


_CUES: Final = _cue_table()
_CUE_SET: Final = frozenset(_CUES)
_HEAD_CHARS: Final = 240


def claim_likelihood(text: str, unit_kind: str, unit_defect: str = "none") -> float:
    """Score one unit; see the module docstring for the cues."""
    return span_likelihood(text, 0, len(text), unit_kind, unit_defect)


def span_likelihood(text: str, start: int, end: int, unit_kind: str, unit_defect: str) -> float:
    """``claim_likelihood(text[start:end], unit_kind, unit_defect)`` without copying the unit."""
    fixed = FIXED_LIKELIHOOD.get(unit_kind)
    if fixed is not None:
        return fixed
    if unit_defect == "artifact":
        return 0.01
    score = _KIND_BASE.get(unit_kind, 30)
    n = end - start
    if n < 25:
        score -= 30
    elif n < 45:
        score -= 12
    last = text[end - 1]
    if last == "?" or last == "؟":
        score -= 35
    elif last == "!":
        score -= 10
    elif last not in _CLOSING and (unit_kind == "body" or unit_kind == "quote_continuation"):
        score -= 5
    if unit_kind not in _CUE_KINDS:
        # headings, captions, list items: their shape says enough (all bases are below 1)
        return score / 100 if score > 0 else 0.0
    head = text[start:end] if n <= _HEAD_CHARS else text[start : start + _HEAD_CHARS]
    if _ANY_DIGIT.search(head) is not None:  # ASCII or Arabic-Indic digits
        score += 10
    words = _CUE_SET.intersection(head.split())
    if words:
        flags = 0
        for word in words:
            flags |= _CUES[word]
        if flags & _REPORTING:
            score += 10
        if flags & _EVENT:
            score += 12
        if flags & _OPINION:
            score -= 15
    # capitals after the first letter: names, places (in ASCII, only A-Z change in lower())
    if head.isascii():
        capitals = _ASCII_UPPER.search(head, 1) is not None
    else:
        rest = head[1:]
        capitals = rest.lower() != rest
    if capitals:
        score += 6
    # the cues add at most 38 to a base of 55: the score never exceeds 1
    if score <= 0:
        return 0.0
    if unit_defect == "fragment":
        return score * 7 / 1000
    if unit_defect == "truncated":
        return score * 8 / 1000
    return score / 100
