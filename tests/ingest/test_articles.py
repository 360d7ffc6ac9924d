"""Article splitting: the sample page against hand-labelled gold, other layouts, units, hashing."""

from __future__ import annotations

from functools import cache

import pytest

from annotations.ingest import build_article, content_hash, segment_text
from annotations.ingest.types import CLAIM_KINDS, ArticleUnit
from tests.ingest.helpers import DATA, check_invariants, line_span, load, prf, sample_text


@cache
def sample() -> tuple[str, list[ArticleUnit]]:
    text = sample_text()
    return text, segment_text(text)


def test_sample_has_the_23_gold_articles_and_no_false_starts() -> None:
    gold = load("sample_articles.json")["articles"]
    _, articles = sample()
    assert len(gold) == 23
    assert [a.title_start for a in articles] == [g["title_offset"] for g in gold]


@pytest.mark.parametrize("field", ["title", "outlet", "byline", "published", "language"])
def test_sample_article_metadata_matches_gold(field: str) -> None:
    gold = load("sample_articles.json")["articles"]
    _, articles = sample()
    found = [getattr(a, field) for a in articles]
    expected = [g[field] for g in gold]
    assert found == expected


def test_lines_that_look_like_titles_are_not_article_starts() -> None:
    gold = load("sample_articles.json")
    text, articles = sample()
    starts = {a.title_start for a in articles}
    for line in gold["not_article_starts"]:
        start, _ = line_span(text, int(line))
        start += len(text[start:]) - len(text[start:].lstrip())
        assert start not in starts, gold["not_article_starts"][line]
        assert any(a.start <= start < a.end for a in articles), f"line {line} is in no article"


def test_sample_invariants_hold() -> None:
    text, articles = sample()
    check_invariants(text, articles)
    assert articles[0].start == 0
    assert articles[-1].end == len(text.rstrip())


def units_on_line(line: int) -> list[tuple[str, str, str]]:
    text, articles = sample()
    start, end = line_span(text, line)
    return [
        (u.unit_kind, u.unit_defect, text[u.start : u.end])
        for a in articles
        for u in a.sentences
        if start <= u.start < end
    ]


@pytest.mark.parametrize(
    ("line", "kind", "defect"),
    [
        (1, "headline", "none"),
        (3, "byline", "none"),  # South Front (outlet line)
        (17, "boilerplate", "none"),  # Related News
        (37, "boilerplate", "none"),  # Related Videos
        (81, "headline", "none"),  # the title printed twice
        (112, "boilerplate", "none"),  # مقالات متعلقة
        (145, "caption", "none"),  # Marines
        (201, "boilerplate", "artifact"),  # *
        (209, "list_item", "none"),  # [1] footnote
        (221, "dateline", "none"),  # September 20, 2019
        (223, "byline", "none"),  # By Aram Mirzaei for The Saker Blog
        (295, "subheading", "none"),
        (307, "byline", "none"),  # Interviewed by: Basma Qaddour
        (343, "cross_link", "none"),  # ALSO READ ...
        (365, "caption", "none"),  # the Al-Ahed title repeated as image caption
        (461, "subheading", "none"),
        (487, "list_item", "none"),  # liberated towns
        (525, "boilerplate", "none"),  # Click to see the full-size image
        (537, "caption", "none"),  # photo caption before the dateline paragraph
        (621, "boilerplate", "artifact"),  # %d bloggers like this:
    ],
)
def test_line_unit_kinds(line: int, kind: str, defect: str) -> None:
    units = units_on_line(line)
    assert len(units) == 1, units
    assert units[0][:2] == (kind, defect), units


def test_datelines_are_split_off_the_first_paragraph() -> None:
    units = units_on_line(331)
    assert units[0] == ("dateline", "none", "BEIRUT, LEBANON (6:45 A.M.) –")
    assert units[1][0] == "body" and units[1][2].startswith("The Syrian Arab Army began")
    assert units_on_line(43)[0] == ("dateline", "none", "IDLEB, (ST)_")
    _, articles = sample()
    assert articles[12].dateline == "BEIRUT, LEBANON (6:45 A.M.) –"


def test_multi_paragraph_quote_is_quote_continuation() -> None:
    for line in (159, 161, 163, 171):
        assert {kind for kind, _, _ in units_on_line(line)} == {"quote_continuation"}
    assert {kind for kind, _, _ in units_on_line(173)} == {"body"}


def test_glued_and_truncated_defects() -> None:
    glued = units_on_line(549)
    assert [(k, d) for k, d, _ in glued] == [("body", "glued"), ("body", "glued")]
    assert glued[1][2] == "Al-Masdar News"
    assert units_on_line(451)[0][1] == "truncated"  # "h Al-Izza was ..." cut by the scraper


def test_boilerplate_scores_near_zero_and_claims_score_high() -> None:
    text, articles = sample()
    by_kind: dict[str, list[float]] = {}
    for article in articles:
        for unit in article.sentences:
            by_kind.setdefault(unit.unit_kind, []).append(unit.claim_likelihood)
    assert max(by_kind["boilerplate"]) <= 0.05
    assert max(by_kind["byline"]) <= 0.05 and max(by_kind["dateline"]) <= 0.05
    body = by_kind["body"]
    assert sum(body) / len(body) > 0.55
    claim = next(
        u
        for a in articles
        for u in a.sentences
        if "2 soldiers were killed" in text[u.start : u.end]
    )
    question = next(u for a in articles for u in a.sentences if text[u.start : u.end] == "Really?")
    assert claim.claim_likelihood >= 0.8 and question.claim_likelihood <= 0.1


