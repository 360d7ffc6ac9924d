"""Sentence units: F1 against hand-labelled gold, and the post-rules one by one."""

from __future__ import annotations

import time
from functools import cache

import pytest

from annotations.ingest import segment_text
from annotations.ingest.sentences import MAX_SENTENCE_CHARS, split_sentences
from annotations.ingest.types import ArticleUnit
from tests.ingest.helpers import check_invariants, line_span, load, prf, sample_text, spans_of


@cache
def _sample_articles() -> tuple[str, list[ArticleUnit]]:
    text = sample_text()
    return text, segment_text(text)


def gold_f1(filename: str, language: str) -> tuple[float, float, float, int]:
    gold_doc = load(filename)
    text, articles = _sample_articles()
    units = [(u.start, u.end) for a in articles for u in a.sentences]
    gold: set[tuple[object, int, int]] = set()
    predicted: set[tuple[object, int, int]] = set()
    for n, para in enumerate(gold_doc["paragraphs"]):
        if para["source"] == "sample":
            start, end = line_span(text, para["line"])
            gold.update(("s", a, b) for a, b in spans_of(text[start:end], para["sentences"], start))
            predicted.update(("s", a, b) for a, b in units if start <= a and b <= end)
        else:
            paragraph = para["text"]
            gold.update((n, a, b) for a, b in spans_of(paragraph, para["sentences"]))
            predicted.update((n, a, b) for a, b, _ in split_sentences(paragraph, language=language))
    return (*prf(gold, predicted), len(gold))


def test_gold_has_enough_sentences() -> None:
    assert gold_f1("sentences_gold_en.json", "en")[3] >= 150
    assert gold_f1("sentences_gold_ar.json", "ar")[3] >= 80


def test_english_sentence_f1() -> None:
    precision, recall, f1, n = gold_f1("sentences_gold_en.json", "en")
    print(f"\nEnglish sentences: n={n} P={precision:.4f} R={recall:.4f} F1={f1:.4f}")
    assert f1 >= 0.98, (precision, recall, f1)


def test_arabic_sentence_f1() -> None:
    precision, recall, f1, n = gold_f1("sentences_gold_ar.json", "ar")
    print(f"\nArabic sentences: n={n} P={precision:.4f} R={recall:.4f} F1={f1:.4f}")
    assert f1 >= 0.96, (precision, recall, f1)


def pieces(text: str, language: str = "en") -> list[str]:
    return [text[a:b] for a, b, _ in split_sentences(text, language=language)]


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Army met Dr. Smith on Aug. 5 at the base.",
        "Ankara guards Observation Point No. 9, to keep supply routes open.",
        "The Hama-Idlib Highway (var. M-5 Highway) was cut.",
        "They met Ms. Jones, approx. 20 km away.",
        "Lt. Col. James R. Porter arrived in St. Petersburg.",
        "The E.U. and the U.K. signed it on Feb. 3, 2020.",
        "See the report (p. 12) for details.",
    ],
)
def test_abbreviations_do_not_end_sentences(text: str) -> None:
    assert pieces(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Prices rose 2.5 percent.",
        "The blast happened on 23.08.2019 near the gate.",
        "It costs $1.5bn.",
    ],
)
def test_decimals_and_numeric_dates_do_not_end_sentences(text: str) -> None:
    assert pieces(text) == [text]


def test_glued_sentences_are_split_and_marked() -> None:
    text = "the return of the displaced people,” al-Saadon said.He added that 2 schools opened."
    spans = split_sentences(text)
    assert [text[a:b] for a, b, _ in spans] == [
        "the return of the displaced people,” al-Saadon said.",
        "He added that 2 schools opened.",
    ]
    assert [d for _, _, d in spans] == ["glued", "glued"]


def test_glued_credit_line_is_split() -> None:
    text = "thus, leaving the militants fully besieged.Al-Masdar News"
    assert pieces(text) == ["thus, leaving the militants fully besieged.", "Al-Masdar News"]


def test_glued_arabic_sentences_are_split() -> None:
    text = "انتهى الاجتماع مساء أمس.وقال مصدر إن النتائج ستعلن غداً."
    spans = split_sentences(text, language="ar")
    assert [text[a:b] for a, b, _ in spans] == [
        "انتهى الاجتماع مساء أمس.",
        "وقال مصدر إن النتائج ستعلن غداً.",
    ]
    assert spans[0][2] == "glued"


