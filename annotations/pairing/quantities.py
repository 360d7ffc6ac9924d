"""Numbers and dates mentioned in a claim, English and Arabic.

* :func:`extract_numbers` finds counts and quantities: Western digits, Arabic-Indic and
  Persian digits, thousands separators, and number words ("four", "ثلاثة"). Years,
  times of day, ordinals and designations glued to letters (M5, F-16, RPG-18) are left out,
  as are the numbers inside dates (dates have their own feature).
* :func:`extract_dates` finds dates as day intervals: "August 21", "22nd of August
  2019", "23.08.2019", "2019-08-23", "in August 2019" (the whole month), "أغسطس 24, 2019",
  "21 آب", and relative expressions resolved against the article's date when one is
  given: "on Thursday" (the latest Thursday on or before the reference), "today", "this
  morning", "yesterday", "last night", "this week", اليوم، أمس، يوم الخميس. A date without a
  year takes the reference's year (or the year before when that would put it more than a
  week after the reference); with no reference it gets the placeholder year
  :data:`YEARLESS` and ``year_known=False``, and is compared by day of year.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")

_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTHS_AR = {
    "كانون الثاني": 1, "كانون الأول": 12, "تشرين الأول": 10, "تشرين الثاني": 11,
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "ابريل": 4, "إبريل": 4, "مايو": 5,
    "يونيو": 6, "يونيه": 6, "يوليو": 7, "يوليه": 7, "أغسطس": 8, "اغسطس": 8, "سبتمبر": 9,
    "أكتوبر": 10, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12, "شباط": 2, "آذار": 3,
    "اذار": 3, "نيسان": 4, "أيار": 5, "ايار": 5, "حزيران": 6, "تموز": 7, "آب": 8, "اب": 8,
    "أيلول": 9, "ايلول": 9,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "الاثنين": 0, "الإثنين": 0, "الثلاثاء": 1, "الأربعاء": 2, "الاربعاء": 2,
    "الخميس": 3, "الجمعة": 4, "السبت": 5, "الأحد": 6, "الاحد": 6,
}  # fmt: skip
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "اثنتان": 2, "ثلاثة": 3, "ثلاث": 3,
    "أربعة": 4, "أربع": 4, "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7,
    "ثمانية": 8, "ثماني": 8, "تسعة": 9, "تسع": 9, "عشرة": 10, "عشر": 10, "عشرون": 20,
    "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "أربعون": 40, "أربعين": 40, "خمسون": 50,
    "خمسين": 50, "مئة": 100, "مائة": 100, "ألف": 1000, "ألفين": 2000,
}  # fmt: skip
_SCALE_WORDS = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "مئة": 100,
                "مائة": 100, "ألف": 1000, "آلاف": 1000, "مليون": 1_000_000}  # fmt: skip

# "one" is a pronoun more often than a count; scale words only multiply.
_TOO_COMMON = frozenset({"one", "واحد", "واحدة", "hundred", "thousand"})

_EN_MONTH_RE = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_AR_MONTH_RE = "|".join(sorted(_MONTHS_AR, key=len, reverse=True))
_MONTH_RE = rf"(?:(?i:{_EN_MONTH_RE})\.?|{_AR_MONTH_RE})"
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"

_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"\b({_YEAR})-(\d{{1,2}})-(\d{{1,2}})\b")),
    ("dmy_num", re.compile(rf"\b(\d{{1,2}})[./](\d{{1,2}})[./]({_YEAR})\b")),
    ("mdy", re.compile(rf"(?<!\w)({_MONTH_RE})\s+(\d{{1,2}}){_ORD}(?:\s*,?\s*({_YEAR}))?(?!\d)")),
    (
        "dmy",
        re.compile(
            rf"(?<![\w.])(\d{{1,2}}){_ORD}\s+(?:of\s+)?({_MONTH_RE})(?:\s*,?\s*({_YEAR}))?(?!\w)"
        ),
    ),
    ("my", re.compile(rf"(?<!\w)({_MONTH_RE})\s*,?\s+({_YEAR})\b")),
)
_WEEKDAY_RE = re.compile(
    r"(?<!\w)(?:(?i:on\s+)|يوم\s+)?(" + "|".join(_WEEKDAYS) + r")(?!\w)", re.IGNORECASE
)
_RELATIVE = (
    (re.compile(r"\b(?:today|this morning|tonight|this evening|earlier today)\b", re.I), 0, 0),
    (re.compile(r"(?<!\w)(?:اليوم|صباح اليوم|فجر اليوم|مساء اليوم)(?!\w)"), 0, 0),
    (re.compile(r"\b(?:yesterday|last night)\b", re.I), 1, 1),
    (re.compile(r"(?<!\w)(?:أمس|امس|البارحة|الليلة الماضية)(?!\w)"), 1, 1),
    (re.compile(r"\b(?:this week|last few days|past 24 hours)\b", re.I), 6, 0),
    (re.compile(r"\blast week\b", re.I), 13, 6),
)

_NUMBER_RE = re.compile(
    r"(?<![\w.,\-/:])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(?:km|mm|kilometers|kilometres|"
    r"miles|percent|%|m|k))?(?![\w\-/:]|\.\d|,\d)"
)
_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date as an inclusive interval of days, with the text it came from."""

    start: date
    end: date
    text: str
    #: False when the text gave no year and there was no reference date: the year of
    #: ``start``/``end`` is then the placeholder :data:`YEARLESS` (compare day of year).
    year_known: bool = True


