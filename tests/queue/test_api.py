"""The annotators' API: leases, submits (idempotent, 409 on re-leased), skip, own labels, and
blindness of every response."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Assignment, Item, Label
from annotations.services.labels import label_submit
from annotations.services.projects import project_update
from annotations.services.queue import item_lease_next
from tests.queue.helpers import (
    ATTRIBUTED_LABELS,
    GOOD_LABELS,
    PAIR_LABELS,
    make_article,
    make_claims,
    make_pairs,
)

pytestmark = pytest.mark.django_db

FORBIDDEN_WORDS = ("n_done", "n_leased", "annotator", "bob_annotator", "ann_annotator")


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def lease(client, slug="alpha", **body):
    return client.post(f"/api/v1/projects/{slug}/leases/", body, format="json")


def post_labels(client, lease_id, labels, key="key-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        f"/api/v1/leases/{lease_id}/labels/", {"labels": labels, **extra}, format="json", **headers
    )


def assert_blind(response, *other_values: str) -> None:
    text = response.content.decode()
    for word in FORBIDDEN_WORDS:
        assert word not in text, f"{word!r} leaked in {text[:300]}"
    for value in other_values:
        assert value not in text


def test_lease_returns_claim_with_article_and_context(project, annotator):
    claims = make_article(project, ["First one.", "Second one.", "Third one.", "Fourth one."])
    from annotations.services.items import items_create_for_claims

    items_create_for_claims(project=project, claims=claims)
    response = lease(api(annotator))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"lease", "claim", "suggestion"}
    assert set(body["lease"]) == {"id", "expires_at"}
    claim = body["claim"]
    assert claim["text"] == "First one." and claim["id"] == claims[0].pk
    assert set(claim["article"]) == {"id", "title", "outlet", "published", "language"}
    assert claim["article"]["outlet"] == "Example News"
    assert [c["is_target"] for c in claim["context"]] == [True, False, False]
    assert response["Server-Timing"].startswith("app;dur=")
    assert_blind(response)


def test_lease_204_when_nothing_left_and_roles(project, annotator, reviewer, outsider):
    assert lease(api(annotator)).status_code == 204
    assert lease(api(reviewer)).status_code == 403
    assert lease(api(outsider)).status_code == 404
    assert lease(api()).status_code in (401, 403)
    assert lease(api(annotator), kind="bogus").status_code == 400


def test_pair_lease(project, annotator):
    make_pairs(project, 1)
    response = lease(api(annotator), kind="pair")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"lease", "pair"}
    assert body["pair"]["a"]["text"] and body["pair"]["b"]["text"]
    sub = post_labels(api(annotator), body["lease"]["id"], PAIR_LABELS)
    assert sub.status_code == 201, sub.content


def test_submit_replay_and_errors(project, annotator, annotator_b):
    make_claims(project, 2)
    client = api(annotator)
    lease_id = lease(client).json()["lease"]["id"]
    assert post_labels(client, lease_id, GOOD_LABELS, key="").status_code == 400
    bad = post_labels(client, lease_id, {"is_attributed": "x"}, key="bad")
    assert bad.status_code == 400 and "is_attributed" in bad.json()["labels"]
    first = post_labels(client, lease_id, GOOD_LABELS, key="abc", seconds=3)
    assert first.status_code == 201, first.content
    replay = post_labels(client, lease_id, ATTRIBUTED_LABELS, key="abc", seconds=3)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert Label.objects.count() == 1
    again = post_labels(client, lease_id, GOOD_LABELS, key="other")
    assert again.status_code == 409
    # Another user's lease is 404 for the caller, and reusing a key elsewhere is 409.
    other_lease = lease(api(annotator_b)).json()["lease"]["id"]
    assert post_labels(client, other_lease, GOOD_LABELS, key="zz").status_code == 404
    assert post_labels(api(annotator_b), other_lease, GOOD_LABELS, key="abc").status_code == 409
    assert post_labels(client, 999999, GOOD_LABELS).status_code == 404
    not_json = client.post(
        f"/api/v1/leases/{lease_id}/labels/",
        "[1]",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="q",
    )
    assert not_json.status_code == 400


def test_409_when_expired_lease_went_to_someone_else(project, annotator, annotator_b):
    project_update(project=project, overlap=1)
    make_claims(project, 1)
    client = api(annotator)
    lease_id = lease(client).json()["lease"]["id"]
    Assignment.objects.filter(pk=lease_id).update(expires_at=timezone.now() - timedelta(1))
    Item.objects.update(next_expiry=timezone.now() - timedelta(1))
    assert lease(api(annotator_b)).status_code == 201
    response = post_labels(client, lease_id, GOOD_LABELS)
    assert response.status_code == 409
    assert "given to another annotator" in response.json()["detail"]
    assert not Label.objects.filter(annotator=annotator).exists()


def test_expired_untaken_lease_accepted(project, annotator):
    make_claims(project, 1)
    client = api(annotator)
    lease_id = lease(client).json()["lease"]["id"]
    Assignment.objects.filter(pk=lease_id).update(expires_at=timezone.now() - timedelta(1))
    assert post_labels(client, lease_id, GOOD_LABELS).status_code == 201


def test_skip(project, annotator):
    make_claims(project, 2)
    client = api(annotator)
    lease_id = lease(client).json()["lease"]["id"]
    url = f"/api/v1/leases/{lease_id}/skip/"
    assert client.post(url, {}, format="json").status_code == 400
    response = client.post(url, {"reason": "not a sentence"}, format="json")
    assert response.json() == {"id": lease_id, "state": "skipped"}
    assert client.post(url, {"reason": "again"}, format="json").status_code == 409
    assert lease(client).json()["lease"]["id"] != lease_id


def test_own_labels_list_and_edit(project, annotator, annotator_b):
    make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    b = item_lease_next(project=project, user=annotator_b)
    mine, _ = label_submit(assignment=a, user=annotator, values=GOOD_LABELS, idempotency_key="1")
    theirs, _ = label_submit(
        assignment=b, user=annotator_b, values=ATTRIBUTED_LABELS, idempotency_key="2"
    )
    client = api(annotator)
    listing = client.get("/api/v1/projects/alpha/labels/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [mine.pk]
    assert_blind(listing, "official_foreign")
    assert client.get("/api/v1/projects/alpha/labels/?bogus=1").status_code == 400
    assert client.get(f"/api/v1/labels/{theirs.pk}/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/labels/{theirs.pk}/", {"labels": GOOD_LABELS}, format="json"
        ).status_code
        == 404
    )
    edit = client.patch(
        f"/api/v1/labels/{mine.pk}/",
        {"labels": {**GOOD_LABELS, "verifiability": "prediction"}},
        format="json",
    )
    assert edit.status_code == 200, edit.content
    assert edit.json()["label"]["values"]["verifiability"] == "prediction"
    assert_blind(edit, "official_foreign")
    bad = client.patch(f"/api/v1/labels/{mine.pk}/", {"labels": {}}, format="json")
    assert bad.status_code == 400
    Item.objects.update(status="settled")
    locked = client.put(f"/api/v1/labels/{mine.pk}/", {"labels": GOOD_LABELS}, format="json")
    assert locked.status_code == 409


def test_blind_after_another_annotator_labelled(project, annotator, annotator_b):
    make_claims(project, 1)
    b = item_lease_next(project=project, user=annotator_b)
    label_submit(
        assignment=b,
        user=annotator_b,
        values={**ATTRIBUTED_LABELS, "source_type": "armed_group"},
        idempotency_key="b1",
    )
    client = api(annotator)
    response = lease(client)
    assert response.status_code == 201
    assert_blind(response, "armed_group")
    lease_id = response.json()["lease"]["id"]
    submit = post_labels(client, lease_id, GOOD_LABELS)
    assert_blind(submit, "armed_group")
    assert_blind(post_labels(client, lease_id, GOOD_LABELS), "armed_group")  # replay
    assert_blind(client.get("/api/v1/projects/alpha/labels/"), "armed_group")
    assert json.loads(submit.content)["label"]["values"] == GOOD_LABELS


def test_suggestion_in_lease_when_shown(project, annotator):
    (item,) = make_claims(project, 1)
    item.claim.suggestion = {"labels": GOOD_LABELS, "confidence": {}, "source": "rules"}
    item.claim.save()
    body = lease(api(annotator)).json()
    assert body["suggestion"] == {"labels": GOOD_LABELS, "source": "rules"}
