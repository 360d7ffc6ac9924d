"""Unit tests for the reporting-frame rules (label family A), one rule per test."""

from __future__ import annotations

import pytest

from annotations.suggest import suggest_attribution
from annotations.suggest.attribution import AttributionSuggestion


def span_text(text: str, span: tuple[int, int] | None) -> str | None:
    return text[span[0] : span[1]] if span else None


def en(text: str, **kw: object) -> AttributionSuggestion:
    return suggest_attribution(text, "en", **kw)  # type: ignore[arg-type]


def ar(text: str, **kw: object) -> AttributionSuggestion:
    return suggest_attribution(text, "ar", **kw)  # type: ignore[arg-type]


# --- English frames -------------------------------------------------------------


def test_x_said_that() -> None:
    t = "The minister said that the road was reopened on Monday."
    r = en(t)
    assert r.is_attributed and not r.frame_outside_unit
    assert span_text(t, r.source_span) == "The minister"
    assert span_text(t, r.cue_span) == "said"
    assert r.commitment == "asserts"


def test_said_x_inverted_after_quote() -> None:
    t = "“The road is open again,” said the governor of Hama."
    r = en(t)
    assert r.is_attributed
    assert span_text(t, r.cue_span) == "said"
    assert span_text(t, r.source_span) == "the governor of Hama"


def test_quote_then_source_said() -> None:
    t = "“We are rebuilding the schools,” al-Saadon said."
    r = en(t)
    assert span_text(t, r.source_span) == "al-Saadon"
    assert span_text(t, r.cue_span) == "said"
    assert r.source_type == "official_domestic"


def test_colon_frame() -> None:
    t = "The researcher added: “Ankara wants those attacks to take place.”"
    r = en(t)
    assert span_text(t, r.source_span) == "The researcher"
    assert span_text(t, r.cue_span) == "added"
    assert r.source_type == "expert"


def test_according_to() -> None:
    t = "According to SANA, two soldiers were killed in the attack."
    r = en(t)
    assert span_text(t, r.cue_span) == "According to"
    assert span_text(t, r.source_span) == "SANA"
    assert r.source_type == "state_media"
    assert r.source_named == "yes"


def test_parenthetical_according_to() -> None:
    t = "The government will fund new projects, according to the official, who spoke on Sunday."
    r = en(t)
    assert span_text(t, r.source_span) == "the official"
    assert r.rule == "according_parenthetical"


def test_x_told_y_that() -> None:
    t = "The source told SouthFront that no clashes happened in the area."
    r = en(t)
    assert span_text(t, r.cue_span) == "told"
    assert span_text(t, r.source_span) == "The source"
    assert r.commitment == "asserts"  # asserting a negative proposition is not a denial


def test_told_without_complement_is_not_a_frame() -> None:
    assert not en("The smile on their faces told the whole story.").is_attributed


def test_sentence_final_reported() -> None:
    t = "Militants shelled army positions twice, the Russian Reconciliation Center reported."
    r = en(t)
    assert span_text(t, r.source_span) == "the Russian Reconciliation Center"
    assert span_text(t, r.cue_span) == "reported"
    assert r.source_type == "official_foreign"


@pytest.mark.parametrize("verb", ["denied", "rejected", "dismissed"])
def test_denial_verbs_give_denies(verb: str) -> None:
    t = f"The Russian Defense Ministry {verb} reports that soldiers were killed near Jurin."
    r = en(t)
    assert r.is_attributed
    assert r.commitment == "denies"
    assert span_text(t, r.cue_span) == verb


def test_claimed_is_distancing() -> None:
    t = "Ankara claimed that the convoy was there to ensure the safety of the post."
    r = en(t)
    assert r.author_stance == "distancing"
    assert r.commitment == "asserts"


@pytest.mark.parametrize("verb", ["revealed", "admitted"])
def test_factive_cues_are_endorsing(verb: str) -> None:
    r = en(f"The spokesman {verb} that the talks had failed.")
    assert r.author_stance == "endorsing"


def test_announced_with_object() -> None:
    t = "On Thursday, the Syrian Arab Army's High Command announced the capture of the city."
    r = en(t)
    assert span_text(t, r.source_span) == "the Syrian Arab Army's High Command"
    assert r.source_type == "official_domestic"


def test_participle_after_statement() -> None:
    t = "Al-Jolani issued a statement denying the merger."
    r = en(t)
    assert r.commitment == "denies"
    assert span_text(t, r.cue_span) == "denying"
    assert span_text(t, r.source_span) == "Al-Jolani"