def _to_ascii_digits(text: str) -> str:
    return text.translate(_DIGITS)


def _month(name: str) -> int | None:
    key = name.lower().rstrip(".")
    return _MONTHS_EN.get(key) or _MONTHS_AR.get(name)


#: Placeholder year (a leap year) for dates whose year is unknown.
YEARLESS = 2000


def _resolve_year(month: int, day: int, reference: date | None) -> date | None:
    if reference is None:
        try:
            return date(YEARLESS, month, day)
        except ValueError:
            return None
    try:
        candidate = date(reference.year, month, day)
    except ValueError:
        return None
    if candidate > reference + timedelta(days=7):
        try:
            candidate = date(reference.year - 1, month, day)
        except ValueError:
            return None
    return candidate


def _make(year: int | None, month: int | None, day: int, reference: date | None) -> date | None:
    if month is None or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if year is None:
        return _resolve_year(month, day, reference)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def extract_dates(text: str, reference: date | None = None) -> list[DateMention]:
    """Dates mentioned in ``text`` (see the module docstring), in text order."""
    work = _to_ascii_digits(text)
    found: list[tuple[int, DateMention]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    def add(span: tuple[int, int], start: date, end: date, year_known: bool = True) -> None:
        taken.append(span)
        found.append((span[0], DateMention(start, end, text[span[0] : span[1]], year_known)))

    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(work):
            if not free(m.span()):
                continue
            if kind == "iso":
                d = _make(int(m[1]), int(m[2]), int(m[3]), reference)
            elif kind == "dmy_num":
                d = _make(int(m[3]), int(m[2]), int(m[1]), reference)
            elif kind == "mdy":
                d = _make(int(m[3]) if m[3] else None, _month(m[1]), int(m[2]), reference)
            elif kind == "dmy":
                d = _make(int(m[3]) if m[3] else None, _month(m[2]), int(m[1]), reference)
            else:  # month and year: the whole month
                month, year = _month(m[1]), int(m[2])
                if month is None:
                    continue
                last = calendar.monthrange(year, month)[1]
                add(m.span(), date(year, month, 1), date(year, month, last))
                continue
            if d is not None:
                add(
                    m.span(),
                    d,
                    d,
                    year_known=reference is not None or kind in ("iso", "dmy_num") or bool(m[3]),
                )
    if reference is not None:
        for m in _WEEKDAY_RE.finditer(work):
            if not free(m.span()):
                continue
            weekday = _WEEKDAYS.get(m[1].lower(), _WEEKDAYS.get(m[1]))
            if weekday is None:
                continue
            d = reference - timedelta(days=(reference.weekday() - weekday) % 7)
            add(m.span(), d, d)
        for pattern, back_start, back_end in _RELATIVE:
            for m in pattern.finditer(work):
                if free(m.span()):
                    add(
                        m.span(),
                        reference - timedelta(days=back_start),
                        reference - timedelta(days=back_end),
                    )
    return [mention for _, mention in sorted(found, key=lambda item: item[0])]


def _date_spans(work: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for _, pattern in _DATE_PATTERNS:
        spans.extend(m.span() for m in pattern.finditer(work))
    return spans


def extract_numbers(text: str) -> list[float]:
    """Counts and quantities in ``text`` as floats, in text order (duplicates kept)."""
    work = _to_ascii_digits(text)
    blocked = _date_spans(work)
    values: list[tuple[int, float]] = []
    for m in _NUMBER_RE.finditer(work):
        if any(a <= m.start() < b for a, b in blocked):
            continue
        raw = m[1].replace(",", "")
        value = float(raw)
        if m[1].isdigit() and len(raw) == 4 and 1900 <= value <= 2100 and m.end(1) == m.end():
            continue  # a year
        end = m.end()
        scale = _WORD_RE.match(work, end + 1) if end < len(work) and work[end] == " " else None
        if scale and scale[0].lower() in _SCALE_WORDS:
            value *= _SCALE_WORDS[scale[0].lower()]
        values.append((m.start(), value))
    words = list(_WORD_RE.finditer(work))
    for i, m in enumerate(words):
        word = m[0].lower()
        stripped = word[1:] if word[:1] in ("و", "ب", "ل") and word[1:] in _NUMBER_WORDS else word
        if stripped not in _NUMBER_WORDS or stripped in _TOO_COMMON:
            continue
        value = float(_NUMBER_WORDS[stripped])
        if i + 1 < len(words) and words[i + 1].start() - m.end() <= 1:
            nxt = words[i + 1][0].lower()
            if nxt in _SCALE_WORDS:
                value *= _SCALE_WORDS[nxt]
        values.append((m.start(), value))
    return [value for _, value in sorted(values, key=lambda item: item[0])]


def number_keys(text: str) -> set[str]:
    """The distinct numbers of ``text`` as canonical strings ("4", "1000", "2.5")."""
    return {f"{v:g}" for v in extract_numbers(text)}


def date_interval(mentions: list[DateMention]) -> tuple[date, date, bool] | None:
    """The smallest interval covering the mentions, and whether its year is known.

    Mentions with a known year win over year-less ones; ``None`` when there is none.
    """
    if not mentions:
        return None
    known = [m for m in mentions if m.year_known]
    chosen = known or mentions
    return min(m.start for m in chosen), max(m.end for m in chosen), bool(known)
