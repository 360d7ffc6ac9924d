"""Unit tests for the verifiability baseline (label family B), one rule per test."""

from __future__ import annotations

import pytest

from annotations.suggest import suggest_verifiability


def label(text: str, language: str = "en") -> str:
    return suggest_verifiability(text, language)[0]


def extras(text: str, language: str = "en") -> dict:
    return suggest_verifiability(text, language)[2]


# --- rhetoric_nonclaim -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Besides, what would be the purpose of a long term ceasefire with them?",
        "Related News",
        "Related Videos",
        "Also Read",
        "February 28, 2020",
        "23.08.2019",
        "By Aram Mirzaei for the Saker blog",
        "Note to readers: please click the share buttons above or below.",
        "Don’t believe them.",
        "Wide-range advance options",
        "Basma Qaddour",
        "This is how the troops advance",
    ],
)
def test_no_truth_evaluable_proposition_is_rhetoric(text: str) -> None:
    assert label(text) == "rhetoric_nonclaim"


@pytest.mark.parametrize(
    "text", ["مقالات متعلقة", "فيديوات متعلقة", "أغسطس 24, 2019", "هل انتهت الحرب في إدلب؟"]
)
def test_arabic_rhetoric(text: str) -> None:
    assert label(text, "ar") == "rhetoric_nonclaim"


# --- prediction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "In the near future, government troops will focus on clearing northern Hama.",
        "Joint patrols are expected to start east of the Euphrates next month.",
        "Ankara plans to send more troops to the observation posts.",
        "The commander vowed to retake the town within days.",
        "If oil prices rise further, the world will inch closer to a global recession.",
        "The jihadists declared that they will not rest until the government falls.",
    ],
)
def test_future_modal_conditional_is_prediction(text: str) -> None:
    assert label(text) == "prediction"


def test_future_in_a_relative_clause_does_not_make_a_prediction() -> None:
    assert label("The army captured the hill that would later become a base.") != "prediction"


@pytest.mark.parametrize(
    "text",
    [
        "سوف تنسحب القوات التركية من نقطة المراقبة.",
        "وسيكون لهذا النصر تأثيره في رسم إيقاع المواجهات اللاحقة.",
        "سيتم افتتاح ثلاثة مراكز صحية في القرى المحررة.",
        "ستنسحب القوات من المنطقة خلال أيام.",
    ],
)
def test_arabic_future_is_prediction(text: str) -> None:
    assert label(text, "ar") == "prediction"


def test_arabic_sin_words_that_are_not_future() -> None:
    # سيطرة (control), سياسي (political), لسنوات (for years) start with س but are not verbs
    text = "سيطرت القوات على المدينة بعد معارك استمرت لسنوات في ظل الحل السياسي."
    assert label(text, "ar") == "checkable_fact"


# --- opinion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "It’s a dangerous game that Ankara is playing here.",
        "This offensive should be expanded now that the army has the initiative.",
        "Washington must retract its words and return to the nuclear accord.",
        "It is shameful that the world stays silent.",
        "It is clear that the ceasefire has failed.",
        "Such attacks on civilians are criminal.",
    ],
)
def test_evaluative_or_normative_is_opinion(text: str) -> None:
    assert label(text) == "opinion"


def test_evaluative_predicate_beats_future() -> None:
    assert label("It will be a shameful day for the coalition.") == "opinion"


@pytest.mark.parametrize(
    "text",
    [
        "يجب التريث في إصدار الأحكام حول كيفية تصرف أنقرة.",
        "وهذا الربط يعني عودة للحياة الطبيعية.",
        "عنوانها أن السيادة السورية خط أحمر.",
    ],
)
def test_arabic_evaluative_is_opinion(text: str) -> None:
    assert label(text, "ar") == "opinion"


# --- checkable_fact and claim types ----------------------------------------------------


