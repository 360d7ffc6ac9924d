"""Storing what the pipeline produces: offsets, idempotence, dedup, atomicity."""

from __future__ import annotations

import pytest

from annotations.models import (
    Article,
    ArticleProvenance,
    Claim,
    Document,
    Item,
    NamedSource,
    Outlet,
    Project,
)
from annotations.services.imports import import_file, import_paths, sanitise_filename

from .helpers import ARTICLE_EN, ARTICLE_EN_2, SAMPLE, jsonl, make_zip

pytestmark = pytest.mark.django_db


def counts(project: Project) -> tuple[int, ...]:
    return (
        Document.objects.filter(project=project).count(),
        Article.objects.filter(project=project).count(),
        Claim.objects.filter(project=project).count(),
        Item.objects.filter(project=project).count(),
        ArticleProvenance.objects.filter(article__project=project).count(),
    )


def test_sample_page_imports_23_articles_with_exact_offsets(project):
    summary = import_paths(project=project, paths=[SAMPLE])
    assert summary["errors"] == 0
    assert summary["documents"] == 1
    assert summary["articles"] == 23
    doc = Document.objects.get(project=project)
    claims = list(Claim.objects.filter(project=project))
    assert len(claims) == summary["claims"] > 400
    for claim in claims:
        assert doc.text[claim.start : claim.end] == claim.text
        assert claim.text == claim.text.strip() and claim.text
    # every claim is queued exactly once, and positions are dense per article
    assert Item.objects.filter(project=project, kind="claim").count() == len(claims)
    for article in Article.objects.filter(project=project):
        positions = sorted(article.claims.values_list("position", flat=True))
        assert positions == list(range(len(positions)))
        assert article.start <= min(c.start for c in article.claims.all())
    assert doc.text == SAMPLE.read_bytes().decode("utf-8-sig")
    assert set(Article.objects.filter(project=project).values_list("language", flat=True)) >= {
        "en",
        "ar",
    }
    # outlets land in the registry, normalised, and the articles link to them
    south_front = Outlet.objects.get(project=project, key="south front")
    assert Article.objects.filter(outlet=south_front).count() >= 2
    # suggestions were computed at ingest for the claim-bearing units
    body = Claim.objects.filter(project=project, unit_kind="body")
    assert body.exclude(suggestion__isnull=True).count() == body.count()
    sample = body.exclude(suggestion__isnull=True).first().suggestion
    assert sample["source"] in {"rules", "model"} and "verifiability" in sample["labels"]
    assert NamedSource.objects.filter(project=project, mentions__gt=0).exists()
    assert not NamedSource.objects.filter(project=project, key="he").exists()


def test_reimport_is_a_no_op(project):
    import_paths(project=project, paths=[SAMPLE])
    before = counts(project)
    summary = import_file(project=project, filename="again.txt", data=SAMPLE.read_bytes())
    assert summary["skipped"] is True
    assert summary["articles"] == summary["claims"] == summary["documents"] == 0
    assert counts(project) == before


def test_same_article_in_two_files_is_stored_once_with_two_provenances(project):
    first = import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    page = ARTICLE_EN_2 + "\n\n" + ARTICLE_EN
    second = import_file(project=project, filename="b.txt", data=page.encode())
    assert first["articles"] == 1 and first["duplicates"] == 0
    assert second["duplicates"] == 1 and second["articles"] == 1
    articles = Article.objects.filter(project=project)
    assert articles.count() == 2
    dup = articles.get(title__startswith="Ministry")
    provenances = list(dup.provenances.order_by("document_id"))
    assert len(provenances) == 2
    assert {p.document.name for p in provenances} == {"a.txt", "b.txt"}
    later = provenances[1]
    assert later.document.text[later.start : later.end].startswith("Ministry reports")
    # the duplicate's claims exist once
    assert Claim.objects.filter(article=dup).count() == first["claims"]


def test_same_projects_are_separate(project, other_project):
    import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    summary = import_file(project=other_project, filename="a.txt", data=ARTICLE_EN.encode())
    assert summary["articles"] == 1 and not summary["skipped"]


