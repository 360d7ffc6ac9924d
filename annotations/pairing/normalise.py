"""Transliteration-tolerant names: one key for "Khan Sheikhoun", "Khaan Shaykhoon" and خان شيخون.

A name's key is its *consonant skeleton*:

1. fold: lowercase, strip diacritics and Arabic short vowels / tatweel, unify hamza forms;
2. drop articles: Latin ``al- as- ash- el- ad- ...`` (unless the article is the last
   word) and Arabic ``ال`` (with the clitics و ب ف ك ل in front of it);
3. collapse doubled letters (``Lataamina``, ``Kafer Zeitta``);
4. Latin digraphs to one symbol (``kh``→x, ``sh``/``ch``→$, ``gh``→g, ``th``→t, ``dh``→d,
   ``ph``→f) and near-merges (``q``/``c``→k, ``p``→b, ``v``→f); a final ``h`` after a vowel
   goes (``Hamah``, ``Latamneh``: the Arabic ة);
5. Arabic letters through a character map to the same symbols (خ→x, ش→$, ق→k, ط→t, ...);
   long vowels and glides (ا و ي ى ة ء ع) vanish like the Latin vowels ``a e i o u y w``;
6. spaces go: ``Kafr Zita`` and كفرزيتا are both ``kfrzt``.

All five spellings of Khan Shaykhun in the sample, and the Arabic, give ``xn$xn``. Two
keys are the same name when equal, or when both have at least 5 symbols and differ by
one edit (:func:`same_name`; :func:`canonical_keys` applies this to a whole pool through
deletion neighbourhoods, without comparing all pairs).

:func:`extract_names` finds candidate names: capitalised sequences in English; a
gazetteer of Syrian places and groups (:mod:`annotations.pairing.gazetteer`) matched by
surface form or skeleton in any script (this also covers all-caps headlines); and for
Arabic, which has no capitals, the word after a place cue (مدينة، بلدة، قرية، ريف، ...) plus
any word sequence whose skeleton equals a name already known from the English side.
Numbers and dates live in :mod:`annotations.pairing.quantities` and are re-exported here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from annotations.pairing.gazetteer import GAZETTEER
from annotations.pairing.quantities import (
    DateMention,
    date_interval,
    extract_dates,
    extract_numbers,
    number_keys,
)

__all__ = [
    "DateMention",
    "canonical_keys",
    "date_interval",
    "extract_dates",
    "extract_names",
    "extract_numbers",
    "fold",
    "number_keys",
    "same_name",
    "skeleton",
]

_ARABIC_RE = re.compile(r"[\u0600-\u06ff]")
_APOSTROPHES = re.compile(r"[’'`‘ʿʾ\u02bb\u02bc]")
_LATIN_ARTICLES = frozenset({"al", "el", "as", "ash", "ad", "ar", "at", "az", "an", "ath"})
_LATIN_DIGRAPHS = (
    ("x", "ks"), ("kh", "x"), ("sh", "$"), ("ch", "$"), ("gh", "g"), ("th", "t"), ("dh", "d"),
    ("ph", "f"), ("ck", "k"), ("q", "k"), ("c", "k"), ("v", "f"), ("p", "b"),
)  # fmt: skip
_LATIN_VOWELS = re.compile(r"[aeiouyw]")
_FINAL_H = re.compile(r"(?<=[aeiou])h$")
_AR_MAP = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "x", "د": "d", "ذ": "d", "ر": "r",
    "ز": "z", "س": "s", "ش": "$", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "غ": "g", "ف": "f",
    "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "پ": "b", "چ": "$", "ڤ": "f",
    "گ": "g", "ا": "", "و": "", "ي": "", "ى": "", "ة": "", "ء": "", "ئ": "", "ؤ": "", "ع": "",
}  # fmt: skip
_AR_ARTICLE_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
_AR_CLITICS = ("و", "ب", "ل", "ف", "ك")
#: Inflectional endings tried, longest first, when an Arabic word is not a gazetteer
#: form as written: plural and dual (الحوثيون، الحوثيين), feminine nisba (التركية) and
#: the accusative alif of indefinite adjectives (أميركياً, folded to أميركيا).
_AR_SUFFIXES = ("ون", "ين", "ان", "ات", "ية", "ة", "ا")
_AR_PLACE_CUES = frozenset(
    """
    مدينة بلدة قرية بلدات قرى ريف محافظة منطقة مطار حي جبل تل سهل معبر ناحية
    """.split()  # noqa: SIM905
)
_AR_STOP = frozenset(
    """
    في من على إلى الى عن مع بين هذه هذا التي الذي كل بعد قبل
    """.split()  # noqa: SIM905
)
_EN_STOP = frozenset(
    """
    the a an on in at since after before while however according meanwhile despite late
    early as this that these those it he she they we i his her their our its thus so but
    and or if when yes no not of for from to by with without also another most some one two
    three four five many several below here there what whether still even naturally
    logically surely really regarding considering following reacting interviewed related
    news videos video update source click simultaneously previously currently moreover
    besides although unwittingly keeping looking excluding once during journeying dear
    immediately speaking my your why how who where which then now just only more all other
    such both each every last next first second third new old over under about between
    through against toward towards within until unlike like far near mr ms dr general
    president minister chief commander major colonel director spokesman secretary army
    forces force government ministry command news report reports war diary map read also
    dont don't we're it's i'm
    """.split()  # noqa: SIM905
)
_MONTH_AND_DAY = frozenset(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()  # noqa: SIM905
)
_EN_CAPITALISED = r"(?:(?:al|el|as|ash|ad|ar|at|az|an)-)?[A-Z][A-Za-z’'‘\-]*[A-Za-z]|[A-Z]"
_EN_SEQUENCE = re.compile(rf"(?:{_EN_CAPITALISED})(?:[ \t]+(?:{_EN_CAPITALISED}))*")
_TRAILING_DESCRIPTOR = re.compile(
    r"-(?:linked|backed|led|controlled|affiliated|made|occupied|based|era|sponsored|held)$"
)
_WORD = re.compile(r"[^\W_]+(?:['’‘][^\W_]+)*")


def fold(text: str) -> str:
    """Lowercase, no diacritics, no Arabic short vowels or tatweel, hamza forms unified."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u0640", ""))
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept).lower()


