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

_KIND_BASE: Final = {
    "body": 0.55,
    "quote_continuation": 0.55,
    "list_item": 0.25,
    "headline": 0.4,
    "subheading": 0.15,
    "caption": 0.08,
    "byline": 0.02,
    "dateline": 0.02,
    "boilerplate": 0.01,
    "cross_link": 0.03,
}
_FIXED_KINDS: Final = frozenset({"byline", "dateline", "boilerplate", "cross_link"})
_CLOSING: Final = frozenset('.”"’»)')
_CUE_KINDS: Final = frozenset({"body", "quote_continuation"})
_DIGIT = re.compile(r"[0-9]")
_ARABIC_DIGIT = re.compile(r"[٠-٩]")
_ANY_DIGIT = re.compile(r"[0-9٠-٩]")
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
    if unit_kind in _FIXED_KINDS:
        return _KIND_BASE[unit_kind]
    if unit_defect == "artifact":
        return 0.01
    score = _KIND_BASE.get(unit_kind, 0.3)
    n = len(text)
    if n < 25:
        score -= 0.3
    elif n < 45:
        score -= 0.12
    last = text[-1]
    if last == "?" or last == "؟":
        score -= 0.35
    elif last == "!":
        score -= 0.1
    elif last not in _CLOSING and (unit_kind == "body" or unit_kind == "quote_continuation"):
        score -= 0.05
    if unit_kind not in _CUE_KINDS:
        # headings, captions, list items: their shape says enough (all bases are below 1)
        return round(score, 3) if score > 0.0 else 0.0
    head = text if n <= _HEAD_CHARS else text[:_HEAD_CHARS]
    if _ANY_DIGIT.search(head) is not None:  # ASCII or Arabic-Indic digits
        score += 0.1
    words = _CUE_SET.intersection(head.split())
    if words:
        flags = 0
        for word in words:
            flags |= _CUES[word]
        if flags & _REPORTING:
            score += 0.1
        if flags & _EVENT:
            score += 0.12
        if flags & _OPINION:
            score -= 0.15
    rest = head[1:]
    if rest.lower() != rest:  # capitals after the first letter: names, places
        score += 0.06
    if unit_defect == "fragment":
        score *= 0.7
    elif unit_defect == "truncated":
        score *= 0.8
    # the cues add at most 0.38 to a base of 0.55: the score never exceeds 1
    return round(score, 3) if score > 0.0 else 0.0
