"""Source names → label-schema source types.

The registry maps *normalised* source or outlet names (see
:func:`normalise_source`) to a `source_type` value of label-schema.md. A project
passes its reviewed registry; :data:`DEFAULT_REGISTRY` covers common names of
the Syrian-war sample and is used underneath it. Names the registry does not
know fall back to role-noun rules ("a military source" → official_domestic,
"sources" → unnamed_vague, "the researcher" → expert), with a lower confidence.

"Domestic" means the country where the reported events take place; for the
sample corpus that is Syria (:data:`DOMESTIC`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from .text import fold_arabic

_DET = {"the", "a", "an", "this", "that", "these", "those", "some", "one"}
_PUNCT = re.compile(r"[^\w\s]+")
_POSSESSIVE = re.compile(r"[’']s\b")


def normalise_source(name: str) -> str:
    """Lower-case, fold Arabic spelling variants, drop determiners, possessives,
    punctuation, Arabic proclitics and the article ال."""
    text = _POSSESSIVE.sub("", fold_arabic(name).lower())
    words = []
    for word in _PUNCT.sub(" ", text).split():
        if word in _DET:
            continue
        if word[:1] in "وفبل" and word[1:3] == "ال":
            word = word[1:]
        if word.startswith("لل") and len(word) > 3:
            word = word[2:]
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        words.append(word)
    return " ".join(words)


_RAW_REGISTRY: dict[str, list[str]] = {
    "state_media": [
        "SANA",
        "Syrian Arab News Agency",
        "Syria's official news agency",
        "Syrian state media",
        "state media",
        "Syrian state TV",
        "Syrian TV",
        "Al-Ikhbariya",
        "Syria Times",
        "ST",
        "RT",
        "Sputnik",
        "TASS",
        "RIA Novosti",
        "Press TV",
        "IRNA",
        "Anadolu",
        "TRT",
        "سانا",
        "الوكالة العربية السورية للأنباء",
        "التلفزيون السوري",
        "الإعلام الرسمي السوري",
        "الإعلام الرسمي",
    ],
    "official_foreign": [
        "Russian Reconciliation Center",
        "Russian Reconciliation Center for Syria",
        "Russian Defense Ministry",
        "Russian Defence Ministry",
        "Russian Ministry of Defense",
        "Russian military",
        "Russian side",
        "Moscow",
        "Kremlin",
        "Russian Foreign Ministry",
        "Lavrov",
        "Putin",
        "Turkish Defense Ministry",
        "Turkish Defence Ministry",
        "Turkish side",
        "Turkish officials",
        "Turkish president",
        "Erdogan",
        "Ankara",
        "Turkish military",
        "Turkish presidential spokesman",
        "Ibrahim Kalin",
        "Kalin",
        "Turkey",
        "US officials",
        "U.S. officials",
        "US military",
        "Pentagon",
        "State Department",
        "Washington",
        "White House",
        "Trump",
        "Pompeo",
        "Lindsey Graham",
        "Israeli officials",
        "Israeli military",
        "IDF",
        "Israel",
        "Israeli Air Force",
        "Iranian officials",
        "Tehran",
        "Khamenei",
        "Ayatollah Khamenei",
        "Zarif",
        "Taro Kono",
        "Iraqi government",
        "مركز المصالحة الروسي",
        "وزارة الدفاع الروسية",
        "الدفاع الروسية",
        "الخارجية الروسية",
        "موسكو",
        "الكرملين",
        "أنقرة",
        "الرئاسة التركية",
        "وزارة الدفاع التركية",
        "واشنطن",
        "البنتاغون",
        "تل أبيب",
        "الجيش الإسرائيلي",
        "طهران",
    ],
    "official_domestic": [
        "Syrian Army",
        "Syrian Arab Army",
        "SAA",
        "Syrian military",
        "Syrian government",
        "Syrian Defense Ministry",
        "Syrian Foreign Ministry",
        "Damascus",
        "military source",
        "Syrian military source",
        "General Command of the Army and Armed forces",
        "Syrian air defense",
        "Assad",
        "Bashar al-Assad",
        "Syrian president",
        "Syrian officials",
        "al-Saadon",
        "Mohammad Fadi al-Saadon",
        "الجيش السوري",
        "الجيش العربي السوري",
        "القيادة العامة للجيش",
        "دمشق",
        "مصدر عسكري",
        "وزارة الدفاع السورية",
        "الحكومة السورية",
        "الرئيس الأسد",
        "بشار الأسد",
    ],
    "armed_group": [
        "HTS",
        "Hayat Tahrir al-Sham",
        "Hay'at Tahrir al-Sham",
        "Tahrir al-Sham",
        "al-Nusra Front",
        "Nusra Front",
        "Jabhat al-Nusra",
        "al-Qaeda",
        "ISIS",
        "ISIL",
        "Islamic State",
        "Daesh",
        "al-Naba",
        "rebels",
        "militants",
        "militant group",
        "jihadists",
        "Free Syrian Army",
        "FSA",
        "Syrian Democratic Forces",
        "SDF",
        "YPG",
        "Turkistan Islamic Party",
        "Jaysh al-Izza",
        "Hurras al-Din",
        "Revolutionary Commando Army",
        "Houthis",
        "Hezbollah",
        "National Front for Liberation",
        "Fa Ithbatu",
        "Abu Bakr al-Baghdadi",
        "al-Baghdadi",
        "Baghdadi",
        "al-Jolani",
        "Jolani",
        "al-Julani",
        "Abu Mohammad al-Jolani",
        "Zawahiri",
        "Ayman al-Zawahiri",
        "هيئة تحرير الشام",
        "جبهة النصرة",
        "النصرة",
        "القاعدة",
        "داعش",
        "تنظيم الدولة",
        "المسلحين",
        "المسلحون",
        "الجماعات المسلحة",
        "الفصائل المسلحة",
    ],
    "intl_org": [
        "UN",
        "United Nations",
        "WHO",
        "World Health Organization",
        "OPCW",
        "Red Cross",
        "ICRC",
        "UNICEF",
        "UNHCR",
        "OCHA",
        "NATO",
        "الأمم المتحدة",
        "منظمة الصحة العالمية",
        "منظمة حظر الأسلحة الكيميائية",
        "الصليب الأحمر",
        "الناتو",
        "حلف الأطلسي",
    ],
    "monitor_ngo": [
        "SOHR",
        "Syrian Observatory",
        "Syrian Observatory for Human Rights",
        "White Helmets",
        "Amnesty International",
        "Human Rights Watch",
        "المرصد السوري",
        "المرصد السوري لحقوق الإنسان",
        "الخوذ البيضاء",
    ],
    "other_media": [
        "Al-Masdar",
        "Al-Masdar News",
        "AMN",
        "Reuters",
        "AFP",
        "AP",
        "Associated Press",
        "Al Jazeera",
        "Al-Jazeera",
        "BBC",
        "CNN",
        "Washington Post",
        "New York Times",
        "Vedomosti",
        "SouthFront",
        "South Front",
        "al-Ahed",
        "al-Ahed News",
        "Anna News",
        "Anna News Agency",
        "Sham FM",
        "Al Arabiya",
        "Sky News",
        "Global Research",
        "رويترز",
        "فرانس برس",
        "الجزيرة",
        "العربية",
        "المصدر نيوز",
    ],
    "unnamed_vague": [
        "sources",
        "reports",
        "observers",
        "local sources",
        "pro-government sources",
        "pro-militant sources",
        "opposition sources",
        "media reports",
        "recent reports",
        "many observers",
        "others",
        "some",
        "مصادر",
        "تقارير",
        "مراقبون",
        "مصادر محلية",
        "مصادر معارضة",
        "ناشطون",
    ],
}

DEFAULT_REGISTRY: dict[str, str] = {
    normalise_source(name): kind for kind, names in _RAW_REGISTRY.items() for name in names
}

# Registry names that describe rather than name a source (source_named = no).
DESCRIPTIONS = {
    normalise_source(name)
    for name in (
        "Syrian state media",
        "state media",
        "Syrian state TV",
        "Syrian TV",
        "military source",
        "Syrian military source",
        "rebels",
        "militants",
        "militant group",
        "jihadists",
        "Turkish officials",
        "US officials",
        "U.S. officials",
        "Israeli officials",
        "Iranian officials",
        "Syrian officials",
        "Russian military",
        "Turkish military",
        "US military",
        "Israeli military",
        "Syrian military",
        "الإعلام الرسمي السوري",
        "الإعلام الرسمي",
        "مصدر عسكري",
        "المسلحين",
        "المسلحون",
        "الجماعات المسلحة",
        "الفصائل المسلحة",
    )
} | {k for k, v in DEFAULT_REGISTRY.items() if v == "unnamed_vague"}

DOMESTIC = {"syrian", "syria", "damascus", "سوري", "سوريه", "دمشق"}
FOREIGN = {
    "russian",
    "russia",
    "turkish",
    "turkey",
    "us",
    "u",
    "american",
    "israeli",
    "israel",
    "iranian",
    "iran",
    "iraqi",
    "japan",
    "japanese",
    "french",
    "british",
    "saudi",
    "uae",
    "jordanian",
    "lebanese",
    "qatari",
    "german",
    "chinese",
    "روسي",
    "روسيه",
    "تركي",
    "تركيه",
    "امريكي",
    "امريكيه",
    "اسرائيلي",
    "ايراني",
    "عراقي",
}
_ROLE_TYPES: list[tuple[str, set[str]]] = [
    (
        "unnamed_vague",
        {"sources", "reports", "observers", "activists", "مصادر", "تقارير", "مراقبون", "ناشطون"},
    ),
    (
        "expert",
        {
            "researcher",
            "analyst",
            "expert",
            "professor",
            "scholar",
            "academic",
            "institute",
            "باحث",
            "محلل",
            "خبير",
        },
    ),
    (
        "witness_local",
        {
            "resident",
            "residents",
            "eyewitness",
            "eyewitnesses",
            "witness",
            "witnesses",
            "locals",
            "villagers",
            "source",
            "شاهد",
            "اهالي",
            "سكان",
        },
    ),
    (
        "individual",
        {
            "prince",
            "princess",
            "sheikh",
            "cleric",
            "preacher",
            "blogger",
            "businessman",
            "celebrity",
            "activist",
        },
    ),
    ("document", {"agreement", "treaty", "memorandum", "resolution", "اتفاق", "اتفاقيه"}),
    ("social_media", {"account", "channel", "twitter", "telegram", "حساب", "قناه"}),
]
_OFFICIAL = {
    "ministry",
    "minister",
    "spokesman",
    "spokesperson",
    "official",
    "officials",
    "government",
    "president",
    "presidency",
    "command",
    "army",
    "military",
    "forces",
    "officer",
    "commander",
    "soldier",
    "soldiers",
    "general",
    "side",
    "embassy",
    "ambassador",
    "governor",
    "authorities",
    "وزاره",
    "وزير",
    "متحدث",
    "مسؤول",
    "حكومه",
    "رئيس",
    "قياده",
    "جيش",
    "قوات",
    "ضابط",
    "قائد",
    "جندي",
    "مصدر",
}
_MEDIA = {
    "agency",
    "newspaper",
    "tv",
    "television",
    "channel",
    "radio",
    "outlet",
    "media",
    "website",
    "daily",
    "news",
    "وكاله",
    "صحيفه",
    "تلفزيون",
    "اذاعه",
    "موقع",
    "اعلام",
}
_STATE_ADJ = {"state", "official", "government", "رسمي", "رسميه"}
_HEAD_STOP = {
    "of",
    "from",
    "with",
    "which",
    "who",
    "whose",
    "affiliated",
    "in",
    "near",
    "on",
    "at",
    "based",
    "stationed",
    "close",
    "whom",
    "that",
}
_ANON_ROLES = {
    "source",
    "sources",
    "commander",
    "soldier",
    "officer",
    "fighter",
    "resident",
    "witness",
    "activist",
    "observers",
    "reports",
    "مصدر",
    "مصادر",
    "ضابط",
    "جندي",
}
_PRONOUNS = {"he", "she", "him", "her", "هو", "هي"}
_INDEFINITE = {"a", "an", "some", "one", "several", "many", "local", "other", "others"}
_CAP_NAME = re.compile(r"\b[A-Z][a-z]+(?:[- ][A-Z][a-z]+)*")
_NATIONALITY_ONLY = {
    "Syrian",
    "Russian",
    "Turkish",
    "American",
    "Israeli",
    "Iranian",
    "Iraqi",
    "Saudi",
    "Arab",
    "Army",
    "Air",
    "Force",
    "Forces",
    "Defense",
    "Defence",
    "Ministry",
    "Command",
    "General",
    "High",
    "Military",
    "The",
    "A",
    "An",
    "He",
    "She",
    "My",
    "Our",
    "Its",
    "Their",
    "Japan",
}

_HEAD_CUT = re.compile(r"\s(?:of|from|with|which|who|whose|in|near|on|at|based|stationed)\s")
_ARABIC = re.compile(r"[\u0600-\u06ff]")

_compiled: dict[int, tuple[Mapping[str, str], int, dict[str, str]]] = {}


def _normalised_registry(registry: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's registry with normalised keys, cached per mapping object.

    A registry is treated as a value: pass a new mapping after editing one.
    """
    if not registry:
        return {}
    hit = _compiled.get(id(registry))
    if hit is not None and hit[0] is registry and hit[1] == len(registry):
        return hit[2]
    table = {normalise_source(k): v for k, v in registry.items()}
    if len(_compiled) > 32:
        _compiled.clear()
    _compiled[id(registry)] = (registry, len(registry), table)
    return table


