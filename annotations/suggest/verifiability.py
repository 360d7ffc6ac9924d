"""Rule baseline for label family B (verifiability), English and Arabic.

`suggest_verifiability(text, language)` follows the decision order of
label-schema.md:

1. no truth-evaluable proposition (questions, very short labels, "Related
   News", datelines and bylines, slogans, exhortations and imperatives)
   → ``rhetoric_nonclaim``;
2. future, modal or conditional outcome (will, would, could, is expected to,
   plans to, vowed to, سوف, the سـ prefix, سيتم) with no evaluative predicate
   → ``prediction``;
3. evaluative adjectives or normative predicates (dangerous, shameful, should,
   must, criminal, it is clear that, يجب، خطير …) → ``opinion``;
4. otherwise → ``checkable_fact`` (dated events, numbers, past-tense event
   verbs raise the confidence).

It also guesses `claim_types` (for checkable facts only), whether the unit
reports a speech act (`speech_act_checkable`) and loaded naming
(`loaded_language`, `loaded_span`). The per-project classifier in
:mod:`.classifier` replaces the verifiability label once a project has enough
labels; the other extras stay rule-based.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import lexicon as lx
from .text import ar_alternation, fold_arabic, inside, quote_regions, words_re

LABELS = ("checkable_fact", "opinion", "prediction", "rhetoric_nonclaim")

# --- English ------------------------------------------------------------------
_EN_BOILERPLATE = re.compile(
    r"^(?:related(?:\s+(?:news|videos?|articles?|posts?))?|also\s+read\b.*|read\s+more\b.*|"
    r"more\s+on\s+the\s+topic:?|source|notes?|click\b.*|share\b.*|forward\s+this\b.*|"
    r"crosspost\b.*|note\s+to\s+readers\b.*|please\b.*|subscribe\b.*|follow\s+us\b.*|"
    r"%d\s+bloggers\s+like\s+this:?|by\s+[A-Z].*|interviewed\s+by\b.*|[*•]+|etc\.?|"
    r"update:?|map\s+update:?)$",
    re.I | re.S,
)
_EN_IMPERATIVE = re.compile(
    r"^(?:Don[’']t|Do\s+not|Let[’']s|Let\s+us|Please|Click|Forward|Share|Read|Watch|See|"
    r"Imagine|Remember|Look|Crosspost|Subscribe|Join|Stop|Never\s+forget)\b"
)
_EN_POINTER = re.compile(r"^(?:This\s+is\s+(?:what|how)|Here\s+(?:is|are))\b")
_EN_DATE_ONLY = re.compile(
    r"^[\s\W]*(?:(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4})|(?:[A-Z][a-z]+\s+\d{1,2}(?:st|nd|rd|th)?,?"
    r"\s+\d{4})|(?:\d{1,2}\s+[A-Z][a-z]+,?\s+\d{4}))[\s\W]*$"
)
_EN_AUX = {
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "will",
    "would",
    "can",
    "could",
    "may",
    "might",
    "must",
    "should",
    "shall",
    "do",
    "does",
    "did",
    "won",
    "isn’t",
    "wasn’t",
    "won’t",
    "can’t",
    "don’t",
}
_EN_HEADLINE_VERBS = {
    "launch",
    "launches",
    "resumes",
    "resume",
    "repels",
    "vows",
    "get",
    "gets",
    "got",
    "give",
    "gives",
    "make",
    "makes",
    "takes",
    "blames",
    "seeks",
    "cuts",
    "wants",
    "says",
    "announces",
    "claims",
    "denies",
    "captures",
    "liberates",
    "kills",
    "attacks",
    "strikes",
    "hits",
    "shells",
    "seizes",
    "advances",
    "retreats",
    "withdraws",
    "fled",
    "helps",
    "threatens",
    "warns",
    "rejects",
    "calls",
    "means",
    "falls",
    "fall",
    "win",
    "wins",
    "begins",
    "ends",
    "enters",
    "reaches",
    "destroys",
    "downs",
    "shoots",
    "targets",
    "leaves",
    "reveals",
    "admits",
    "accuses",
    "confirms",
    "reports",
    "prepares",
    "plans",
    "expects",
    "fails",
    "continues",
}
_HAS_LETTER = re.compile(r"[A-Za-z]")
_EN_WORD = re.compile(r"[A-Za-z’'-]+")
_SUBORDINATOR = re.compile(  # matched against _lower(text)
    r"\b(?:while|although|though|if|whether|unless|which|who|that|when|because|since|once|"
    r"whereas)\b"
)
_COMPLEMENT_TAKERS = (lx.EN_SAY | lx.EN_OBJ | lx.EN_TELL | lx.EN_PARTICIPLES) - {"continued"} | {
    "likely",
    "unlikely",
    "clear",
    "sure",
    "certain",
    "expected",
    "possible",
    "probable",
    "believe",
    "think",
    "hope",
    "fear",
    "fears",
    "feared",
    "warning",
    "promise",
    "vowed",
}


def _lex(words: str | set[str], *phrases: Iterable[str], flags: int = re.I) -> re.Pattern[str]:
    """Whole-word matcher for a word list (space-separated string) plus phrase lists.

    Case-insensitive lists are compiled in lower case *without* ``re.I`` and must be
    matched against :func:`_lower` of the text: Python's engine is several times
    slower with ``re.I``, and lowering once per unit is cheap.
    """
    items = set(words.split()) if isinstance(words, str) else set(words)
    for group in phrases:
        items.update(group)
    if flags & re.I:
        items = {w.lower() for w in items}
        flags &= ~re.I
    return re.compile(r"\b" + words_re(items) + r"\b", flags)


_ANY_DIGIT = re.compile(r"\d")
_HAS_QUOTE = re.compile('[“"‘]')


def _lower(text: str) -> str:
    """``text.lower()`` with the same length, so offsets carry over to ``text``."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_EN_FUTURE = _lex(
    "will won’t won't shall would could might may soon",
    tuple(f"{c} going to" for c in ("is", "are", "was", "were", "am")),
    tuple(f"{c} about to" for c in ("is", "are")),
    tuple(f"{c} expected to" for c in ("is", "are", "was", "were")),
    tuple(
        f"{v} to"
        for v in (
            "plan",
            "plans",
            "planning",
            "planned",
            "vow",
            "vows",
            "vowed",
            "pledge",
            "pledges",
            "pledged",
            "promise",
            "promises",
            "promised",
            "intend",
            "intends",
            "likely",
        )
    ),
    ("is set to", "are set to", "in the near future", "in the next"),
    flags=0,
)
_EN_NARRATIVE_WOULD = re.compile(r"\bwould\s+(?:later|go\s+on\s+to|soon\s+become)\b")
_EN_EVALUATIVE = _lex(
    "dangerous shameful disgraceful criminal outrageous absurd ridiculous pathetic miserable "
    "embarrass* brave heroic cowardly desperate crazy insolent dubious debacle liar liars "
    "propaganda propagandist propagandists puppet puppets disast* futile useless* tragic tragedy "
    "terrible horrible evil hypocri* illegitimate illegal unacceptable inevitable obvious "
    "obviously should must important surely indisputable screed craftily apologist apologists "
    "untouchable remarkable mastermind fuming rebellious nonsense shameless* barbaric savage "
    "heinous atrocious honorable honourable noble wise foolish stupid reckless arrogant blatant "
    "blatantly patience dwindling catastroph*",
    (
        "no coincidence",
        "no point",
        "waste of time",
        "best interest",
        "good idea",
        "bad idea",
        "ought to",
        "need to",
        "needs to",
        "it’s time",
        "it's time",
        "it is time",
        "time for",
        "gut feeling",
        "needless to say",
        "nothing but",
        "the reality is",
        "in my opinion",
        "in my view",
        "make me",
        "makes me",
        "it is clear",
        "open secret",
        "a sin",
        "mentally unstable",
        "failed policy",
        "failed strategy",
        "failed campaign",
        "failed us",
        "proving that",
        "great tragedy",
        "whole other thing",
    ),
    tuple(
        f"{p} {v}" for p in ("i", "we") for v in ("believe", "think", "consider", "hope", "doubt")
    ),
)
_EN_EVENT_VERB = _lex(
    "killed wounded injured struck launched captured liberated seized shelled attacked bombed "
    "bombarded withdrew withdrawn fled surrounded destroyed intercepted assassinated expelled "
    "established deployed sent entered encircled repelled clashed advanced overran overrun "
    "targeted hit recovered defused dismantled uncovered discovered arrested executed declared "
    "announced signed opened closed blocked conducted crossed retreated collapsed fell began "
    "reached secured cleared abandoned split appointed merged released issued lost won besieged "
    "stormed ambushed downed damaged",
    ("shot down", "cut off", "took control", "carried out", "broke out", "kicked off"),
)
_MONTHS = "January February March April May June July August September October November December"
_EN_DATE = re.compile(
    r"\b(?:"
    + words_re(_MONTHS.split())
    + r"\s+\d{1,2}|\d{1,2}\s+"
    + words_re(_MONTHS.split())
    + r"|on\s+"
    + words_re(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    + r"|(?:19|20)\d\d|yesterday|last\s+(?:night|week|month))\b"
)
_EN_DIGITS = re.compile(r"\d(?:[\d,. ]*\d)?(?:\s+(?:000|thousand|hundred|million))?")
_EN_NUMBER_WORD = _lex(
    "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "dozens hundreds thousands millions",
    ("several hundred",),
)
_EN_COUNT_NOUN = re.compile(  # matched against _lower(text)
    r"\W{0,3}(?:[\w’'-]+\s+){0,3}?\b"
    + words_re(
        [
            "killed",
            "dead",
            "deaths",
            "injured",
            "wounded",
            "soldiers",
            "civilians",
            "fighters",
            "people",
            "members",
            "men",
            "militants",
            "troops",
            "terrorists",
            "tanks",
            "drones",
            "missiles",
            "rockets",
            "vehicles",
            "km",
            "kilometers",
            "kilometres",
            "miles",
            "dollars",
            "percent",
            "schools",
            "centers",
            "centres",
            "towns",
            "villages",
            "airstrikes",
            "strikes",
            "attacks",
            "times",
            "pieces",
            "refugees",
            "families",
            "courses",
            "stations",
            "projects",
            "prisoners",
            "casualties",
            "shells",
            "aircraft",
            "jets",
            "warplanes",
            "square",
        ]
    )
    + r"\b",
)
_EN_CAUSAL = _lex(
    "caused causing because responsib* behind blamed helped",
    (
        "as a result of",
        "led to",
        "due to",
        "carried out",
        "in response to",
        "aimed at",
        "aimed against",
        "paved the way",
    ),
    tuple(
        f"{v} by"
        for v in ("killed", "launched", "conducted", "struck", "hit", "targeted", "shelled")
    ),
)
_EN_LAW = _lex(
    "agreement ceasefire cease-fire treaty deal accord memorandum stipulat* resolution truce "
    "sanctions",
    ("de-escalation zone",),
)
_EN_IDENTITY = _lex(
    "formerly appointed spokesman spokesperson citizen affiliate",
    tuple(
        f"{c} {d}"
        for c in ("is", "was", "are", "were")
        for d in ("a", "an", "the", "one of", "only")
    ),
    ("known as", "leader of", "based in"),
)
_EN_SPEECH = _lex(
    (lx.EN_SAY | lx.EN_OBJ | lx.EN_VOW | lx.EN_TELL | lx.EN_PARTICIPLES)
    - {"continued", "believed", "believes", "thinks", "estimated"},
    (
        "according to",
        "demand",
        "demands",
        "demanded",
        "demanding",
        "threaten",
        "threatens",
        "threatening",
        "accuses",
        "accusing",
    ),
    flags=0,
)
_EN_LOADED = _lex(
    "terrorist terrorists terrorism terror liberat* regime regimes occupation "
    "occupied occupying occupier occupiers so-called militia militias takfiri* propagandist "
    "propagandists vassal vassals puppet puppets mercenary mercenaries thug thugs invader "
    "invaders crusader crusaders apostate apostates kuffar kuffars murtadeen murtadeens",
    ("so called",),
)
_EN_SCARE_QUOTE = re.compile(
    r"(?:so[- ]called\s+[“\"‘](?P<q>[\w -]{1,30})[”\"’]|(?:the|new|its|their|our)\s+[“\"‘]"
    r"(?P<q2>[a-z][\w -]{1,30})[”\"’](?=\s+[a-z]))"
)

# --- Arabic -------------------------------------------------------------------
_AR_BOILERPLATE = re.compile(
    r"^(?:(?:فيديوات?|فيديوهات|مقالات|مواضيع|أخبار)\s+(?:متعلقة|ذات\s+صلة)|اقرأ\s+أيضا\S*|"
    r"المصدر|شاهد\s+.*|مقالات\s+ذات\s+صلة)$"
)
_AR_MONTHS = ar_alternation(
    [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "ابريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "اغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
        "كانون",
        "شباط",
        "آذار",
        "نيسان",
        "أيار",
        "حزيران",
        "تموز",
        "آب",
        "أيلول",
        "تشرين",
    ]
)
_AR_DATE_ONLY = re.compile(rf"^[\s\W\d]*{_AR_MONTHS}[\s\W\d]*$")
_AR_FUTURE_WORDS = ar_alternation(
    {
        "سوف",
        "سيتم",
        "ستتم",
        "سيكون",
        "ستكون",
        "مرتقب",
        "مرتقبة",
        "المرتقبة",
        "قريبا",
        "يستعد",
        "تستعد",
        "المقبل",
        "المقبلة",
        "القادم",
        "القادمة",
    }
)
_AR_FUTURE = re.compile(rf"(?<![\w\u064b-\u0652\u0670\u0640]){_AR_FUTURE_WORDS}(?![\w])")
_AR_FUT_PREFIX = re.compile(r"(?<![\w\u064b-\u0652\u0670\u0640])[وفل]?س[يتنأ][\u0621-\u064a]{2,}")
_AR_NOT_FUTURE = re.compile(
    r"^[وفل]?(?:سياس|سيطر|سياد|سيار|سياق|سيد|ستة|ستين|سينا|ستار|سير|سيف|سيل|ستر|سنه|سنوات|سنين|سني)"
)
_AR_EVALUATIVE = re.compile(
    r"(?<![\w\u064b-\u0652\u0670\u0640])[وفبل]?(?:ال)?(?:"
    + "|".join(
        [
            ar_alternation(
                [
                    "يجب",
                    "ينبغي",
                    "لابد",
                    "الأفضل",
                    "أفضل",
                    "الأهم",
                    "أهم",
                    "أهمية",
                    "عظيم",
                    "العظيم",
                    "حاسم",
                    "حاسمة",
                    "الحاسمة",
                    "الحقيقة",
                    "حقائق",
                    "الحقائق",
                    "أوهام",
                    "الأوهام",
                    "مزيف",
                    "مزيفا",
                    "مزيفة",
                    "عاريا",
                    "واضح",
                    "واضحا",
                    "وضوحا",
                    "خطير",
                    "خطيرة",
                    "مخز",
                    "مخزي",
                    "جريمة",
                    "إجرامي",
                    "فشل",
                    "هزيمة",
                    "بطولي",
                    "شجاع",
                    "المصيري",
                    "المصيرية",
                    "أصعب",
                    "جدية",
                    "قاسية",
                    "شريان",
                    "شريانا",
                    "حيويا",
                    "حيوي",
                    "العقلاني",
                    "الفاصلة",
                    "يكشف",
                    "سيكشف",
                    "يعني",
                    "معادلة",
                    "رسالة",
                    "مفاعيل",
                    "دلالة",
                    "دلالات",
                ]
            ),
            r"لا\s+بد",
            r"من\s+الواضح",
            r"خط\s+أحمر",
            r"الخط\s+الأحمر",
        ]
    )
    + r")(?![\w])"
)
_AR_EVENT = re.compile(
    r"(?<![\w\u064b-\u0652\u0670\u0640])[وف]?(?:"
    + ar_alternation(
        [
            "قتل",
            "قتلت",
            "استهدف",
            "استهدفت",
            "سيطر",
            "سيطرت",
            "تقدم",
            "تقدمت",
            "قصف",
            "قصفت",
            "دمر",
            "دمرت",
            "أسقط",
            "أسقطت",
            "هاجم",
            "هاجمت",
            "اغتيل",
            "انسحب",
            "انسحبت",
            "حرر",
            "حررت",
            "دخل",
            "دخلت",
            "أعلن",
            "أعلنت",
            "وقع",
            "وقعت",
            "اعتقل",
            "اعتقلت",
            "أطلق",
            "أطلقت",
            "شن",
            "شنت",
        ]
    )
    + r")(?![\w])"
)
_AR_NUMBER = re.compile(
    r"\d+|"
    + ar_alternation(
        [
            "اثنين",
            "اثنان",
            "ثلاثة",
            "أربعة",
            "خمسة",
            "ستة",
            "سبعة",
            "ثمانية",
            "تسعة",
            "عشرة",
            "عشرات",
            "مئات",
            "آلاف",
            "الآلاف",
            "ملايين",
            "مئة",
            "ألف",
        ]
    )
)
_AR_LOADED = re.compile(
    r"(?<![\w\u064b-\u0652\u0670\u0640])[وفبل]?(?:ال|لل)?(?:"
    + ar_alternation(
        [
            "إرهاب",
            "إرهابي",
            "إرهابية",
            "إرهابيين",
            "إرهابيون",
            "الإرهابيين",
            "إرهابيا",
            "تحرير",
            "تحريرها",
            "تحريره",
            "تحرر",
            "تحررت",
            "محرر",
            "المحررة",
            "نظام",
            "احتلال",
            "المحتل",
            "الاحتلالي",
            "ميليشيا",
            "ميليشيات",
            "مليشيات",
            "تكفيري",
            "تكفيريين",
            "التكفيرية",
            "مرتزقة",
            "عصابات",
            "المزعوم",
            "المزعومة",
        ]
    )
    + r")(?![\w])"
)
_AR_TAHRIR_NAME = re.compile(r"تحرير\s+الشام")
_AR_NAMING = re.compile(
    "|".join(r"\s+".join(ar_alternation([w]) for w in phrase.split()) for phrase in lx.AR_NAMING)
)
_AR_SPEECH = re.compile(
    r"(?<![\w\u064b-\u0652\u0670\u0640])[وف]?(?:"
    + ar_alternation(set(lx.AR_VERBS) | {"حسب", "بحسب"})
    + r")"
    r"(?:ه|ها|هم)?(?![\w])"
)
_AR_TERMINAL = re.compile(r"[.!؟?:]\s*$")


# a finite-looking verb: auxiliary, headline verb, "-ed" form or a negated auxiliary
_EN_VERBISH = re.compile(  # matched against _lower(text)
    r"\b(?:" + words_re(_EN_AUX | _EN_HEADLINE_VERBS) + r")\b|\b[a-z’'-]{3,}ed\b|n[’']t\b"
)


def _is_verbish(word: str) -> bool:
    w = word.lower()
    return (
        w in _EN_AUX
        or w in _EN_HEADLINE_VERBS
        or (len(w) > 4 and w.endswith("ed"))
        or w.endswith("n’t")
        or w.endswith("n't")
    )


def _main_clause_hits(
    text: str, low: str, pattern: re.Pattern[str], found: list[re.Match[str]] | None = None
) -> list[re.Match[str]]:
    """Matches of ``pattern`` in ``text`` not inside a subordinate clause (a rough,
    comma-delimited check; ``low`` is :func:`_lower` of the text). ``found``: all the
    matches of ``pattern`` in ``text`` when the caller has them already.

    A that-clause under a reporting or epistemic predicate ("declared that",
    "it is unlikely that") carries the content proposition, so it counts as main.
    """
    hits = []
    for m in pattern.finditer(text) if found is None else found:
        lo = max(0, m.start() - 120)
        cut = max(low.rfind(d, lo, m.start()) for d in ",;:–")
        subs = list(_SUBORDINATOR.finditer(low, max(lo, cut + 1), m.start()))
        if subs:
            last = subs[-1]
            if last.group() != "that":
                continue
            prev = low[max(0, last.start() - 40) : last.start()].split()
            if not prev or prev[-1].strip(",") not in _COMPLEMENT_TAKERS:
                continue
        hits.append(m)
    return hits


def _loaded(text: str, arabic: bool, low: str | None = None) -> tuple[bool, list[int] | None]:
    if low is None:
        low = text if arabic else _lower(text)
    if arabic:
        for m in _AR_LOADED.finditer(text):
            if "تحرير" in fold_arabic(m.group()) and _AR_TAHRIR_NAME.match(text, m.end() - 5):
                continue
            return True, [m.start() + _clitic_len(m.group()), m.end()]
        naming = _AR_NAMING.search(text)
        if naming:
            return True, [naming.start(), naming.end()]
        return False, None
    loaded = _EN_LOADED.search(low)
    # every scare-quote form holds a quotation mark: skip the scan without one
    q = _EN_SCARE_QUOTE.search(text) if _HAS_QUOTE.search(text) else None
    if q:
        g = "q" if q.group("q") else "q2"
        if loaded is None or q.start(g) < loaded.start():
            return True, [q.start(g) - 1, q.end(g) + 1]
    if loaded:
        return True, [loaded.start(), loaded.end()]
    return False, None


def _clitic_len(word: str) -> int:
    f = fold_arabic(word)
    if f[:1] in "وفبل" and f[1:3] in ("ال", "لل"):
        return 1
    return 0


def _claim_types_en(text: str, low: str | None = None, event: bool | None = None) -> list[str]:
    """``low``: :func:`_lower` of the text; ``event``: whether an event verb or a date
    occurs (both computed here when not given)."""
    if low is None:
        low = _lower(text)
    if event is None:
        event = bool(_EN_EVENT_VERB.search(low) or _en_date(text))
    types = []
    if event:
        types.append("event")
    for m in _EN_DIGITS.finditer(text):
        before = text[m.start() - 1 : m.start()] if m.start() else ""
        after = text[m.end() : m.end() + 1]
        if before.isalnum() or before in ".-" or after.isalnum() or after == "-":
            continue  # part of a word, a calibre (122mm) or an age (10-year)
        if re.fullmatch(r"(?:19|20)\d\d", m.group().strip()):
            continue
        if _EN_COUNT_NOUN.match(low, m.end()):
            types.append("numerical")
            break
    else:
        for m in _EN_NUMBER_WORD.finditer(low):
            if _EN_COUNT_NOUN.match(low, m.end()):
                types.append("numerical")
                break
    if _EN_CAUSAL.search(low):
        types.append("causal_responsibility")
    if _EN_LAW.search(low):
        types.append("law_rule")
    if _EN_IDENTITY.search(low) and "event" not in types:
        types.append("attribute_identity")
    return types or ["event"]


def _claim_types_ar(text: str) -> list[str]:
    types = ["event"] if _AR_EVENT.search(text) else []
    if any(not re.fullmatch(r"(?:19|20)\d\d", m.group()) for m in _AR_NUMBER.finditer(text)):
        types.append("numerical")
    return types or ["event"]


def suggest_verifiability(text: str, language: str) -> tuple[str, float, dict[str, Any]]:
    """`(label, confidence, extras)` for one unit; extras carries `claim_types`
    (only for checkable_fact), `speech_act_checkable`, `loaded_language`,
    `loaded_span` (or None) and the `rule` that decided."""
    arabic = language.lower().startswith("ar")
    stripped = text.strip()
    event: bool | None = None
    low: str | None = None
    if arabic:
        label, conf, rule = _decide_ar(stripped)
    else:
        low_stripped = _lower(stripped)
        if stripped is text:  # nothing stripped (units never carry outer spaces): share it
            low = low_stripped
        label, conf, rule, event = _decide_en(stripped, low_stripped)
        if stripped is not text:
            event = None  # the signals were read on the stripped text; recompute on text
    loaded, loaded_span = _loaded(text, arabic, low)
    quotes = quote_regions(text)
    speech_re = _AR_SPEECH if arabic else _EN_SPEECH
    speech = any(not inside(m.start(), quotes) for m in speech_re.finditer(text))
    extras: dict[str, Any] = {
        "speech_act_checkable": speech,
        "loaded_language": loaded,
        "loaded_span": loaded_span,
        "rule": rule,
    }
    if label == "checkable_fact":
        if arabic:
            extras["claim_types"] = _claim_types_ar(text)
        else:
            extras["claim_types"] = _claim_types_en(text, low, event)
    return label, conf, extras


def _en_date(text: str) -> bool:
    """``_EN_DATE.search(text)``, skipped when the text cannot hold a date: every branch
    needs a digit, "day" (weekdays, yesterday) or "last"."""
    if _ANY_DIGIT.search(text) is None and "day" not in text and "last" not in text:
        return False
    return _EN_DATE.search(text) is not None


def _decide_en(text: str, low: str) -> tuple[str, float, str, bool | None]:
    """Label, confidence, rule, and (for checkable facts) whether an event verb or a date
    occurs, for :func:`_claim_types_en`."""
    if not _HAS_LETTER.search(text):
        return "rhetoric_nonclaim", 0.9, "no_words", None
    if text.endswith("?") or text.endswith("?”") or text.endswith('?"'):
        return "rhetoric_nonclaim", 0.85, "question", None
    if _EN_BOILERPLATE.match(text) or _EN_DATE_ONLY.match(text):
        return "rhetoric_nonclaim", 0.9, "boilerplate", None
    if _EN_IMPERATIVE.match(text) or _EN_POINTER.match(text):
        return "rhetoric_nonclaim", 0.75, "imperative", None
    if not _EN_VERBISH.search(low):
        terminal = text[-1] in '.!”"' or text.endswith(".)")
        if len(text.split()) <= 4 or not terminal:
            return "rhetoric_nonclaim", 0.7, "no_verb", None
    found = list(_EN_EVALUATIVE.finditer(low))
    evaluative = _main_clause_hits(low, low, _EN_EVALUATIVE, found) if found else []
    future = [
        m
        for m in _main_clause_hits(text, low, _EN_FUTURE)
        if not _EN_NARRATIVE_WOULD.match(text, m.start())
    ]
    if future and not evaluative:
        return "prediction", 0.7, "future", None
    if evaluative or found:  # found: an evaluative word, if only in a subordinate clause
        return "opinion", 0.7 if evaluative else 0.55, "evaluative", None
    event_verb = _EN_EVENT_VERB.search(low) is not None
    date = _en_date(text)
    signals = event_verb + date + bool(_EN_DIGITS.search(text) or _EN_NUMBER_WORD.search(low))
    return "checkable_fact", min(0.85, 0.55 + 0.1 * signals), "default", event_verb or date


def _decide_ar(text: str) -> tuple[str, float, str]:
    words = text.split()
    if not words:
        return "rhetoric_nonclaim", 0.9, "no_words"
    body = text.strip(" –-")
    if body.endswith("؟") or body.endswith("?"):
        return "rhetoric_nonclaim", 0.85, "question"
    if _AR_BOILERPLATE.match(body) or _AR_DATE_ONLY.match(body):
        return "rhetoric_nonclaim", 0.9, "boilerplate"
    if len(words) <= 5 and not _AR_TERMINAL.search(text):
        return "rhetoric_nonclaim", 0.7, "short_label"
    evaluative = _AR_EVALUATIVE.search(text)
    future = _AR_FUTURE.search(text) or any(
        not _AR_NOT_FUTURE.match(fold_arabic(m.group())) for m in _AR_FUT_PREFIX.finditer(text)
    )
    if future and not evaluative:
        return "prediction", 0.65, "future"
    if evaluative:
        return "opinion", 0.65, "evaluative"
    signals = bool(_AR_EVENT.search(text)) + bool(_AR_NUMBER.search(text))
    return "checkable_fact", min(0.8, 0.5 + 0.1 * signals), "default"
