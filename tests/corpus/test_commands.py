"""The segment and ingest commands."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Article, Claim, Document

from .helpers import ARTICLE_EN, SAMPLE, jsonl


def test_segment_prints_articles_and_offsets_into_the_decoded_text(capsys):
    call_command("segment", str(SAMPLE), "--format", "json")
    out = json.loads(capsys.readouterr().out)
    text = SAMPLE.read_bytes().decode("utf-8-sig")
    assert len(out["articles"]) == 23
    for article in out["articles"]:
        assert set(article) >= {
            "title", "outlet", "byline", "published", "language", "start", "end", "sentences"
        }  # fmt: skip
        assert 0 <= article["start"] <= article["end"] <= len(text)
        if article["title"]:
            assert article["title"] in text[article["start"] : article["end"]]
        for unit in article["sentences"]:
            assert article["start"] <= unit["start"] < unit["end"] <= article["end"]
            assert text[unit["start"] : unit["end"]].strip() == text[unit["start"] : unit["end"]]


def test_segment_needs_no_database(capsys, tmp_path):
    # no django_db mark: any query would fail the test
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE_EN)
    call_command("segment", str(path))
    assert json.loads(capsys.readouterr().out)["articles"][0]["title"].startswith("Ministry")


def test_segment_bad_file_names_line_and_byte(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\nbad \xff")
    with pytest.raises(CommandError, match=r"bad.txt, line 2, byte 7"):
        call_command("segment", str(path))


@pytest.mark.django_db
def test_ingest_prints_summary_and_is_idempotent(project, capsys, tmp_path):
    call_command("ingest", str(SAMPLE), "--project", project.slug)
    first = json.loads(capsys.readouterr().out)
    assert first["articles"] == 23 and first["documents"] == 1
    assert first["claims"] == Claim.objects.filter(project=project).count()
    call_command("ingest", str(SAMPLE), "--project", project.slug)
    second = json.loads(capsys.readouterr().out)
    assert second["files"][0]["skipped"] is True and second["claims"] == 0
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_ingest_bad_file_exits_non_zero_naming_the_line(project, tmp_path, capsys):
    bad = tmp_path / "feed.jsonl"
    bad.write_bytes(jsonl([{"title": "A", "text": "The army said so."}]) + b"[1, 2]\n")
    good = tmp_path / "good.txt"
    good.write_text(ARTICLE_EN)
    with pytest.raises(CommandError, match=r"feed.jsonl, line 2, byte \d+"):
        call_command("ingest", str(bad), str(good), "--project", project.slug)
    # the bad file stored nothing; the good one was imported
    assert list(Document.objects.values_list("name", flat=True)) == ["good.txt"]
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_ingest_unknown_project():
    with pytest.raises(CommandError, match="No project"):
        call_command("ingest", str(SAMPLE), "--project", "nope")
