"""Format detection by content, HTML extraction, JSONL validation."""

from __future__ import annotations

import json

import pytest

from annotations.ingest import IngestError, detect_format, segment_file
from tests.ingest.helpers import check_invariants

MB = 1_000_000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("page.txt", b"Title\n\nBody text.", "text"),
        ("page", b"Title\n\nBody text.", "text"),
        ("page.html", b"<p>hi</p>", "html"),
        ("page.txt", b"\xef\xbb\xbf  <!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("page.jsonl", b'{"title": "a", "text": "b"}\n', "jsonl"),
        ("page.json", b'{"title": "a", "text": "b"}\n', "jsonl"),
        ("page.ndjson", b'{"title": "a", "text": "b"}\n', "jsonl"),
        ("page.dat", b'{"title": "a", "text": "b"}\n', "jsonl"),
        ("page.zip", b"PK\x05\x06" + b"\x00" * 18, "zip"),
    ],
)
def test_detect_format(name: str, data: bytes, expected: str) -> None:
    assert detect_format(name, data) == expected


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.txt", PNG, "wrong type: the content is a PNG image"),
        ("scan.html", b"%PDF-1.7\n...", "a PDF document"),
        ("data.jsonl", b"\x1f\x8b\x08\x00", "a gzip archive"),
        ("report.docx", b"PK\x03\x04" + b"\x00" * 30, "zip container"),
        ("notes.txt", b"PK\x03\x04" + b"\x00" * 30, "zip container"),
        ("fake.zip", b"just text", "not a zip archive"),
        ("dump.tar", b"some bytes", ".tar archives are not accepted"),
        ("array.json", b'[{"title": "a"}]', "JSON array is not supported"),
    ],
)
def test_wrong_types_are_rejected(name: str, data: bytes, message: str) -> None:
    with pytest.raises(IngestError) as caught:
        detect_format(name, data)
    assert caught.value.filename == name
    assert message in str(caught.value)


def test_segment_file_rejects_oversized_and_blank_files() -> None:
    with pytest.raises(IngestError, match="limit is 10"):
        segment_file("big.txt", b"x" * 11, max_bytes=10)
    with pytest.raises(IngestError, match="only whitespace"):
        segment_file("blank.txt", b"  \n\t \r\n", max_bytes=MB)


def test_png_renamed_txt_is_rejected_by_segment_file() -> None:
    with pytest.raises(IngestError, match="wrong type"):
        segment_file("photo.txt", PNG, max_bytes=MB)


HOSTILE_HTML = """<!DOCTYPE html>
<html><head><title>Site name</title><script>alert("head")</script>
<style>body { color: red }</style></head>
<body onload="alert('body')">
<nav>Home | News</nav>
<article>
  <h1>Army says it captured the hill</h1>
  <p class="byline">By Jane Doe</p>
  <time datetime="2021-03-03">March 3</time>
  <p>The army said on Monday that it captured the hill after two days of fighting.
  <img src="x.png" onerror="alert('img')"> Officials said 12 soldiers were wounded.</p>
  <script>document.write("<p>injected</p>")</script>
  <p onclick="steal()">A second paragraph <a href="javascript:alert(1)">link</a> ends.</p>
  <iframe src="https://evil.example/"></iframe>
</article>
<article>
  <h2>Convoy reaches the town</h2>
  <p>A convoy of 24 trucks reached the town on Tuesday, local officials said.</p>
  <p>The road had been closed for three weeks.</p>
</article>
<footer>Copyright 2021</footer>
</body></html>
"""


def test_html_articles_are_plain_text_without_scripts_or_handlers() -> None:
    [doc] = segment_file("page.html", HOSTILE_HTML.encode(), max_bytes=MB)
    assert doc.format == "html"
    for forbidden in ("alert", "onerror", "onload", "onclick", "<", ">", "injected", "color: red"):
        assert forbidden not in doc.text, forbidden
    assert [a.title for a in doc.articles] == [
        "Army says it captured the hill",
        "Convoy reaches the town",
    ]
    first, second = doc.articles
    assert first.byline == "Jane Doe" and first.published == "2021-03-03"
    assert "12 soldiers were wounded" in doc.text[first.start : first.end]
    assert "convoy of 24 trucks" in doc.text[second.start : second.end]
    check_invariants(doc.text, doc.articles)
    bodies = [doc.text[u.start : u.end] for u in second.sentences if u.unit_kind == "body"]
    assert bodies == [
        "A convoy of 24 trucks reached the town on Tuesday, local officials said.",
        "The road had been closed for three weeks.",
    ]


def test_html_without_article_elements_is_split_like_text() -> None:
    html = (
        "<html><head><title>T</title></head><body>"
        "<h1>First Headline Here</h1><p>By Jane Doe</p>"
        "<p>The first body paragraph says something long enough to keep.</p>"
        "<h2>Related News</h2><h2>Second Headline Here</h2><p>By John Roe</p>"
        "<p>The second body paragraph reports another event in the town.</p>"
        "</body></html>"
    )
    [doc] = segment_file("page.htm", html.encode(), max_bytes=MB)
    assert "<" not in doc.text
    assert [a.title for a in doc.articles][-1] == "Second Headline Here"
    check_invariants(doc.text, doc.articles)