def test_passive_by() -> None:
    t = "The same response was voiced by Pompeo and Lindsey Graham who called for strikes."
    r = en(t)
    assert span_text(t, r.source_span) == "Pompeo and Lindsey Graham"
    assert r.source_type == "official_foreign"


def test_vows_to() -> None:
    t = "Syrian Army General Command vows to liberate all areas"
    r = en(t)
    assert span_text(t, r.cue_span) == "vows"


# --- evidentials and commitment --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hedge"),
    [
        ("Party members reportedly surrounded a local headquarters.", "reportedly"),
        ("The group is allegedly dissolving itself after the losses.", "allegedly"),
        ("The army is said to be amassing troops near the front.", "is said"),
        ("Militants apparently left these weapons behind.", "apparently"),
        ("It was reported that the town had fallen.", "It was reported"),
    ],
)
def test_evidential_without_source_is_hedged_author_voice(text: str, hedge: str) -> None:
    r = en(text)
    assert not r.is_attributed
    assert r.commitment == "hedged"
    assert span_text(text, r.hedge_span) == hedge
    assert r.labels()["source_type"] == "author"


def test_alleged_adjective_hedges_a_noun_not_the_clause() -> None:
    t = "Israeli jets struck alleged Iranian targets near the airport."
    r = en(t)
    assert r.commitment == "asserts"
    assert span_text(t, r.hedge_span) == "alleged"


def test_evidential_in_relative_clause_does_not_hedge_main_clause() -> None:
    t = "Aircraft struck convoys, which had allegedly moved too close to the zone."
    assert en(t).commitment == "asserts"


@pytest.mark.parametrize(
    "text",
    [
        "“We are not aware of any information that points to Iran,” the minister told reporters.",
        "The ministry said it cannot confirm that the strike took place.",
    ],
)
def test_not_aware_and_cannot_confirm_are_uncommitted(text: str) -> None:
    r = en(text)
    assert r.is_attributed
    assert r.commitment == "uncommitted"


def test_first_person_belief_in_quote_is_hedged() -> None:
    t = "“We believe the Houthis carried out the attack,” he added."
    r = en(t)
    assert r.is_attributed and r.commitment == "hedged"
    assert span_text(t, r.hedge_span) == "We believe"


def test_third_person_belief_asserts() -> None:
    assert en("He believes that Erdogan's goal is not a safe zone.").commitment == "asserts"


def test_author_first_person_belief_is_hedged_not_attributed() -> None:
    r = en("My gut feeling tells me that Washington is behind these tensions.")
    assert not r.is_attributed
    assert r.commitment == "hedged"


def test_plain_sentence_is_author_voice() -> None:
    r = en("Syrian troops entered the town on August 21.")
    assert not r.is_attributed
    assert r.commitment == "asserts"
    assert r.source_type == "author" and r.source_named == "n/a"
    assert r.labels() == {
        "is_attributed": False,
        "frame_outside_unit": False,
        "commitment": "asserts",
        "author_stance": "neutral",
    }


def test_plural_noun_reports_is_not_a_cue() -> None:
    assert not en("Such reports appear to be part of a propaganda wave.").is_attributed


def test_so_called_sets_distancing() -> None:
    assert en("Turkey backs the so-called moderate rebels.").author_stance == "distancing"


# --- frames outside the unit ------------------------------------------------------


def test_quote_continuation_is_attributed_with_frame_outside() -> None:
    t = "“The debate spilled out into the open in late June of 2019."
    r = en(t)
    assert r.is_attributed and r.frame_outside_unit
    assert r.source_span is None and r.cue_span is None


def test_lowercase_start_is_a_continuation() -> None:
    r = en("and that the army would not withdraw from the town.")
    assert r.frame_outside_unit and r.is_attributed


def test_short_scare_quote_is_not_a_quotation() -> None:
    r = en("“The Good Terrorists”: How U.S. Airstrikes Helped Prop Al-Qaeda in Idlib?")
    assert not r.is_attributed


# --- registry -------------------------------------------------------------------------


def test_registry_overrides_default_types() -> None:
    t = "Sham FM radio station reported that drones were intercepted."
    assert en(t).source_type == "other_media"
    assert en(t, registry={"Sham FM": "state_media"}).source_type == "state_media"