def _strip_ar_article(token: str) -> str:
    for prefix in _AR_ARTICLE_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            return token[len(prefix) :]
    return token


@lru_cache(maxsize=200_000)
def _token_skeleton(token: str) -> str:
    """Skeleton of one folded token (no spaces, no articles)."""
    if _ARABIC_RE.search(token):
        token = _strip_ar_article(token)
        if len(token) > 2 and token[-1] == "ه" and token[-2] in "اوي":
            token = token[:-1]
        return "".join(_AR_MAP.get(ch, ch if ch.isascii() and ch.isalnum() else "") for ch in token)
    token = _APOSTROPHES.sub("", token)
    token = re.sub(r"(.)\1+", r"\1", token)
    for a, b in _LATIN_DIGRAPHS:
        token = token.replace(a, b)
    token = _FINAL_H.sub("", token)
    return _LATIN_VOWELS.sub("", token)


def _tokens(text: str) -> list[str]:
    folded = fold(_APOSTROPHES.sub("", text))
    return re.findall(r"[^\W_]+", folded)


def skeleton(name: str) -> str:
    """Consonant skeleton of a name in Latin or Arabic script (see the module docstring)."""
    tokens = _tokens(name)
    kept = [
        t
        for i, t in enumerate(tokens)
        if not (t in _LATIN_ARTICLES and i < len(tokens) - 1) and t != "ال"
    ]
    return "".join(_token_skeleton(t) for t in kept)


