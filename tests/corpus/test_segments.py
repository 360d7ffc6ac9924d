"""Admins' boundary fixes: split and merge keep offsets exact and items in step."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment, Claim, Item, SegmentFix
from annotations.services.imports import import_file
from annotations.services.segments import SegmentFixError, claim_merge, claim_split

from .helpers import ARTICLE_EN, ARTICLE_EN_2

pytestmark = pytest.mark.django_db


@pytest.fixture
def article_claims(project):
    import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    return list(Claim.objects.filter(project=project).order_by("position"))


def check_exact(project):
    claims = list(Claim.objects.filter(project=project).select_related("article__document"))
    for claim in claims:
        assert claim.article.document.text[claim.start : claim.end] == claim.text
    by_article: dict[int, list[int]] = {}
    for claim in claims:
        by_article.setdefault(claim.article_id, []).append(claim.position)
    for positions in by_article.values():
        assert sorted(positions) == list(range(len(positions)))
    assert Item.objects.filter(project=project).count() == len(claims)


def test_split_then_merge_restores_the_unit(project, admin, article_claims):
    body = next(c for c in article_claims if c.text.startswith("The ministry said"))
    original = (body.start, body.end, body.text)
    n = len(article_claims)
    cut = body.text.index(" that ")
    first, second = claim_split(claim=body, offset=body.start + cut, user=admin)
    assert first.text == "The ministry said on Monday" and second.text.startswith("that airstrikes")
    assert second.position == first.position + 1
    assert Claim.objects.filter(project=project).count() == n + 1
    assert Item.objects.filter(claim=second).exists()
    check_exact(project)
    merged = claim_merge(claim=first, user=admin)
    assert (merged.start, merged.end, merged.text) == original
    assert Claim.objects.filter(project=project).count() == n
    check_exact(project)
    assert list(SegmentFix.objects.values_list("action", flat=True).order_by("id")) == [
        "split",
        "merge",
    ]


def test_bad_split_points_are_refused(admin, article_claims):
    claim = article_claims[2]
    for offset in (claim.start, claim.end, claim.end + 5):
        with pytest.raises(SegmentFixError):
            claim_split(claim=claim, offset=offset, user=admin)
    with pytest.raises(SegmentFixError):
        claim_merge(claim=article_claims[-1], user=admin)
    assert not SegmentFix.objects.exists()


def test_fixes_are_refused_once_annotation_started(project, admin, annotator, article_claims):
    claim = article_claims[2]
    item = claim.item
    now = timezone.now()
    Assignment.objects.create(item=item, annotator=annotator, leased_at=now, expires_at=now)
    Item.objects.filter(pk=item.pk).update(n_leased=1)
    with pytest.raises(SegmentFixError):
        claim_split(claim=claim, offset=claim.start + 5, user=admin)
    with pytest.raises(SegmentFixError):
        claim_merge(claim=article_claims[1], user=admin)  # the next one is leased
    assert not SegmentFix.objects.exists()
    check_exact(project)


def test_fix_pages_admin_only(client_for, project, admin, reviewer, article_claims):
    claim = article_claims[2]
    url = reverse("claim-split", args=[project.slug, claim.pk])
    assert client_for(reviewer).post(url, {"offset": "5"}).status_code == 403
    client = client_for(admin)
    assert client.post(url, {"offset": "x"}).status_code == 400
    response = client.post(url, {"offset": str(claim.text.index(" that "))})
    assert response.status_code == 302
    assert SegmentFix.objects.filter(action="split").count() == 1
    merge = reverse("claim-merge", args=[project.slug, claim.pk])
    assert client.post(merge).status_code == 302
    check_exact(project)


def test_reimport_does_not_undo_a_fix(project, admin, article_claims):
    claim = article_claims[2]
    claim_split(claim=claim, offset=claim.start + claim.text.index(" that "), user=admin)
    fixed = list(Claim.objects.filter(article=claim.article).values_list("start", "end", "text"))
    import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    repost = import_file(
        project=project, filename="b.txt", data=(ARTICLE_EN_2 + "\n\n" + ARTICLE_EN).encode()
    )
    assert repost["duplicates"] == 1
    after = list(Claim.objects.filter(article=claim.article).values_list("start", "end", "text"))
    assert after == fixed
    assert Claim.objects.filter(project=project, text="The ministry said on Monday").count() == 1