def test_ordinary_boundaries_are_not_marked_glued() -> None:
    assert {d for _, _, d in split_sentences("One here. Two there. Three.")} == {"none"}


def test_arabic_splits_on_question_mark_and_full_stop_not_on_comma() -> None:
    text = "هل انتهت المعركة؟ لا أحد يعرف، لكن القتال توقف؛ والهدوء عاد. ثم وصل الوفد!"
    assert pieces(text, "ar") == [
        "هل انتهت المعركة؟",
        "لا أحد يعرف، لكن القتال توقف؛ والهدوء عاد.",
        "ثم وصل الوفد!",
    ]


def test_arabic_abbreviations_do_not_end_sentences() -> None:
    text = "التقى د. أحمد الخطيب بالوزير. وقال أ.د. سمير حداد إن الاتفاق مهم."
    assert pieces(text, "ar") == [
        "التقى د. أحمد الخطيب بالوزير.",
        "وقال أ.د. سمير حداد إن الاتفاق مهم.",
    ]


def test_arabic_quotes_keep_their_closing_mark() -> None:
    text = "وقال: «لن نتخلى عن أرضنا. وسنواصل القتال». وصفق الحاضرون."
    assert pieces(text, "ar") == ["وقال: «لن نتخلى عن أرضنا.", "وسنواصل القتال».", "وصفق الحاضرون."]


def test_closing_quote_stays_with_its_sentence() -> None:
    text = (
        "“We have captured the hill. The enemy has fled,” the commander said."
        " He added: “More will follow.” The end."
    )
    assert pieces(text) == [
        "“We have captured the hill.",
        "The enemy has fled,” the commander said.",
        "He added: “More will follow.”",
        "The end.",
    ]


def test_quoted_question_with_reporting_clause_is_one_sentence() -> None:
    assert pieces("“Is it over?” she asked. “Yes.” He nodded.") == [
        "“Is it over?” she asked.",
        "“Yes.”",
        "He nodded.",
    ]


def test_stray_spaced_closing_quote_stays_with_its_sentence() -> None:
    text = "“And we are working now with them. ” Around 200 courses will be held."
    assert pieces(text) == [
        "“And we are working now with them. ”",
        "Around 200 courses will be held.",
    ]


def test_offsets_are_relative_to_the_whole_text() -> None:
    text = "HEAD\n\n  First one. Second one.  \nTAIL"
    start = text.index("First")
    spans = split_sentences(text, start, text.index("TAIL"), "en")
    assert [text[a:b] for a, b, _ in spans] == ["First one.", "Second one."]


def test_newlines_inside_a_region_are_spaces() -> None:
    text = "A wrapped sentence goes\non to the next line. And\nanother one."
    assert pieces(text) == ["A wrapped sentence goes\non to the next line.", "And\nanother one."]


def test_one_megabyte_line_without_punctuation_is_fast_and_bounded() -> None:
    text = ("word " * 210_000).strip()
    started = time.perf_counter()
    spans = split_sentences(text)
    articles = segment_text(text)
    elapsed = time.perf_counter() - started
    print(f"\n1 MB line without punctuation: {len(spans)} pieces in {elapsed:.3f} s")
    assert elapsed < 10, elapsed  # typically well under 0.2 s
    assert all(b - a <= MAX_SENTENCE_CHARS for a, b, _ in spans)
    assert {d for _, _, d in spans} == {"fragment"}
    assert "".join(text[a:b] for a, b, _ in spans).replace(" ", "") == text.replace(" ", "")
    check_invariants(text, articles)


def test_one_megabyte_without_any_space_is_cut_hard() -> None:
    text = "x" * 1_000_000
    spans = split_sentences(text)
    assert spans[0] == (0, MAX_SENTENCE_CHARS, "fragment")
    assert sum(b - a for a, b, _ in spans) == len(text)


def test_long_text_is_chunked_without_losing_or_overlapping_text() -> None:
    sentence = "The army said on Monday that it had captured 3 villages near the town. "
    text = sentence * 3000  # ~210 kB in one paragraph: several chunks
    spans = split_sentences(text)
    assert len(spans) == 3000
    assert all(text[a:b] == sentence.strip() for a, b, _ in spans)