def test_html_with_no_text_is_rejected() -> None:
    with pytest.raises(IngestError, match="no text"):
        segment_file("empty.html", b"<html><body><script>x()</script></body></html>", max_bytes=MB)


def jsonl(*records: object, newline: str = "\n") -> bytes:
    return newline.join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def test_jsonl_records_become_documents_with_exact_offsets() -> None:
    data = (
        jsonl(
            {
                "title": "Convoy arrives",
                "text": "A convoy arrived on Monday. It carried food.",
                "outlet": "Wire",
                "url": "https://example.org/a",
                "published": "2021-03-03T10:00:00Z",
                "language": "en-GB",
                "id": 7,
            },
            {"title": "عنوان الخبر", "text": "قال المسؤول إن القافلة وصلت. وحملت مواد غذائية."},
            newline="\r\n",
        )
        + b"\r\n\r\n"
    )
    docs = segment_file("feed.jsonl", data, max_bytes=MB)
    assert [d.name for d in docs] == ["feed.jsonl:1", "feed.jsonl:2"]
    first = docs[0]
    assert first.text == "Convoy arrives\n\nA convoy arrived on Monday. It carried food."
    [article] = first.articles
    assert (article.title, article.title_start, article.title_end) == ("Convoy arrives", 0, 14)
    assert (article.outlet, article.published, article.language, article.url) == (
        "Wire",
        "2021-03-03",
        "en",
        "https://example.org/a",
    )
    assert [first.text[u.start : u.end] for u in article.sentences] == [
        "Convoy arrives",
        "A convoy arrived on Monday.",
        "It carried food.",
    ]
    assert docs[1].articles[0].language == "ar"
    for doc in docs:
        check_invariants(doc.text, doc.articles)


BAD_LINES = [
    ('{"title": "a", "title": "b", "text": "c"}', "duplicate key 'title'"),
    ('{"title": "a", "text": "b", "score": 1e999}', "not finite"),
    ('{"title": "a", "text": "b", "score": NaN}', "non-finite number NaN"),
    ('{"title": "a", "text": "b", "x": ' + "[" * 40 + "]" * 40 + "}", "nested 41 levels"),
    ('["not", "an", "object"]', "must be a JSON object"),
    ('{"text": "no title"}', "missing required field 'title'"),
    ('{"title": 5, "text": "b"}', "field 'title' must be a string"),
    ('{"title": "  ", "text": "b"}', "field 'title' is empty"),
    ('{"title": "a", "text": "b", "url": "javascript:alert(1)"}', "http(s) URL"),
    ('{"title": "a", "text": "b", "published": "yesterday"}', "not a date"),
    ('{"title": "a", "text": "b", "language": "english language"}', "not a language tag"),
    ('{"title": "a", "text": "nul \\u0000 here"}', "NUL character"),
    ('{"title": "a", "text": "lone \\ud800 surrogate"}', "lone surrogate"),
    ('{"title": "a", "text": "b", "outlet": 3}', "'outlet' must be a string or null"),
    ("{not json}", "invalid JSON"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_each_bad_jsonl_line_is_reported_with_its_line_number(line: str, message: str) -> None:
    good = json.dumps({"title": "ok", "text": "Fine text."})
    data = jsonl(good, "", line, good)
    with pytest.raises(IngestError) as caught:
        segment_file("feed.jsonl", data, max_bytes=MB)
    error = caught.value
    assert "nothing was imported" in error.message
    [bad] = error.errors
    assert bad.line == 3 and bad.filename == "feed.jsonl"
    assert bad.byte == len(good.encode()) + 2
    assert message in bad.message, bad.message
    assert "feed.jsonl, line 3" in str(error)


def test_all_bad_lines_are_reported_at_once() -> None:
    lines = [json.dumps({"title": "ok", "text": "Fine."})] + [line for line, _ in BAD_LINES]
    with pytest.raises(IngestError) as caught:
        segment_file("feed.jsonl", jsonl(*lines), max_bytes=MB)
    assert [e.line for e in caught.value.errors] == list(range(2, len(BAD_LINES) + 2))
    assert caught.value.message.startswith(f"{len(BAD_LINES)} of {len(lines)} JSONL lines")


def test_truncated_last_line_is_named_as_such() -> None:
    data = jsonl({"title": "a", "text": "b"}) + b'\n{"title": "c", "text": "cut off he'
    with pytest.raises(IngestError) as caught:
        segment_file("feed.jsonl", data, max_bytes=MB)
    [bad] = caught.value.errors
    assert bad.line == 2 and "truncated" in bad.message


def test_very_long_jsonl_line_is_accepted() -> None:
    body = "The army said it captured the hill. " * 60_000  # ~2 MB in one line
    docs = segment_file("feed.jsonl", jsonl({"title": "Long", "text": body}), max_bytes=10 * MB)
    [article] = docs[0].articles
    assert len(article.sentences) == 60_001
    check_invariants(docs[0].text, docs[0].articles)


def test_jsonl_without_records_is_rejected() -> None:
    with pytest.raises(IngestError, match="only whitespace"):
        segment_file("feed.jsonl", b"\n   \r\n\n", max_bytes=MB)
