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
    "list_item": 0.2,
    "headline": 0.3,
    "subheading": 0.15,
    "caption": 0.08,
    "byline": 0.02,
    "dateline": 0.02,
    "boilerplate": 0.01,
    "cross_link": 0.03,
}
_FIXED_KINDS: Final = frozenset({"byline", "dateline", "boilerplate", "cross_link"})
_CLOSING: Final = frozenset('.”"’»)')

_DIGIT = re.compile(r"[0-9٠-٩]")
_INNER_CAPITAL = re.compile(r" [A-Z][a-z]")
_REPORTING, _EVENT, _OPINION = 1, 2, 4
_WORDS = (
    (_REPORTING, "said says told report reported reports announced announces claimed claims denied"
     " confirmed confirms stated declared added noted stressed affirmed revealed admitted"
     " according قال أكد اكد أعلن اعلن ذكر ذكرت أفاد افاد نفى بحسب وفق أضاف صرح كشف أعلنت"),
    (_EVENT, "killed killing captured capturing launched launches attacked attacks seized seizes"
     " struck destroyed destroys liberated liberates wounded injured injuries arrested arrests"
     " fired shelled shells withdrew withdrawn deployed deploys intercepted bombed bombs"
     " encircled encircles advanced advances carried took was were has have had قتل قتلى"
     " استهدف سيطر سيطرت أطلق هاجم دمر حرر حررت أصيب اعتقل قصف تمكن أسقط انسحب"),
    (_OPINION, "should must perhaps think believe hope opinion i'll i’ll"
     " أعتقد برأيي رأيي ينبغي يجب"),
)  # fmt: skip
_CATEGORY: Final = {w: cat for cat, words in _WORDS for w in words.split()}
_PROCLITICS: Final = ("و", "ف")
_PUNCT: Final = (",", ".", "”", "“", '"', "’s", ";", ":", "(", ")", "،", "«", "»")
_HEAD_CHARS: Final = 300


def claim_likelihood(text: str, unit_kind: str, unit_defect: str = "none") -> float:
    """Score one unit; see the module docstring for the cues."""
    base = _KIND_BASE.get(unit_kind, 0.3)
    if unit_kind in _FIXED_KINDS:
        return base
    if unit_defect == "artifact":
        return 0.01
    words = text.count(" ") + 1
    score = base
    if words < 4:
        score -= 0.3
    elif words < 7:
        score -= 0.12
    last = text[-1]
    if last == "?" or last == "؟":
        score -= 0.35
    elif last == "!":
        score -= 0.1
    elif last not in _CLOSING and (unit_kind == "body" or unit_kind == "quote_continuation"):
        score -= 0.05
    head = text[:_HEAD_CHARS]
    low = head.lower()
    for mark in _PUNCT:
        if mark in low:
            low = low.replace(mark, " ")
    flags = 0
    get = _CATEGORY.get
    for word in low.split():
        cat = get(word)
        if cat is None and word[0] in _PROCLITICS:
            cat = get(word[1:])
        if cat is not None:
            flags |= cat
    reporting = flags & _REPORTING
    event = flags & _EVENT
    opinion = flags & _OPINION
    if _DIGIT.search(head) is not None:
        score += 0.1
    if reporting:
        score += 0.1
    if event:
        score += 0.12
    if len(_INNER_CAPITAL.findall(head)) >= 2:
        score += 0.06
    if opinion:
        score -= 0.15
    if unit_defect == "fragment":
        score *= 0.7
    elif unit_defect == "truncated":
        score *= 0.8
    return round(min(1.0, max(0.0, score)), 3)
