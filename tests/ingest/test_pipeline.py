"""segment_file + to_json: the `segment` command's JSON (interfaces.md)."""

from __future__ import annotations

import json

from annotations.ingest import segment_file, segment_text, to_json
from tests.ingest.helpers import load, sample_path

MB = 1_000_000


def test_segment_json_shape_and_offsets() -> None:
    data = sample_path().read_bytes()
    docs = segment_file("sample.txt", data, max_bytes=10 * MB)
    result = json.loads(json.dumps(to_json(docs), ensure_ascii=False))
    text = data.decode("utf-8")
    assert len(result["articles"]) == 23
    gold = load("sample_articles.json")["articles"]
    for article, expected in zip(result["articles"], gold, strict=True):
        assert {
            "title",
            "outlet",
            "byline",
            "published",
            "language",
            "start",
            "end",
            "sentences",
        } <= set(article)
        assert article["title"] == expected["title"]
        assert text[article["title_start"] : article["title_end"]] == article["title"]
        assert article["start"] <= article["title_start"] < article["end"]
        for sentence in article["sentences"]:
            assert {"start", "end"} <= set(sentence)
            piece = text[sentence["start"] : sentence["end"]]
            assert piece and piece == piece.strip()
            assert article["start"] <= sentence["start"] < sentence["end"] <= article["end"]
    assert result["documents"] == [{"name": "sample.txt", "format": "text", "chars": len(text)}]


def test_offsets_index_text_after_bom_removal() -> None:
    body = "Title Line Here\n\nSouth Front\n\nThe army said it captured the hill."
    with_bom = segment_file("a.txt", b"\xef\xbb\xbf" + body.encode(), max_bytes=MB)
    plain = segment_file("a.txt", body.encode(), max_bytes=MB)
    assert to_json(with_bom) == to_json(plain)
    assert with_bom[0].text == body


def test_utf16_file_segments_like_utf8() -> None:
    text = sample_path().read_text(encoding="utf-8")
    utf16 = segment_file("a.txt", b"\xff\xfe" + text.encode("utf-16-le"), max_bytes=10 * MB)
    assert (
        to_json(utf16)["articles"]
        == to_json(segment_file("a.txt", text.encode(), max_bytes=10 * MB))["articles"]
    )


def test_crlf_text_keeps_offsets_exact() -> None:
    text = sample_path().read_text(encoding="utf-8").replace("\n", "\r\n")
    articles = segment_text(text)
    assert len(articles) == 23
    for article in articles:
        for unit in article.sentences:
            assert "\r" not in text[unit.start : unit.end][-1:]


def test_jsonl_segment_json_names_each_record_document() -> None:
    data = (
        json.dumps({"title": "One", "text": "First record text."})
        + "\n"
        + json.dumps({"title": "Two", "text": "Second record text."})
        + "\n"
    ).encode()
    result = to_json(segment_file("feed.jsonl", data, max_bytes=MB))
    assert [a["document"] for a in result["articles"]] == [0, 1]
    assert [d["name"] for d in result["documents"]] == ["feed.jsonl:1", "feed.jsonl:2"]
    assert result["articles"][1]["sentences"][1] == {
        "start": 5,
        "end": 24,
        "unit_kind": "body",
        "unit_defect": "none",
        "language": "en",
        "claim_likelihood": result["articles"][1]["sentences"][1]["claim_likelihood"],
    }
