"""Publication dates: full dates, and month-day dates whose year comes from the page."""

from __future__ import annotations

import pytest

from annotations.ingest import segment_text
from annotations.ingest.dates import (
    fill_years,
    find_month_day,
    parse_date_line,
    parse_partial_line,
    year_for,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("March 3", ((3, 3), None)),
        ("Aug. 24th", ((8, 24), None)),
        ("24 August", ((8, 24), None)),
        ("Tuesday, March 3", ((3, 3), None)),
        ("24 آب", ((8, 24), None)),
        ("أغسطس ٢٤", ((8, 24), None)),
        ("Global Research, March 3", ((3, 3), "Global Research")),
        ("February 29", ((2, 29), None)),
    ],
)
def test_month_day_lines(line: str, expected: tuple[tuple[int, int], str | None]) -> None:
    assert parse_partial_line(line) == expected
    assert parse_date_line(line) is None


@pytest.mark.parametrize(
    "line",
    ["March 3, 2020", "3 March 2020", "Feb 30", "The march 33", "March 3 troops crossed the river"],
)
def test_not_month_day_lines(line: str) -> None:
    assert parse_partial_line(line) is None


def test_month_day_inside_a_dateline() -> None:
    assert find_month_day("AMMAN, March 3 (Reuters) -") == (3, 3, 7, 14)
    assert find_month_day("WASHINGTON, March 3, 2020 (Reuters) -") is None


def test_the_year_is_the_one_nearest_the_reference() -> None:
    assert year_for(3, 3, "2020-03-04") == "2020-03-03"
    assert year_for(12, 30, "2021-01-02") == "2020-12-30"
    assert year_for(1, 2, "2020-12-30") == "2021-01-02"
    assert year_for(2, 29, "2021-03-01") == "2020-02-29"  # the nearest leap year


def test_fill_years_takes_the_nearest_dated_article() -> None:
    dates = [None, "2019-05-01", None, None, "2020-03-04", None]
    partials = [(4, 30), None, (5, 2), (3, 1), None, None]
    assert fill_years(dates, partials) == [
        "2019-04-30",  # next one is the nearest
        "2019-05-01",
        "2019-05-02",  # as near as both: the earlier one
        "2020-03-01",
        "2020-03-04",
        None,  # no date printed at all
    ]
    assert fill_years([None, None], [(3, 3), None]) == [None, None]  # nothing to take it from


PAGE = """First Report On The Front

March 3

The army said it had repelled an attack on its positions east of the city overnight.

Second Report On The Talks

March 4, 2020

Delegations met in Geneva on Wednesday and agreed to meet again next week.

Third Report From The Border
By Jane Doe | March 5

The crossing was closed on Thursday and travellers were turned back at the border.

Fourth Report From Amman
AMMAN, Dec. 30 (Reuters) - Officials said the talks would resume after the holiday.
"""


def test_articles_dated_without_a_year_take_it_from_the_page() -> None:
    articles = segment_text(PAGE)
    assert [a.title for a in articles] == [
        "First Report On The Front",
        "Second Report On The Talks",
        "Third Report From The Border",
        "Fourth Report From Amman",
    ]
    assert [a.published for a in articles] == [
        "2020-03-03",
        "2020-03-04",
        "2020-03-05",
        "2019-12-30",  # nearer to 4 March 2020 than 30 December 2020 is
    ]
    assert articles[2].byline == "Jane Doe"
    assert articles[3].dateline == "AMMAN, Dec. 30 (Reuters) -"


def test_without_any_full_date_on_the_page_the_article_stays_undated() -> None:
    page = "A Report Without A Year\n\nMarch 3\n\nThe army said it had repelled an attack.\n"
    [article] = segment_text(page)
    assert article.published is None
    assert [u.unit_kind for u in article.sentences][:2] == ["headline", "dateline"]