def _lookup(words: list[str], tables: tuple[dict[str, str], ...]) -> str | None:
    for size in range(len(words), 0, -1):
        for i in range(len(words) - size + 1):
            key = " ".join(words[i : i + size])
            for table in tables:
                kind = table.get(key)
                if kind is not None:
                    return kind
    return None


def is_known_source(name: str, registry: Mapping[str, str] | None = None) -> bool:
    """Is the whole phrase a registry name (not just containing one)?"""
    key = normalise_source(name)
    return key in DEFAULT_REGISTRY or key in _normalised_registry(registry)


def classify_source(source: str, registry: Mapping[str, str] | None = None) -> tuple[str, float]:
    """`(source_type, confidence)` for a source phrase as it appears in a unit."""
    if not registry:
        return _classify_default(source)
    return _classify(source, registry)


@lru_cache(maxsize=8192)
def _classify_default(source: str) -> tuple[str, float]:
    return _classify(source, None)


def _classify(source: str, registry: Mapping[str, str] | None) -> tuple[str, float]:
    kind, conf = _classify_once(source, registry)
    folded = fold_arabic(source)
    if kind == "unknown" and folded.startswith("ل") and not folded.startswith("ال"):
        # a span after a dropped preposition li- keeps the article's lam: لمرصد = المرصد
        return _classify_once("ا" + folded, registry)
    return kind, conf