def test_arabic_articles_and_units_are_arabic() -> None:
    text, articles = sample()
    arabic = [a for a in articles if a.language == "ar"]
    assert [a.title for a in arabic] == ["انتصار حلب بعشرة", "أهمّ دروس تحرير خان\xa0شيخون"]
    assert all(u.language == "ar" for a in arabic for u in a.sentences if u.unit_kind == "body")
    khan = articles[17]  # English post holding one Arabic cross-link line
    arabic_line = next(u for u in khan.sentences if text[u.start : u.end].startswith("للمرة"))
    assert arabic_line.language == "ar" and khan.language == "en"


@pytest.mark.parametrize("page", ["other_layout_digest", "other_layout_wire"])
def test_other_layouts_article_boundaries(page: str) -> None:
    gold = load(f"{page}.json")["articles"]
    text = (DATA / f"{page}.txt").read_text(encoding="utf-8")
    articles = segment_text(text)
    check_invariants(text, articles)
    precision, recall, f1 = prf(
        {g["title_offset"] for g in gold}, {a.title_start for a in articles}
    )
    print(f"\n{page}: P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    assert f1 >= 0.9
    found = {a.title_start: a for a in articles}
    for g in gold:
        article = found.get(g["title_offset"])
        if article is not None:
            assert (article.title, article.byline, article.published, article.language) == (
                g["title"],
                g["byline"],
                g["published"],
                g["language"],
            )


def test_page_without_titles_is_one_untitled_article() -> None:
    text = "This page has no title. It only has sentences.\nAnd a second line of body text here."
    [article] = segment_text(text)
    assert (article.title, article.title_start, article.title_end) == ("", 0, 0)
    assert [text[u.start : u.end] for u in article.sentences] == [
        "This page has no title.",
        "It only has sentences.",
        "And a second line of body text here.",
    ]


def test_empty_and_blank_pages_have_no_articles() -> None:
    assert segment_text("") == []
    assert segment_text(" \n\t\n  ") == []


def test_related_links_after_separator_fold_into_previous_article() -> None:
    text = (
        "First Title Of The Page\n\nSouth Front\n\nThe army said it had captured the town.\n\n"
        "Related News\n\nSome Linked Headline Here\n\nAnother Linked Headline\n\n"
        "Second Real Article Title\n\nBy Jane Doe\n\nOfficials said the road was reopened.\n"
    )
    articles = segment_text(text)
    assert [a.title for a in articles] == ["First Title Of The Page", "Second Real Article Title"]
    kinds = [(u.unit_kind, text[u.start : u.end]) for u in articles[0].sentences]
    assert ("cross_link", "Some Linked Headline Here") in kinds
    assert articles[1].byline == "Jane Doe"


def body_hash(article: ArticleUnit) -> str:
    return article.content_hash


def test_reposted_article_hashes_equal_to_the_original() -> None:
    text, articles = sample()
    original = articles[6]  # Syria Repels Militant Drone Attack on Army Air Base in Hama
    piece = text[original.start : original.end]
    other_page = (
        "Home | News | Syria\n\nSomething Else Happened Today\n\nBy Someone Else\n\n"
        "A different article body sits here, with its own sentences.\n\nRelated News\n\n"
        + piece.replace("Hama.", "Hama.\u00a0")
        + "\n\nRelated Videos\n\n%d bloggers like this:\n"
    )
    reposted = [a for a in segment_text(other_page) if a.title == original.title]
    assert len(reposted) == 1
    assert reposted[0].content_hash == original.content_hash
    assert segment_text(text)[6].content_hash == original.content_hash  # imported twice
    assert len({a.content_hash for a in articles}) == len(articles)


def test_content_hash_normalisation() -> None:
    assert content_hash(["He said.He left “now”"]) == content_hash(['he said. he left "NOW"'])
    assert content_hash(["a\u00a0b\tc"]) == content_hash(["a b c"])
    assert content_hash(["ÉTÉ ﬁnal"]) == content_hash(["été final"])  # NFKC ligature, case
    assert content_hash(["قال الرئيس، إن الوضع جيد."]) == content_hash(["قال الرئيس إن الوضع جيد"])
    assert content_hash(["the army advanced"]) != content_hash(["the army retreated"])


def test_build_article_with_known_title_and_metadata() -> None:
    text = "Known Title\n\nBy Jane Doe\n\nThe convoy arrived on Monday. It carried food."
    article = build_article(
        text, 0, len(text), title_span=(0, 11), outlet="Wire", published="2021-03-03", language="en"
    )
    assert (article.title, article.outlet, article.byline, article.published) == (
        "Known Title",
        "Wire",
        "Jane Doe",
        "2021-03-03",
    )
    assert [u.unit_kind for u in article.sentences] == ["headline", "byline", "body", "body"]
    assert article.content_hash == content_hash(
        ["The convoy arrived on Monday.", "It carried food."]
    )
    assert {u.unit_kind for u in article.sentences if u.unit_kind in CLAIM_KINDS} == {"body"}