def _edit_distance_le1(a: str, b: str) -> bool:
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def same_name(a: str, b: str) -> bool:
    """Whether two names (any script) are spelling variants of each other."""
    ka, kb = _GAZ.resolve(a) or skeleton(a), _GAZ.resolve(b) or skeleton(b)
    if ka == kb:
        return True
    return min(len(ka), len(kb)) >= 5 and _edit_distance_le1(ka, kb)


def canonical_keys(keys: Iterable[str]) -> dict[str, str]:
    """Map every key to one representative of its spelling-variant group.

    Keys of 5+ symbols within one edit are linked (deletion neighbourhoods, so linear in
    the number of keys); groups are transitive closures and the representative is the
    lexicographically smallest member, so the mapping does not depend on input order.
    """
    unique = sorted(set(keys))
    parent = {k: k for k in unique}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    buckets: dict[str, str] = {}
    for key in unique:
        if len(key) < 5:
            continue
        variants = {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}
        for v in variants:
            other = buckets.setdefault(v, key)
            if other != key:
                ra, rb = find(other), find(key)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    return {k: find(k) for k in unique}


class _Gazetteer:
    """Alias lookup by folded surface form and by skeleton."""

    def __init__(self, rows: tuple[tuple[str, ...], ...]) -> None:
        self.surface: dict[str, str] = {}
        self.upper_only: dict[str, str] = {}
        self.skeletons: dict[str, str] = {}
        self.max_words = 1
        self.arabic_words: set[str] = set()
        for row in rows:
            key = skeleton(row[0])
            for alias in row:
                words = _tokens(alias)
                self.max_words = max(self.max_words, len(words))
                if _ARABIC_RE.search(alias):
                    self.arabic_words.update(words)
                    self.arabic_words.update(_strip_ar_article(w) for w in words)
                if alias.replace(".", "").isupper() and len(alias) <= 4:
                    self.upper_only[alias.replace(".", "")] = key
                    continue
                self.surface[" ".join(words)] = key
                self.surface[" ".join(_strip_ar_article(w) for w in words)] = key
                sk = skeleton(alias)
                if len(sk) >= 4:
                    self.skeletons.setdefault(sk, key)

    def resolve(self, name: str) -> str | None:
        words = _tokens(name)
        hit = self.surface.get(" ".join(words))
        if hit is None and name.replace(".", "").isupper():
            hit = self.upper_only.get(name.replace(".", ""))
        return hit if hit is not None else self.skeletons.get(skeleton(name))


_GAZ = _Gazetteer(GAZETTEER)


def _clean_en_token(token: str) -> str:
    token = re.sub(r"['’]s$", "", token)
    return _TRAILING_DESCRIPTOR.sub("", token)


def _english_sequences(text: str) -> list[str]:
    names = []
    for m in _EN_SEQUENCE.finditer(text):
        raw = m[0].split()
        cut = next((k + 1 for k, t in enumerate(raw) if re.search(r"['’]s$", t)), len(raw))
        tokens = [_clean_en_token(t) for t in raw[:cut]]
        if _GAZ.resolve(" ".join(tokens)) is not None:
            names.append(" ".join(tokens))
            continue
        while tokens and (tokens[0].lower() in _EN_STOP or tokens[0].lower() in _MONTH_AND_DAY):
            tokens.pop(0)
        while tokens and (tokens[-1].lower() in _EN_STOP or tokens[-1].lower() in _MONTH_AND_DAY):
            tokens.pop()
        if tokens and not (len(tokens) == 1 and len(tokens[0]) < 2):
            names.append(" ".join(tokens))
    return names


def _ar_surface(word: str) -> str | None:
    """Gazetteer key of an inflected Arabic word (article already stripped), if any.

    الحوثيون and الحوثيين give الحوثي's key, التركية تركي's, أميركياً أميركي's. The stem
    left must keep 3 letters, so short words are never cut down to a name.
    """
    key = _GAZ.surface.get(word)
    if key is not None:
        return key
    for suffix in _AR_SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            for form in (stem, stem + "ي") if suffix in ("ون", "ين") else (stem,):
                key = _GAZ.surface.get(form)
                if key is not None:
                    return key
    return None