def test_registry_unknown_source_falls_back_to_role_nouns() -> None:
    assert en("A military source said that the siege was complete.").source_type == (
        "official_domestic"
    )
    assert en("Local sources said the aircraft hit the jail.").source_type == "unnamed_vague"
    r = en("A military source said that the siege was complete.")
    assert r.source_named == "no"


# --- Arabic ---------------------------------------------------------------------------


def test_arabic_vso_frame_strips_conjunction_from_cue() -> None:
    t = "وقال المتحدث باسم وزارة الدفاع الروسية إن الطائرات دمرت مواقع المسلحين."
    r = ar(t)
    assert r.is_attributed
    assert span_text(t, r.cue_span) == "قال"
    assert span_text(t, r.source_span) == "المتحدث باسم وزارة الدفاع الروسية"
    assert r.source_type == "official_foreign"


def test_arabic_bihasab_excludes_proclitic_ba() -> None:
    t = "بحسب المرصد السوري لحقوق الإنسان، قتل عشرة مدنيين."
    r = ar(t)
    assert span_text(t, r.cue_span) == "حسب"
    assert span_text(t, r.source_span) == "المرصد السوري لحقوق الإنسان"
    assert r.source_type == "monitor_ngo"


def test_arabic_wifqan_li_in_accordance_with_is_not_a_cue() -> None:
    t = "تتولى جبهة النصرة منطقة إدلب، وفقاً لترتيبات القيادة التركية."
    assert not ar(t).is_attributed


def test_arabic_wifqan_li_before_a_source_is_a_cue_without_the_lam() -> None:
    t = "وفقاً لوزارة الدفاع الروسية، قصفت الطائرات مواقع المسلحين."
    r = ar(t)
    assert r.is_attributed
    assert span_text(t, r.source_span) == "وزارة الدفاع الروسية"


def test_arabic_source_span_strips_proclitic() -> None:
    t = "وفقاً للمرصد السوري، قتل خمسة مدنيين."
    r = ar(t)
    # للمرصد = li- + (a)l-marsad: only the preposition is dropped, the article's lam stays
    assert span_text(t, r.source_span) == "لمرصد السوري"
    assert r.source_type == "monitor_ngo"


def test_arabic_denial() -> None:
    t = "ونفت وزارة الدفاع الروسية التقارير عن مقتل جنود."
    r = ar(t)
    assert r.commitment == "denies"
    assert span_text(t, r.cue_span) == "نفت"
    assert span_text(t, r.source_span) == "وزارة الدفاع الروسية"


@pytest.mark.parametrize(
    "text",
    [
        "وجاءت النتائج لتقول إن ما يصحّ في فهم الحلف هو قانون لا استثناءات فيه.",
        "وباتت الحقائق التي قالتها معارك حلب حاكمة لمضامين العلاقة.",
        "فالكلمة للميدان كما قالت خان شيخون.",
    ],
)
def test_arabic_personified_qala_is_not_a_cue(text: str) -> None:
    assert not ar(text).is_attributed


def test_arabic_negated_imperative_is_not_a_cue() -> None:
    t = "فلا ينكرنّ أحد أن الرهانات على تعثّر الدولة السورية توزعت على مشارق الأرض ومغاربها."
    assert not ar(t).is_attributed


def test_arabic_future_cue_is_not_a_frame() -> None:
    assert not ar("المكان الوحيد الذي سيقول الكلمة الفصل هو خان شيخون.").is_attributed


@pytest.mark.parametrize(
    ("text", "hedge"),
    [("يُزعم أن الجيش دخل المدينة.", "يُزعم"), ("يُقال إن المسلحين انسحبوا.", "يُقال")],
)
def test_arabic_passive_evidential_is_hedged(text: str, hedge: str) -> None:
    r = ar(text)
    assert not r.is_attributed
    assert r.commitment == "hedged"
    assert span_text(text, r.hedge_span) == hedge


def test_arabic_naming_device_sets_distancing_without_a_frame() -> None:
    r = ar("حيث كان بعض رموز ما يُسمّى بالمعارضة يستند لهذا الوجود.")
    assert not r.is_attributed
    assert r.author_stance == "distancing"


def test_arabic_zaama_distancing_and_kashafa_endorsing() -> None:
    assert ar("زعم المتحدث أن القوات انسحبت.").author_stance == "distancing"
    assert ar("كشف المصدر أن القوات انسحبت.").author_stance == "endorsing"