def _classify_once(source: str, registry: Mapping[str, str] | None) -> tuple[str, float]:
    words = normalise_source(source).split()
    if not words:
        return "unknown", 0.2
    tables = (_normalised_registry(registry), DEFAULT_REGISTRY)
    cut = next((i for i, w in enumerate(words) if w in _HEAD_STOP and i > 0), len(words))
    head, rest = words[:cut], words[cut:]
    kind = _lookup(head, tables)
    if kind is not None:
        return kind, 0.85
    role = _role_type(head, words)
    if role is not None:
        return role, 0.6
    kind = _lookup(rest, tables) if rest and rest[0] == "of" else None
    if kind is not None:
        return kind, 0.6
    role = _role_type(words)
    if role is not None:
        return role, 0.45
    return "unknown", 0.3


def _role_type(words: list[str], context: list[str] | None = None) -> str | None:
    wordset = set(words)
    if wordset & _MEDIA:
        if context and set(context) & _STATE_ADJ:
            return "state_media"
        return "state_media" if wordset & _STATE_ADJ else "other_media"
    if wordset & _OFFICIAL:
        if wordset & FOREIGN:
            return "official_foreign"
        return "official_domestic"
    for kind, nouns in _ROLE_TYPES:
        if wordset & nouns:
            if kind == "witness_local" and "military" in wordset:
                return "official_domestic"
            return kind
    return None