def test_casualty_report_is_numerical_checkable_fact() -> None:
    text = (
        "2 soldiers were killed, 4 others injured and some material damage was caused by the "
        "attack."
    )
    verif, conf, ex = suggest_verifiability(text, "en")
    assert verif == "checkable_fact"
    assert {"numerical", "causal_responsibility", "event"} <= set(ex["claim_types"])
    assert 0 < conf <= 1


def test_dated_event() -> None:
    ex = extras("On August 21, the Syrian Arab Army liberated the town of Khan Shaykhun.")
    assert "event" in ex["claim_types"]


@pytest.mark.parametrize(
    "text",
    [
        "In 2013 the group was founded in Raqqa.",
        "The weapons included two Grad 122mm rockets.",
        "He was caught with a 10-year old girl.",
    ],
)
def test_years_calibres_and_ages_are_not_numerical(text: str) -> None:
    ex = extras(text)
    types = ex.get("claim_types", [])
    if text.startswith("The weapons"):
        assert "numerical" in types  # "two … rockets" is a count; "122mm" alone is not
    else:
        assert "numerical" not in types


def test_agreement_is_law_rule() -> None:
    ex = extras("The Sochi agreement of 2018 stipulated that a demilitarized zone was created.")
    assert "law_rule" in ex["claim_types"]


def test_claim_types_only_for_checkable_facts() -> None:
    assert "claim_types" not in extras("This offensive should be expanded.")
    assert "claim_types" not in extras("Related News")


def test_arabic_checkable_fact_with_numbers() -> None:
    verif, _, ex = suggest_verifiability("قتل 10 مدنيين في قصف على ريف إدلب.", "ar")
    assert verif == "checkable_fact"
    assert "numerical" in ex["claim_types"]


# --- speech acts and loaded language --------------------------------------------------


def test_speech_act_checkable() -> None:
    assert extras("The army announced the capture of the city.")["speech_act_checkable"]
    assert extras("Turkey vowed to defend the post.")["speech_act_checkable"]
    assert not extras("The army captured the city.")["speech_act_checkable"]
    assert extras("وأعلن الجيش السيطرة على المدينة.", "ar")["speech_act_checkable"]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("The army liberated the town from terrorists.", "liberated"),
        ("Terrorist groups shelled the town.", "Terrorist"),
        ("The regime launched an offensive.", "regime"),
        ("The area is under US occupation.", "occupation"),
        ("Kurdish militias hold the east.", "militias"),
        ("Ankara backs the so-called moderate rebels.", "so-called"),
        ("Ankara separates the “moderate” rebels from HTS.", "“moderate”"),
    ],
)
def test_loaded_terms(text: str, term: str) -> None:
    ex = extras(text)
    assert ex["loaded_language"]
    s, e = ex["loaded_span"]
    assert text[s:e] == term


@pytest.mark.parametrize(
    "text",
    [
        "Militants withdrew from the town.",
        "The rebels abandoned their posts.",
        "Jihadist fighters fled north.",
    ],
)
def test_militant_rebel_jihadist_alone_are_neutral(text: str) -> None:
    assert not extras(text)["loaded_language"]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("استهدفت الجماعات الإرهابية أمن دمشق.", "الإرهابية"),
        ("بعد تحرير أغلب أجزاء مدينة حلب.", "تحرير"),
        ("آخر واجهات الاحتلال التركي من الميليشيات.", "الاحتلال"),
        ("حيث كان بعض رموز ما يُسمّى بالمعارضة.", "ما يُسمّى"),
    ],
)
def test_arabic_loaded_terms(text: str, term: str) -> None:
    ex = extras(text, "ar")
    assert ex["loaded_language"]
    s, e = ex["loaded_span"]
    assert text[s:e] == term


def test_tahrir_in_a_group_name_is_not_loaded() -> None:
    assert not extras("اشتبكت هيئة تحرير الشام مع فصائل أخرى.", "ar")["loaded_language"]
