"""The combined suggestion payload (interfaces.md) and properties that hold for any text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.suggest import Suggestion, suggest_labels
from annotations.suggest.attribution import _suggest_en, _suggest_en_full

PAYLOAD_KEYS = {
    "is_attributed", "source_span", "cue_span", "hedge_span", "frame_outside_unit",
    "source_type", "source_named", "commitment", "author_stance", "verifiability",
    "speech_act_checkable", "claim_types", "loaded_language", "loaded_span", "loaded_by",
}  # fmt: skip
SOURCE_TYPES = {
    "author", "official_domestic", "official_foreign", "state_media", "armed_group",
    "intl_org", "monitor_ngo", "other_media", "expert", "witness_local", "individual",
    "document", "social_media", "unnamed_vague", "unknown",
}  # fmt: skip


def check_payload(text: str, s: Suggestion) -> dict:
    d = json.loads(json.dumps(s.to_dict(), ensure_ascii=False))
    assert set(d) == {"labels", "confidence", "source"}
    assert d["source"] in {"rules", "model"}
    labels = d["labels"]
    assert set(labels) <= PAYLOAD_KEYS
    assert {"is_attributed", "verifiability"} <= set(labels)
    for name in ("source_span", "cue_span", "hedge_span", "loaded_span"):
        if name in labels:
            s0, e0 = labels[name]
            assert 0 <= s0 < e0 <= len(text)
    if "source_type" in labels:
        assert labels["source_type"] in SOURCE_TYPES
    assert labels["commitment"] in {"asserts", "denies", "hedged", "uncommitted", "n/a"}
    assert labels["author_stance"] in {"neutral", "distancing", "endorsing"}
    assert labels["verifiability"] in {
        "checkable_fact",
        "opinion",
        "prediction",
        "rhetoric_nonclaim",
        "cannot_judge",
    }
    assert set(d["confidence"]) <= set(labels)
    assert all(0.0 <= v <= 1.0 for v in d["confidence"].values())
    return labels


def test_payload_for_an_attributed_denial() -> None:
    text = "Syrian state media denied that the strikes hit Iranian targets."
    labels = check_payload(text, suggest_labels(text, "en"))
    assert labels["is_attributed"] is True
    assert labels["source_span"] == [0, 18]
    assert text[slice(*labels["cue_span"])] == "denied"
    assert labels["source_type"] == "state_media"
    assert labels["source_named"] == "no"
    assert labels["commitment"] == "denies"
    assert labels["verifiability"] == "checkable_fact"
    assert labels["speech_act_checkable"] is True
    assert "claim_types" in labels


def test_author_voice_omits_source_fields() -> None:
    text = "On April 14, the Syrian Army kicked off a security operation against ISIS."
    labels = check_payload(text, suggest_labels(text, "en"))
    assert labels["is_attributed"] is False
    assert not {"source_type", "source_named", "source_span", "cue_span"} & set(labels)


def test_hedged_evidential_has_author_source_type() -> None:
    text = "Party members reportedly surrounded a local headquarters."
    labels = check_payload(text, suggest_labels(text, "en"))
    assert labels["source_type"] == "author"
    assert labels["commitment"] == "hedged"
    assert text[slice(*labels["hedge_span"])] == "reportedly"


def test_rhetoric_gets_commitment_na_and_no_claim_types() -> None:
    labels = check_payload("Related News", suggest_labels("Related News", "en"))
    assert labels["verifiability"] == "rhetoric_nonclaim"
    assert labels["commitment"] == "n/a"
    assert "claim_types" not in labels


def test_loaded_by_source_inside_quotation() -> None:
    text = "“Terrorists attacked our posts,” the commander said."
    labels = check_payload(text, suggest_labels(text, "en"))
    assert labels["loaded_language"] is True
    assert labels["loaded_by"] == "source"


def test_loaded_by_author_in_author_voice() -> None:
    text = "The army liberated the town on Friday."
    labels = check_payload(text, suggest_labels(text, "en"))
    assert labels["loaded_by"] == "author"
    assert text[slice(*labels["loaded_span"])] == "liberated"


def test_model_probabilities_replace_the_rule_label() -> None:
    text = "The army liberated the town on Friday."
    s = suggest_labels(text, "en", verifiability_proba={"opinion": 0.7, "checkable_fact": 0.3})
    labels = check_payload(text, s)
    assert s.source == "model"
    assert labels["verifiability"] == "opinion"
    assert s.confidence["verifiability"] == 0.7
    assert "claim_types" not in labels


def test_arabic_payload() -> None:
    text = "وقال مصدر عسكري إن الجيش أكمل حصار ريف حماة الشمالي."
    labels = check_payload(text, suggest_labels(text, "ar"))
    assert labels["is_attributed"] is True
    assert text[slice(*labels["cue_span"])] == "قال"
    assert labels["source_type"] == "official_domestic"
    assert labels["source_named"] == "no"


WORDS = [
    "said", "told", "that", "according", "to", "reportedly", "denied", "the", "minister", "“",
    "”", '"', ",", ".", "?", "al-Saadon", "We", "believe", "not", "aware", "so-called",
    "will", "should", "killed", "2", "soldiers", "terrorists", "claimed", "by", "was", "voiced",
    "It", "is", "said", "issued", "a", "statement", "denying", "My", "source", "says", "he",
    "قال", "إن", "بحسب", "وفقاً", "لترتيبات", "المرصد", "يُزعم", "أن", "ما", "يُسمّى", "سوف",
    "نفت", "الوزارة", "،",
]  # fmt: skip
sentences = st.lists(st.sampled_from(WORDS), min_size=0, max_size=25).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(sentences, st.text(max_size=200)), st.sampled_from(["en", "ar"]))
def test_any_text_gives_a_valid_payload(text: str, language: str) -> None:
    check_payload(text, suggest_labels(text, language))


@settings(max_examples=300, deadline=None)
@given(sentences)
def test_fast_path_agrees_with_full_rules(text: str) -> None:
    """The no-trigger shortcut must never change a result."""
    assert _suggest_en(text, None) == _suggest_en_full(text, None)


@settings(max_examples=100, deadline=None)
@given(sentences, st.sampled_from(["en", "ar"]))
def test_deterministic(text: str, language: str) -> None:
    assert suggest_labels(text, language) == suggest_labels(text, language)