def test_zip_with_a_bad_second_member_stores_nothing(project):
    data = make_zip([("one.txt", ARTICLE_EN.encode()), ("two.txt", b"broken \xff\xfe here")])
    summary = import_file(project=project, filename="batch.zip", data=data)
    assert counts(project) == (0, 0, 0, 0, 0)
    assert summary["documents"] == 0
    (error,) = summary["errors"]
    assert error["file"] == "batch.zip/two.txt" and error["line"] == 1 and error["byte"] == 7


def test_good_zip_imports_each_member_as_a_document(project):
    data = make_zip([("one.txt", ARTICLE_EN.encode()), ("dir/two.txt", ARTICLE_EN_2.encode())])
    summary = import_file(project=project, filename="batch.zip", data=data)
    assert summary["documents"] == 2 and summary["articles"] == 2 and not summary["errors"]
    assert set(Document.objects.values_list("name", flat=True)) == {
        "batch.zip/one.txt",
        "batch.zip/dir/two.txt",
    }


def test_jsonl_with_one_malformed_line_stores_nothing_and_names_the_line(project):
    good = jsonl([{"title": "A", "text": "The ministry said the strikes hit Idlib."}])
    data = good + b'{"title": "B", "text": \n' + good.replace(b'"A"', b'"C"')
    summary = import_file(project=project, filename="feed.jsonl", data=data)
    assert counts(project) == (0, 0, 0, 0, 0)
    lines = [e["line"] for e in summary["errors"]]
    assert lines == [2]
    assert summary["errors"][0]["byte"] == len(good)


def test_jsonl_records_become_documents(project):
    data = jsonl(
        [
            {"title": "A", "text": "The ministry said the strikes hit Idlib.", "outlet": "SANA"},
            {"title": "ب", "text": "قال المرصد إن الغارات أصابت إدلب.", "language": "ar"},
        ]
    )
    summary = import_file(project=project, filename="feed.jsonl", data=data)
    assert summary["documents"] == 2 and summary["articles"] == 2 and not summary["errors"]
    for claim in Claim.objects.filter(project=project).select_related("article__document"):
        assert claim.article.document.text[claim.start : claim.end] == claim.text
    assert Outlet.objects.filter(project=project, key="sana").exists()


def test_a_megabyte_line_without_punctuation_completes(project):
    data = ("word " * 210_000).encode()
    summary = import_file(project=project, filename="long.txt", data=data)
    assert not summary["errors"]
    doc = Document.objects.get(project=project)
    for claim in Claim.objects.filter(project=project):
        assert doc.text[claim.start : claim.end] == claim.text


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("empty.txt", b"", "empty"),
        ("nul.txt", b"abc\x00def", "NUL"),
        ("bad.txt", b"ok line\nbad \xc3\x28 byte\n", "UTF-8"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "PNG"),
        ("report.pdf", b"%PDF-1.4 ...", "wrong type"),
    ],
)
def test_bad_inputs_are_reported_and_store_nothing(project, name, data, needle):
    summary = import_file(project=project, filename=name, data=data)
    assert summary["errors"] and needle in summary["errors"][0]["message"]
    assert counts(project) == (0, 0, 0, 0, 0)


def test_filenames_are_sanitised():
    assert sanitise_filename("../../etc/pass\x00wd") == "passwd"
    assert sanitise_filename("C:\\Users\\x\\evil\u202etxt.exe") == "eviltxt.exe"
    assert sanitise_filename("") == "upload"


def test_queue_filter_is_honoured(project):
    project.queue_filter = Project.QueueFilter.LIKELY
    project.likelihood_threshold = 0.5
    project.save()
    import_paths(project=project, paths=[SAMPLE])
    excluded = Item.objects.filter(project=project, status="excluded")
    assert excluded.exists()
    assert all(i.claim.claim_likelihood < 0.5 for i in excluded.select_related("claim"))
    assert all(
        i.claim.claim_likelihood >= 0.5
        for i in Item.objects.filter(project=project, status="open").select_related("claim")
    )
