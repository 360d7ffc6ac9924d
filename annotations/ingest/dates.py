"""Dates as they appear on news pages, to ISO ``yyyy-mm-dd``.

Understood forms (English and Arabic month names, Western or Arabic-Indic
digits, an optional weekday, ordinal suffix and time):

* ``February 28, 2020``, ``Feb. 28 2020``, ``August 23rd, 2019``, ``أغسطس 24, 2019``
* ``23 January 2012``, ``24 أغسطس 2019``, ``24 آب 2019``
* ``2019-08-23`` (also with a time), ``2019/08/23``
* ``23.08.2019``, ``23/08/2019``, ``23-08-2019``: day first, unless the first
  number cannot be a month day... i.e. ``08/23/2019`` (second part > 12) is
  read month first.  An ambiguous ``03/04/2019`` is read day first.

A month and year without a day (``DECEMBER 2015``) is not a publication date.

A month and day without a year (``March 3``, ``Aug. 24``, ``24 آب``) is read only where a page
prints it as an article's date: a line holding nothing else, a byline part (``By X | March 5``)
or a dateline (``AMMAN, March 3 (Reuters) -``). ``find_month_day`` and ``parse_partial_line``
return ``(month, day)``; the year comes from the page (``year_for``: the year that puts the day
closest to the nearest article with a full date), and without one the article has no date.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

_EN_MONTHS: Final = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_AR_MONTHS: Final = {
    # Egyptian / Gulf (transliterated) names
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "ابريل": 4, "إبريل": 4, "مايو": 5,
    "يونيو": 6, "يونيه": 6, "يوليو": 7, "يوليه": 7, "أغسطس": 8, "اغسطس": 8, "سبتمبر": 9,
    "أكتوبر": 10, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    # Levantine / Iraqi (Syriac) names
    "كانون الثاني": 1, "شباط": 2, "آذار": 3, "اذار": 3, "نيسان": 4, "أيار": 5, "ايار": 5,
    "حزيران": 6, "تموز": 7, "آب": 8, "اب": 8, "أيلول": 9, "ايلول": 9, "تشرين الأول": 10,
    "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الأول": 12, "كانون الاول": 12,
    # Maghreb names
    "جانفي": 1, "فيفري": 2, "أفريل": 4, "افريل": 4, "ماي": 5, "جوان": 6, "جويلية": 7,
    "أوت": 8, "اوت": 8,
}  # fmt: skip
_MONTHS: Final = {**_EN_MONTHS, **_AR_MONTHS}

_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_MONTH = rf"(?P<mon>{_MONTH_ALT})\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NAMED_PATTERNS: Final = (
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY}[,،]?\s+{_YEAR}(?!\d)", re.IGNORECASE),
    re.compile(rf"(?<!\d){_DAY}\s+(?:of\s+)?{_MONTH}[,،]?\s+{_YEAR}(?!\d)", re.IGNORECASE),
)
_YEAR_ANYWHERE = re.compile(r"(?:19|20)\d\d")
_ISO = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)[-/](?P<a>[01]?\d)[-/](?P<b>[0-3]?\d)(?!\d)")
_NUMERIC = re.compile(
    r"(?<![\d.])(?P<a>[0-3]?\d)[./-](?P<b>[0-3]?\d)[./-](?P<year>(?:19|20)\d\d)(?!\d)"
)

_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs"
    r"|fri|sat|sun|يوم|الاثنين|الإثنين|الثلاثاء|الأربعاء|الاربعاء|الخميس|الجمعة|السبت|الأحد|الاحد)"
)
_TIME = (
    r"(?:t?\d{1,2}[:.]\d\d(?:[:.]\d\d(?:\.\d+)?)?\s*(?:[ap]\.?\s?m\.?)?"
    r"(?:\s*(?:z|[+-]\d\d:?\d\d|gmt|utc|cet|est|edt))?)"
)
_FILLER = re.compile(
    rf"^(?:\s|[,،.|·•–—\-/()\[\]:]|{_WEEKDAY}\.?|{_TIME}|published|posted|updated|last|on|at"
    r"|date|نشر|في|بتاريخ|تاريخ|النشر|آخر|تحديث)*$",
    re.IGNORECASE,
)
_PREFIX_SPLIT = re.compile(r"\s*(?:,|\||·|•|–|—| - )\s*$")


# A month and day with no year after them (a year would make it a full date).
_NO_YEAR = r"(?![\d.])(?!(?:st|nd|rd|th)?[,،]?\s*(?:19|20)\d\d(?!\d))"
_PARTIAL_PATTERNS: Final = (
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY}{_NO_YEAR}", re.IGNORECASE),
    re.compile(
        rf"(?<![\d.]){_DAY}\s+(?:of\s+)?{_MONTH}(?!\w)(?![,،]?\s*(?:19|20)\d\d)", re.IGNORECASE
    ),
)


def _make(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _from_match(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    year = int(groups["year"])
    if "mon" in groups:
        month = _MONTHS.get(groups["mon"].lower().rstrip("."))
        if month is None:
            return None
        return _make(year, month, int(groups["day"]))
    a, b = int(groups["a"]), int(groups["b"])
    if match.re is _ISO:
        return _make(year, a, b)
    if b > 12 >= a:  # 08/23/2019: month first
        return _make(year, a, b)
    return _make(year, b, a)


def find_date(text: str) -> tuple[str, int, int] | None:
    """The first full date in ``text``: ``(iso, start, end)`` or None."""
    if len(text) > 400:
        text = text[:400]
    norm = text.translate(_DIGITS) if not text.isascii() else text
    year = _YEAR_ANYWHERE.search(norm)
    if year is None:  # every full date has a four-digit year: cheap exit
        return None
    best: tuple[str, int, int] | None = None
    for pattern in (*_NAMED_PATTERNS, _ISO, _NUMERIC):
        for match in pattern.finditer(norm, max(0, year.start() - 40)):
            iso = _from_match(match)
            if iso is not None and (best is None or match.start() < best[1]):
                best = (iso, match.start(), match.end())
                break
    return best


def parse_date(text: str) -> str | None:
    """ISO date when ``text`` holds one full date anywhere, else None."""
    found = find_date(text)
    return found[0] if found else None


def parse_date_line(line: str) -> tuple[str, str | None] | None:
    """Read a line that is a date and nothing else but filler.

    Returns ``(iso, prefix)`` where ``prefix`` is a short leading label such as
    the outlet in ``Global Research, December 14, 2019``; None when the line
    says more than a date.
    """
    if len(line) > 90:
        return None
    found = find_date(line)
    if found is None:
        return None
    iso, start, end = found
    alone, prefix = _line_prefix(line, start, end)
    return (iso, prefix) if alone else None


def _line_prefix(line: str, start: int, end: int) -> tuple[bool, str | None]:
    """``(True, label)`` when the date found at ``line[start:end]`` is all the line says but
    filler and a short leading label (None without one); ``(False, None)`` otherwise."""
    before, after = line[:start], line[end:]
    if not _FILLER.match(after):
        return False, None
    if _FILLER.match(before):
        return True, None
    cut = _PREFIX_SPLIT.search(before)
    if cut is None:
        return False, None
    prefix = before[: cut.start()].strip()
    if not prefix or len(prefix.split()) > 5 or any(c.isdigit() for c in prefix):
        return False, None
    return True, prefix


def find_month_day(text: str) -> tuple[int, int, int, int] | None:
    """The first month and day without a year in ``text``: ``(month, day, start, end)``."""
    if len(text) > 400:
        text = text[:400]
    norm = text.translate(_DIGITS) if not text.isascii() else text
    best: tuple[int, int, int, int] | None = None
    for pattern in _PARTIAL_PATTERNS:
        for match in pattern.finditer(norm):
            month = _MONTHS.get(match["mon"].lower().rstrip("."))
            day = int(match["day"])
            # a valid day in some year (29 February is checked again once the year is known)
            if month is not None and _make(2000, month, day) is not None:
                if best is None or match.start() < best[2]:
                    best = (month, day, match.start(), match.end())
                break
    return best


def parse_partial_line(line: str) -> tuple[tuple[int, int], str | None] | None:
    """Read a line that is a month and day (no year) and nothing else but filler, like
    parse_date_line: ``((month, day), prefix)`` or None."""
    if len(line) > 90 or find_date(line) is not None:
        return None
    found = find_month_day(line)
    if found is None:
        return None
    month, day, start, end = found
    alone, prefix = _line_prefix(line, start, end)
    return ((month, day), prefix) if alone else None


def year_for(month: int, day: int, reference: str) -> str | None:
    """ISO date of ``month``/``day`` in the year that puts it closest to the ISO date
    ``reference`` (so 30 December next to 2 January 2021 is 2020-12-30); None if invalid."""
    ref = dt.date.fromisoformat(reference)
    best: dt.date | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - ref).days) < abs((best - ref).days):
            best = candidate
    return best.isoformat() if best is not None else None


def fill_years(dates: list[str | None], partials: list[tuple[int, int] | None]) -> list[str | None]:
    """Publication dates of a page's articles, in page order: an article without a full date but
    with a month and day takes the year from the nearest article that has a full date (the
    earlier one when two are as near), see ``year_for``; without any, it stays undated."""
    known = [(i, iso) for i, iso in enumerate(dates) if iso]
    out = list(dates)
    for i, partial in enumerate(partials):
        if out[i] or partial is None or not known:
            continue
        _, reference = min(known, key=lambda k: (abs(k[0] - i), k[0] > i))
        out[i] = year_for(partial[0], partial[1], reference)
    return out