def test_arabic_known_that_is_endorsing_author_voice() -> None:
    r = ar("والمعلوم أن أرياف حلب كانت المنطقة التي تتمركز فيها هذه الجماعات.")
    assert not r.is_attributed and r.author_stance == "endorsing"


def test_arabic_diacritics_do_not_hide_a_cue() -> None:
    t = "وقالَ مصدرٌ عسكري إنَّ الجيش أكمل الحصار."
    r = ar(t)
    assert r.is_attributed
    assert span_text(t, r.cue_span) == "قالَ"
    assert r.source_type == "official_domestic"


@pytest.mark.parametrize(
    ("text", "cue", "source", "source_type"),
    [
        ("وأكد الجيش السوري أن العمليات مستمرة.", "أكد", "الجيش السوري", "official_domestic"),
        ("وأفادت وكالة سانا بأن الدفاعات الجوية تصدت لطائرات مسيرة.", "أفادت", "وكالة سانا",
         "state_media"),
        ("وذكرت مصادر محلية أن الطائرة قصفت السجن.", "ذكرت", "مصادر محلية", "unnamed_vague"),
        ("وأشار المتحدث إلى أن القوات انسحبت.", "أشار", "المتحدث", "official_domestic"),
        ("وصرّح وزير الخارجية الروسي بأن المحادثات فشلت.", "صرّح", "وزير الخارجية الروسي",
         "official_foreign"),
        ("وأعلنت القيادة العامة للجيش السيطرة على خان شيخون.", "أعلنت", "القيادة العامة للجيش",
         "official_domestic"),
        ("الجيش السوري أعلن أن المدينة أصبحت آمنة.", "أعلن", "الجيش السوري", "official_domestic"),
    ],
)  # fmt: skip
def test_arabic_cues(text: str, cue: str, source: str, source_type: str) -> None:
    r = ar(text)
    assert r.is_attributed
    assert span_text(text, r.cue_span) == cue
    assert span_text(text, r.source_span) == source
    assert r.source_type == source_type


def test_arabic_dropped_subject_keeps_the_cue_without_a_source() -> None:
    t = "وأضاف أن القوات تقدمت نحو المدينة."
    r = ar(t)
    assert r.is_attributed and span_text(t, r.cue_span) == "أضاف"
    assert r.source_span is None


@pytest.mark.parametrize(
    ("name", "source_type"),
    [
        ("SANA", "state_media"), ("Syrian state media", "state_media"),
        ("the Russian Reconciliation Center", "official_foreign"),
        ("the Russian Defense Ministry", "official_foreign"),
        ("Turkish officials", "official_foreign"), ("US officials", "official_foreign"),
        ("Israeli officials", "official_foreign"), ("the Syrian Army", "official_domestic"),
        ("the Syrian Arab Army", "official_domestic"), ("Damascus", "official_domestic"),
        ("a military source", "official_domestic"), ("HTS", "armed_group"),
        ("Hayat Tahrir al-Sham", "armed_group"), ("al-Qaeda", "armed_group"),
        ("ISIS", "armed_group"), ("the rebels", "armed_group"), ("the UN", "intl_org"),
        ("WHO", "intl_org"), ("the OPCW", "intl_org"), ("SOHR", "monitor_ngo"),
        ("the Syrian Observatory", "monitor_ngo"), ("Al-Masdar", "other_media"),
        ("Reuters", "other_media"), ("AFP", "other_media"), ("Al Jazeera", "other_media"),
        ("sources", "unnamed_vague"), ("reports", "unnamed_vague"),
        ("observers", "unnamed_vague"), ("سانا", "state_media"),
        ("المرصد السوري لحقوق الإنسان", "monitor_ngo"), ("هيئة تحرير الشام", "armed_group"),
    ],
)  # fmt: skip
def test_default_registry(name: str, source_type: str) -> None:
    from annotations.suggest.sources import classify_source

    assert classify_source(name)[0] == source_type


def test_confidences_are_per_field_and_bounded() -> None:
    for text, lang in [
        ("According to SANA, two soldiers were killed.", "en"),
        ("Party members reportedly surrounded the HQ.", "en"),
        ("The army entered the town.", "en"),
        ("وقال مصدر عسكري إن الجيش أكمل الحصار.", "ar"),
    ]:
        r = suggest_attribution(text, lang)
        assert set(r.confidence) >= {"is_attributed", "commitment", "source_type"}
        assert all(0.0 <= v <= 1.0 for v in r.confidence.values())
