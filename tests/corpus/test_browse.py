"""Browsing: documents, articles, claims pages and the corpus API (lists, detail, search,
filters, permissions)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Article, Claim, Document
from annotations.services.imports import import_file

from .helpers import ARTICLE_EN, ARTICLE_EN_2, SAMPLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(project):
    import_file(project=project, filename="sample.txt", data=SAMPLE.read_bytes())
    import_file(
        project=project, filename="two.txt", data=(ARTICLE_EN + "\n\n" + ARTICLE_EN_2).encode()
    )
    return project


def api(slug: str, what: str) -> str:
    return f"/api/v1/projects/{slug}/{what}/"


def test_pages_for_reviewers(client_for, reviewer, corpus):
    client = client_for(reviewer)
    slug = corpus.slug
    response = client.get(reverse("documents", args=[slug]))
    assert response.status_code == 200 and "sample.txt" in response.content.decode()
    document = Document.objects.get(name="sample.txt")
    html = client.get(reverse("document", args=[slug, document.pk])).content.decode()
    assert html.count(reverse("article", args=[slug, 0])[:-2]) >= 23
    arabic = Article.objects.filter(project=corpus, language="ar").first()
    page = client.get(reverse("article", args=[slug, arabic.pk]))
    html = page.content.decode()
    assert 'dir="rtl"' in html
    for claim in arabic.claims.all()[:5]:
        assert f'id="c{claim.pk}"' in html
    assert "claim-split" not in html and "Merge with next" not in html  # reviewer: no fixes
    claims = client.get(reverse("claims", args=[slug]), {"q": "Idlib", "unit_kind": "body"})
    assert claims.status_code == 200 and "Idlib" in claims.content.decode()
    assert client.get(reverse("claims", args=[slug]), {"article": "x"}).status_code == 400


def test_search_counts_matches_only_up_to_the_cap(client_for, reviewer, corpus, monkeypatch):
    """A common word in a large project is not counted in full: past the cap the pager says
    "more than" instead of a number, and the first pages still list the newest matches."""
    from annotations.views.corpus import PAGE_SIZE, CappedPaginator

    matches = Claim.objects.filter(project=corpus, text__icontains="the").count()
    assert matches > 3 * PAGE_SIZE // 2
    monkeypatch.setattr(CappedPaginator, "cap", PAGE_SIZE + 1)
    client = client_for(reviewer)
    page = client.get(reverse("claims", args=[corpus.slug]), {"q": "the"})
    assert page.context["page"].paginator.capped is True
    assert f"more than {PAGE_SIZE + 1}" in page.content.decode()
    assert len(page.context["page"].object_list) == PAGE_SIZE
    monkeypatch.setattr(CappedPaginator, "cap", 100_000)
    page = client.get(reverse("claims", args=[corpus.slug]), {"q": "the"})
    assert page.context["page"].paginator.capped is False
    assert page.context["page"].paginator.count == matches


def test_article_page_shows_fix_forms_to_admins(client_for, admin, corpus):
    article = Article.objects.filter(project=corpus).first()
    html = client_for(admin).get(reverse("article", args=[corpus.slug, article.pk])).content
    assert b"Merge with next" in html and b'name="offset"' in html


def test_pages_refuse_annotators_and_outsiders(client_for, annotator, outsider, corpus):
    article = Article.objects.filter(project=corpus).first()
    document = Document.objects.filter(project=corpus).first()
    urls = [
        reverse("documents", args=[corpus.slug]),
        reverse("document", args=[corpus.slug, document.pk]),
        reverse("article", args=[corpus.slug, article.pk]),
        reverse("claims", args=[corpus.slug]),
    ]
    for user, expected in ((annotator, 403), (outsider, 404)):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == expected, url


def test_api_lists_and_details(client_for, reviewer, corpus):
    client = client_for(reviewer)
    documents = client.get(api(corpus.slug, "documents")).json()["results"]
    assert {d["name"] for d in documents} == {"sample.txt", "two.txt"}
    sample = next(d for d in documents if d["name"] == "sample.txt")
    assert sample["articles"] == 23
    detail = client.get(api(corpus.slug, "documents") + f"{sample['id']}/").json()
    assert detail["text"].startswith(SAMPLE.read_bytes().decode("utf-8-sig")[:50])
    articles = client.get(api(corpus.slug, "articles"), {"language": "ar"}).json()["results"]
    assert articles and all(a["language"] == "ar" for a in articles)
    article = client.get(api(corpus.slug, "articles") + f"{articles[0]['id']}/").json()
    assert article["units"] and article["units"][0]["position"] == 0
    claims = client.get(api(corpus.slug, "claims"), {"page_size": 500}).json()["results"]
    one = claims[0]
    assert set(one) >= {"id", "article", "start", "end", "text", "state", "unit_kind"}
    assert one["state"] == "open"
    text = Document.objects.get(pk=one["document"]).text
    assert text[one["start"] : one["end"]] == one["text"]
    claim = client.get(api(corpus.slug, "claims") + f"{one['id']}/").json()
    assert claim["id"] == one["id"]


def test_api_claim_search_and_filters(client_for, reviewer, corpus):
    client = client_for(reviewer)
    url = api(corpus.slug, "claims")
    found = client.get(url, {"q": "airstrikes hit three", "page_size": 500}).json()["results"]
    assert [c["text"] for c in found] == [
        next(c.text for c in Claim.objects.filter(text__contains="airstrikes hit three"))
    ]
    arabic = client.get(url, {"q": "إدلب", "language": "ar", "page_size": 500}).json()
    assert arabic["results"] and all("إدلب" in c["text"] for c in arabic["results"])
    article = Article.objects.filter(project=corpus).first()
    scoped = client.get(url, {"article": article.pk, "page_size": 500}).json()["results"]
    assert {c["article"]["id"] for c in scoped} == {article.pk}
    assert len(scoped) == article.claims.count()
    kinds = client.get(url, {"unit_kind": "headline", "page_size": 500}).json()["results"]
    assert kinds and {c["unit_kind"] for c in kinds} == {"headline"}
    outlet = article.outlet_id
    if outlet:
        by_outlet = client.get(url, {"outlet": outlet, "page_size": 500}).json()["results"]
        assert by_outlet
    states = client.get(url, {"state": "settled"}).json()["results"]
    assert states == []
    for bad in ({"text__icontains": "x"}, {"article__project": 1}, {"nope": 1}):
        assert client.get(url, bad).status_code == 400
    assert client.get(url, {"page_size": 10**9}).status_code == 400
    assert client.get(url, {"article": "abc"}).status_code == 400
    assert client.get(url, {"q": "a\x00b"}).status_code == 400


def test_api_permissions(client_for, annotator, outsider, admin, corpus):
    document = Document.objects.filter(project=corpus).first()
    claim = Claim.objects.filter(project=corpus).first()
    urls = [
        api(corpus.slug, "documents"),
        api(corpus.slug, "documents") + f"{document.pk}/",
        api(corpus.slug, "articles"),
        api(corpus.slug, "claims"),
        api(corpus.slug, "claims") + f"{claim.pk}/",
    ]
    for user, expected in ((annotator, 403), (outsider, 404)):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == expected, url
    assert client_for(admin).get(urls[-1]).status_code == 200
    # another project's claim is not reachable through this project
    assert client_for(outsider).get(f"/api/v1/projects/beta/claims/{claim.pk}/").status_code == 404
