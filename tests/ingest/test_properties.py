"""Property tests: offsets round-trip and unit invariants on arbitrary and mutated text."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations.ingest import segment_text
from annotations.ingest.sentences import split_sentences
from tests.ingest.helpers import check_invariants, sample_text

ALPHABET = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(list("\n\n\r\t .,!?؟،؛«»“”\"'-–—_*|:()[]{}%\u200f\u200e\u00a0\u2028")),
    st.sampled_from(list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789")),
    st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهويىءآأإؤئ ً ٌ ٍ َ ُ ِ ّ ْ")),
)
WORDS = st.sampled_from(
    [
        "Related News",
        "South Front",
        "By Jane Doe",
        "February 28, 2020",
        "23.08.2019",
        "أغسطس 24, 2019",
        "BEIRUT, LEBANON (10:00 A.M.) –",
        "ALSO READ",
        "مقالات متعلقة",
        "%d bloggers like this:",
        "* * *",
        "U.S.",
        "said.He",
        "No. 9",
        "د.",
        "2.5",
        "؟",
        "“",
        "”",
        "The army said it captured the hill.",
        "قال الجيش إنه سيطر على التلة.",
        "INFIGHTING AMONG RADICALS",
        "Home | News | World",
        "[1]",
        "– ",
    ]
)
TEXT = st.lists(st.one_of(st.text(ALPHABET, max_size=40), WORDS, st.just("\n")), max_size=60).map(
    "".join
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_invariants_on_arbitrary_text(text: str) -> None:
    check_invariants(text, segment_text(text))


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=300), st.sampled_from(["en", "ar", "fr"]))
def test_sentence_spans_cover_all_text(text: str, language: str) -> None:
    spans = split_sentences(text, language=language)
    previous = 0
    for start, end, defect in spans:
        assert previous <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        assert not text[previous:start].strip(), "text between sentences was dropped"
        assert defect in ("none", "glued", "fragment")
        previous = end
    assert not text[previous:].strip()


@cache
def sample_lines() -> list[str]:
    return sample_text().split("\n")


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    lines = list(sample_lines())
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "splice", "case"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.one_of(WORDS, st.text(ALPHABET, max_size=80))))
        elif op == "splice" and lines[i]:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(ALPHABET, max_size=10)) + lines[i][at:]
        elif op == "case":
            lines[i] = lines[i].upper()
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sample())
def test_invariants_on_mutated_sample(text: str) -> None:
    articles = segment_text(text)
    check_invariants(text, articles)
    assert articles
