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

_DIGIT = re.compile(r"\d")
_REPORTING = re.compile(
    r"\b(?:said|says|told|report(?:ed|s)|announc(?:ed|es)|according to|claim(?:ed|s)|denied"
    r"|confirm(?:ed|s)|stated|declared|added|noted|stressed|affirmed|revealed|admitted)\b"
    r"|(?:قال|أكد|اكد|أعلن|اعلن|ذكر|أفاد|افاد|نفى|بحسب|وفق|أضاف|صرح|كشف)",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"\b(?:kill(?:ed|ing)|captur(?:ed|ing)|launch(?:ed|es)|attack(?:ed|s)|seiz(?:ed|es)|struck"
    r"|destroy(?:ed|s)|liberat(?:ed|es)|wound(?:ed)|injur(?:ed|ies)|arrest(?:ed|s)|fired|shell(?:ed|s)"
    r"|withdr(?:ew|awn)|deploy(?:ed|s)|carried out|took control|intercept(?:ed)|bomb(?:ed|s)"
    r"|encircl(?:ed|es)|advanc(?:ed|es)|was|were|has|have|had)\b"
    r"|(?:قتل|استهدف|سيطر|أطلق|هاجم|دمر|حرر|أصيب|اعتقل|قصف|تمكن|أسقط|انسحب)",
    re.IGNORECASE,
)
_OPINION = re.compile(
    r"\b(?:I think|I believe|I hope|in my opinion|we believe|my gut|should|must|ought to|perhaps"
    r"|I['’]ll|one would think)\b|(?:أعتقد|برأيي|في رأيي|ينبغي|يجب)",
    re.IGNORECASE,
)
_INNER_CAPITAL = re.compile(r"(?<=\s)[A-Z][a-z]")


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
    last = text[-1:]
    if last in "?؟":
        score -= 0.35
    elif last == "!":
        score -= 0.1
    elif last not in '.”"’»)' and unit_kind in ("body", "quote_continuation"):
        score -= 0.05
    if _DIGIT.search(text):
        score += 0.1
    if _REPORTING.search(text):
        score += 0.1
    if _EVENT.search(text):
        score += 0.12
    if len(_INNER_CAPITAL.findall(text, 0, 400)) >= 2:
        score += 0.06
    if _OPINION.search(text):
        score -= 0.15
    if unit_defect == "fragment":
        score *= 0.7
    elif unit_defect == "truncated":
        score *= 0.8
    return round(min(1.0, max(0.0, score)), 3)
