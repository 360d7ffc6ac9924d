"""Names, numbers and dates: transliteration variants, Arabic, relative dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.pairing.normalise import (
    canonical_keys,
    extract_dates,
    extract_names,
    extract_numbers,
    fold,
    known_candidates,
    same_name,
    skeleton,
)

KHAN_SHAYKHUN = ["Khan Sheikhoun", "Khan Shaykhun", "Khaan Shaykhoon", "Khan Sheikhon", "خان شيخون"]


@pytest.mark.parametrize("spelling", [*KHAN_SHAYKHUN, "Khan Shikhoun", "KHAN SHAYKHUN"])
def test_all_khan_shaykhun_spellings_share_one_skeleton(spelling: str) -> None:
    assert skeleton(spelling) == skeleton("Khan Shaykhun") == "xn$xn"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kafr Zita", "Kafer Zeitta"),
        ("Kafr Zita", "كفرزيتا"),
        ("al-Lataminah", "Latamneh"),
        ("Al-Lataamina", "اللطامنة"),
        ("Morek", "Al-Mawrek"),
        ("Murak", "مورك"),
        ("Jisr al-Shughur", "جسر الشغور"),
        ("Idleb", "إدلب"),
        ("Hama", "حماه"),
        ("Maarat al-Numan", "معرة النعمان"),  # one edit apart: the construct-state t
        ("Aleppo", "حلب"),  # exonym, through the gazetteer
        ("HTS", "Hayat Tahrir al-Sham"),
    ],
)
def test_spelling_variants_are_the_same_name(a: str, b: str) -> None:
    assert same_name(a, b)


@pytest.mark.parametrize(("a", "b"), [("Hama", "Hmeimim"), ("Idlib", "Aleppo"), ("Morek", "Homs")])
def test_different_places_stay_apart(a: str, b: str) -> None:
    assert not same_name(a, b)


def test_fold_strips_diacritics_and_arabic_short_vowels() -> None:
    assert fold("Ma’arrat Al-Nu‘mān") == "ma’arrat al-nu‘man"
    assert fold("أهمّ دروس") == "اهم دروس"


def test_canonical_keys_links_one_edit_variants_independently_of_order() -> None:
    keys = ["mrtnmn", "mrnmn", "xn$xn", "hm"]
    forward = canonical_keys(keys)
    backward = canonical_keys(reversed(keys))
    assert forward == backward
    assert forward["mrtnmn"] == forward["mrnmn"]
    assert forward["hm"] == "hm" and forward["xn$xn"] == "xn$xn"


def test_extract_names_english_and_arabic_meet_on_the_key() -> None:
    english = extract_names(
        "On August 21, the Syrian Arab Army liberated the town of Khan Shaykhun and the "
        "areas of Khazanat and Tal Taeri, thus encircling militants in northern Hama."
    )
    arabic = extract_names("أعلنت القيادة العامة أن مدينة خان شيخون باتت تحت سيطرة الجيش")
    assert skeleton("Khan Shaykhun") in english and skeleton("Khan Shaykhun") in arabic
    assert skeleton("Hama") in english
    assert "august" not in " ".join(english)


def test_extract_names_in_all_caps_headlines_uses_the_gazetteer() -> None:
    names = extract_names("SYRIAN WAR REPORT – AUGUST 22, 2019: KHAN SHAYKHUN LIBERATED")
    assert skeleton("Khan Shaykhun") in names


def test_arabic_place_cue_gives_a_name_that_matches_the_english_spelling() -> None:
    arabic = extract_names("توقفت القافلة قرب بلدة الهبيط")
    english = extract_names("A short stop in the town of al-Hobeit allowed us to verify it.")
    assert set(arabic) & set(english)


def test_known_english_names_are_found_in_arabic_text() -> None:
    known = {skeleton("Kabani"): skeleton("Kabani")}
    assert skeleton("Kabani") in extract_names("التلة الاستراتيجية في كباني", known=known)


@pytest.mark.parametrize(
    ("arabic", "english"),
    [
        ("أعلن الحوثيون مسؤوليتهم عن الهجوم", "the Houthi claim of responsibility"),
        ("وقال المتحدث باسم الحوثيين إن الطائرات أصابت الهدف", "the Yemeni Houthis said"),
        ("وأدانت وزارة الدفاع التركية الغارات", "The Turkish Defense Ministry condemned"),
        ("ادعاءات جيش مغاوير الثورة المدعوم أميركياً", "the US-backed group claimed"),
        ("أهداف إيرانية في سوريا", "alleged Iranian-linked targets"),
    ],
)
def test_inflected_arabic_forms_meet_the_english_name(arabic: str, english: str) -> None:
    assert set(extract_names(arabic)) & set(extract_names(english))


def test_short_arabic_words_are_not_cut_down_to_a_name() -> None:
    # "بين" (between) ends like a plural but its stem is too short to be a name
    assert extract_names("بين الطرفين") == []


@given(
    st.lists(
        st.sampled_from(
            [
                "خان",
                "شيخون",
                "كباني",
                "الحوثيون",
                "في",
                "قرب",
                "بلدة",
                "Kabani",
                "تل",
                "الصياد",
                "مورك",
                "والتركية",
            ]
        ),
        max_size=12,
    )
)
def test_known_candidates_are_all_extract_names_can_look_up(words: list[str]) -> None:
    text = " ".join(words)
    known = {skeleton(w): skeleton(w) for w in ("Kabani", "Sayad", "Kafr Nabudah", "Houthis")}
    known.update({k: k for k in known_candidates(text)})  # every lookup can hit
    relevant = {k: v for k, v in known.items() if k in known_candidates(text)}
    assert extract_names(text, known=known) == extract_names(text, known=relevant)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("saying that 2 soldiers were killed, 4 others injured", [2.0, 4.0]),
        ("قتل ٣ مدنيين وأصيب ١٢ آخرون", [3.0, 12.0]),
        ("have four times shelled positions", [4.0]),
        ("مقتل ثلاثة مدنيين", [3.0]),
        ("more than 210 km (130 miles) north", [210.0, 130.0]),
        ("reportedly sending over 2,000 men", [2000.0]),
        ("at least two Grad 122mm rockets, RPG-18 and F-16 jets", [2.0, 122.0]),
        ("in 2014 the town fell; by 6:45 it was over", [45.0]),
        ("On August 21 the army advanced", []),
    ],
)
def test_extract_numbers(text: str, expected: list[float]) -> None:
    found = extract_numbers(text)
    if text.startswith("in 2014"):
        assert 2014.0 not in found and 6.0 not in found
        return
    assert found == expected


REF = date(2019, 8, 23)  # a Friday


@pytest.mark.parametrize(
    ("text", "reference", "start", "end"),
    [
        ("On August 21, the SAA liberated the town", REF, date(2019, 8, 21), date(2019, 8, 21)),
        ("full control on Thursday, August 22nd, 2019.", None, date(2019, 8, 22), None),
        ("the High Command announced on Thursday", REF, date(2019, 8, 22), date(2019, 8, 22)),
        ("As of this morning, Damascus time", REF, REF, REF),
        ("last night at least 33 troops were killed", REF, date(2019, 8, 22), date(2019, 8, 22)),
        ("23.08.2019", None, date(2019, 8, 23), date(2019, 8, 23)),
        (
            "liberated it from terrorist groups in August 2019",
            None,
            date(2019, 8, 1),
            date(2019, 8, 31),
        ),
        ("أغسطس 24, 2019", None, date(2019, 8, 24), date(2019, 8, 24)),
        ("في الحادي والعشرين من آب، أي في 21 آب", REF, date(2019, 8, 21), date(2019, 8, 21)),
        ("أعلنت القيادة يوم الخميس", REF, date(2019, 8, 22), date(2019, 8, 22)),
        ("On 23 January 2012, the group announced", None, date(2012, 1, 23), date(2012, 1, 23)),
        ("the attack of December 28", date(2020, 1, 2), date(2019, 12, 28), date(2019, 12, 28)),
    ],
)
def test_extract_dates(text: str, reference: date | None, start: date, end: date | None) -> None:
    mentions = extract_dates(text, reference)
    assert mentions, text
    assert mentions[0].start == start
    if end is not None:
        assert mentions[-1].end == end
    assert all(m.year_known for m in mentions)


def test_dates_without_year_or_reference_are_kept_as_day_of_year() -> None:
    (mention,) = extract_dates("Late on June 23, the Israeli Air Force struck")
    assert not mention.year_known
    assert (mention.start.month, mention.start.day) == (6, 23)


def test_weekday_without_reference_is_not_guessed() -> None:
    assert extract_dates("On Thursday the army announced control") == []


@given(st.text(max_size=200))
def test_extractors_never_fail(text: str) -> None:
    extract_names(text)
    extract_numbers(text)
    extract_dates(text, REF)
    skeleton(text)
