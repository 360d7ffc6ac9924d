"""Model assistance: label suggestions for one unit (pure Python, no ORM).

    >>> s = suggest_labels("The ministry denied the reports.", "en")
    >>> s.to_dict()["labels"]["commitment"]
    'denies'

`suggest_labels` combines the attribution detector (:mod:`.attribution`) and
the verifiability rules (:mod:`.verifiability`) into the flat label payload of
interfaces.md (the body of ``GET /api/v1/claims/{id}/suggestions/``). Fields
whose schema condition does not hold are omitted: source fields only for
attributed units (or ``author`` for the hedged-evidential case), `claim_types`
only for checkable facts, `loaded_span`/`loaded_by` only when loaded language
was found, `commitment` is ``n/a`` for rhetoric. A project's trained model
(:mod:`.classifier`) may replace the verifiability label; pass its
probabilities as ``verifiability_proba`` and ``source`` becomes ``"model"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .attribution import AttributionSuggestion, suggest_attribution
from .text import inside, quote_regions
from .verifiability import LABELS, suggest_verifiability

__all__ = [
    "LABELS",
    "AttributionSuggestion",
    "Suggestion",
    "suggest_attribution",
    "suggest_labels",
    "suggest_verifiability",
]


@dataclass(frozen=True, slots=True)
class Suggestion:
    labels: dict[str, Any]
    confidence: dict[str, float]
    source: str = "rules"
    rules: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable `{"labels", "confidence", "source"}`."""
        return {
            "labels": dict(self.labels),
            "confidence": dict(self.confidence),
            "source": self.source,
        }


def suggest_labels(
    text: str,
    language: str,
    registry: Mapping[str, str] | None = None,
    verifiability_proba: Mapping[str, float] | None = None,
) -> Suggestion:
    """Suggested labels for one unit's text (offsets are into ``text``)."""
    attr = suggest_attribution(text, language, registry)
    verif, v_conf, extras = suggest_verifiability(text, language)
    source = "rules"
    if verifiability_proba:
        verif, v_conf = max(verifiability_proba.items(), key=lambda kv: kv[1])
        source = "model"
    labels = attr.labels()
    confidence = {k: v for k, v in attr.confidence.items() if k in labels}
    if verif in ("rhetoric_nonclaim", "cannot_judge"):
        labels["commitment"] = "n/a"
        confidence["commitment"] = round(v_conf, 3)
    labels["verifiability"] = verif
    confidence["verifiability"] = round(float(v_conf), 3)
    speech = bool(extras["speech_act_checkable"]) or (
        attr.is_attributed and attr.cue_span is not None
    )
    labels["speech_act_checkable"] = speech
    confidence["speech_act_checkable"] = 0.7
    if verif == "checkable_fact" and "claim_types" in extras:
        labels["claim_types"] = list(extras["claim_types"])
        confidence["claim_types"] = 0.5
    labels["loaded_language"] = bool(extras["loaded_language"])
    confidence["loaded_language"] = 0.75
    span = extras["loaded_span"]
    if span is not None:
        labels["loaded_span"] = list(span)
        labels["loaded_by"] = _loaded_by(text, span, attr)
        confidence["loaded_span"] = 0.7
        confidence["loaded_by"] = 0.6
    return Suggestion(
        labels, confidence, source, {"attribution": attr.rule, "verifiability": extras["rule"]}
    )


def _loaded_by(text: str, span: list[int], attr: AttributionSuggestion) -> str:
    """`source` when the loaded term sits in quoted or reported content."""
    if inside(span[0], quote_regions(text)):
        return "source"
    if attr.is_attributed and attr.cue_span is not None:
        frame_end = max(attr.cue_span[1], attr.source_span[1] if attr.source_span else 0)
        frame_start = min(attr.cue_span[0], attr.source_span[0] if attr.source_span else 10**9)
        # content after a fronted frame, or before a final one
        if span[0] >= frame_end or (frame_start > span[1] and attr.rule != "preverbal"):
            return "source"
    if attr.frame_outside_unit:
        return "source"
    return "author"