@lru_cache(maxsize=4096)
def _word_table(text: str) -> tuple[list[str], list[str], list[str], list[bool]]:
    """Words of ``text``: as written, normalised, skeletons, and whether Arabic."""
    originals = [_APOSTROPHES.sub("", m[0]) for m in _WORD.finditer(text)]
    words = [fold(w) for w in originals]
    arabic = [bool(_ARABIC_RE.search(w)) for w in words]
    norm = []
    for w, is_ar in zip(words, arabic, strict=True):
        if is_ar:
            stripped = _strip_ar_article(w)
            if stripped == w and w[:1] in _AR_CLITICS and w[1:] in _GAZ.arabic_words:
                stripped = w[1:]
            norm.append(stripped)
        else:
            norm.append(w)
    skel = [
        "" if (w in _LATIN_ARTICLES and i + 1 < len(norm)) else _token_skeleton(w)
        for i, w in enumerate(norm)
    ]
    return originals, norm, skel, arabic


def known_candidates(text: str) -> frozenset[str]:
    """Every key of ``known`` that :func:`extract_names` could look up for ``text``.

    Those are the skeletons (4+ symbols) of its word sequences that contain an Arabic
    word; ``extract_names(text, known)`` equals ``extract_names(text, {k: known[k] for
    k in known_candidates(text) & known.keys()})``, which lets callers memoise it.
    """
    _, norm, skel, arabic = _word_table(text)
    n = len(norm)
    out: set[str] = set()
    for i in range(n):
        for size in range(1, min(_GAZ.max_words + 1, n - i) + 1):
            if any(arabic[i : i + size]):
                sk = "".join(skel[i : i + size])
                if len(sk) >= 4:
                    out.add(sk)
    return frozenset(out)


def _scan_words(text: str, known: dict[str, str] | None) -> list[str]:
    """Gazetteer (and known-name) hits over word n-grams, longest match first."""
    originals, norm, skel, arabic = _word_table(text)
    hits: list[str] = []
    i = 0
    n = len(norm)
    after_cue = False
    while i < n:
        matched = 0
        for size in range(min(_GAZ.max_words + 1, n - i), 0, -1):
            phrase = " ".join(norm[i : i + size])
            key = _GAZ.surface.get(phrase)
            if key is None and size == 1 and arabic[i]:
                key = _ar_surface(norm[i])
            if key is None and size == 1 and originals[i].isupper():
                key = _GAZ.upper_only.get(originals[i])
            sk = "".join(skel[i : i + size])
            if key is None and len(sk) >= 4:
                key = _GAZ.skeletons.get(sk)
                if key is None and known is not None and any(arabic[i : i + size]):
                    key = known.get(sk)
            if key is not None:
                hits.append(key)
                matched = size
                break
        if not matched and after_cue and norm[i] not in _AR_STOP and len(skel[i]) >= 2:
            hits.append(skel[i])  # the word after a place cue, when no known name is there
        after_cue = not matched and arabic[i] and norm[i] in _AR_PLACE_CUES
        i += max(matched, 1)
    return hits


def extract_names(text: str, known: dict[str, str] | None = None) -> list[str]:
    """Name keys (skeletons) found in ``text``, in order, without duplicates.

    ``known`` maps skeletons of names already seen elsewhere (for example the English
    names of a pool) to their key; Arabic word sequences with one of those skeletons (4+
    symbols) count as names too. Gazetteer names come out under their canonical key.
    """
    keys: list[str] = []
    if not _ARABIC_RE.search(text) and sum(c.isupper() for c in text) < 0.6 * sum(
        c.isalpha() for c in text
    ):
        for name in _english_sequences(text):
            key = _GAZ.resolve(name) or skeleton(name)
            if len(key) >= 2:
                keys.append(key)
    keys.extend(_scan_words(text, known))
    seen: set[str] = set()
    return [k for k in keys if not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]