def source_is_named(source: str, registry: Mapping[str, str] | None = None) -> tuple[str, float]:
    """`("yes"|"no", confidence)`: does the source resolve to a named person or body?"""
    if not registry:
        return _named_default(source)
    return _named(source, registry)


@lru_cache(maxsize=8192)
def _named_default(source: str) -> tuple[str, float]:
    return _named(source, None)


def _named(source: str, registry: Mapping[str, str] | None) -> tuple[str, float]:
    words = normalise_source(source).split()
    raw_first = source.split()[0].lower() if source.split() else ""
    if not words:
        return "no", 0.3
    anonymous = raw_first in _INDEFINITE or (
        set(words) & _ANON_ROLES and raw_first not in _PRONOUNS
    )
    if anonymous and not any(w not in _NATIONALITY_ONLY for w in _CAP_NAME.findall(source)):
        return "no", 0.7
    if raw_first in _PRONOUNS:
        return "yes", 0.6
    # the head before a preposition/relative, plus any apposition after a comma
    head = _HEAD_CUT.split(source, maxsplit=1)[0]
    if "," in source:
        head += " " + source.split(",", 1)[1]
    if any(name not in _NATIONALITY_ONLY for name in _CAP_NAME.findall(head)):
        return "yes", 0.75
    tables = (_normalised_registry(registry), DEFAULT_REGISTRY)
    key = " ".join(words)
    if key in DESCRIPTIONS:
        return "no", 0.7
    kind = _lookup(words, tables)
    if kind is not None and kind != "unnamed_vague" and not _ARABIC.search(source):
        return "yes", 0.7
    if kind is not None and kind != "unnamed_vague":
        return ("no", 0.55) if key in DESCRIPTIONS else ("yes", 0.6)
    if raw_first == "the":
        return "yes", 0.45
    return "no", 0.5
