"""GET /api/v1/claims/{id}/suggestions/: shape, who may ask, and model-over-rules."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotations.models import Assignment, Item, Membership, Project
from annotations.services.queue import item_lease_next
from annotations.services.suggestions import latest_model, load_model, model_train
from annotations.suggest import suggest_labels
from tests.suggestions.helpers import adjudicated, make_open_items

pytestmark = pytest.mark.django_db


def url(claim_id: int) -> str:
    return f"/api/v1/claims/{claim_id}/suggestions/"


@pytest.fixture
def item(project) -> Item:
    item = make_open_items(project, ["checkable_fact"])[0]
    claim = item.claim
    claim.suggestion = suggest_labels(claim.text, claim.language).to_dict()
    claim.save(update_fields=["suggestion"])
    return item


def test_shape_for_a_reviewer(client_for, reviewer, item):
    response = client_for(reviewer).get(url(item.claim_id))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"labels", "confidence", "source"}
    assert body["source"] == "rules"
    assert body["labels"] == item.claim.suggestion["labels"]
    assert body["labels"]["verifiability"] in {
        "checkable_fact", "opinion", "prediction", "rhetoric_nonclaim", "cannot_judge"
    }  # fmt: skip
    assert all(0 <= v <= 1 for v in body["confidence"].values())
    assert set(body["confidence"]) <= set(body["labels"])


def test_rules_computed_when_none_stored(client_for, admin, project):
    item = make_open_items(project, ["opinion"])[0]
    assert item.claim.suggestion is None
    body = client_for(admin).get(url(item.claim_id)).json()
    assert body["source"] == "rules"
    assert body["labels"] == suggest_labels(item.claim.text, "en").to_dict()["labels"]


def test_outsider_and_unknown_claim_get_404(client_for, outsider, reviewer, item):
    assert client_for(outsider).get(url(item.claim_id)).status_code == 404
    assert client_for(reviewer).get(url(item.claim_id + 10_000)).status_code == 404


def test_anonymous_is_refused(client, item):
    assert client.get(url(item.claim_id)).status_code in (401, 403)


def test_annotator_only_for_claims_they_hold_or_labelled(client_for, project, annotator, item):
    api = client_for(annotator)
    response = api.get(url(item.claim_id))
    assert response.status_code == 403
    assert "lease" in response.json()["detail"]
    lease = item_lease_next(project=project, user=annotator)
    assert lease is not None and lease.item_id == item.pk
    assert api.get(url(item.claim_id)).status_code == 200
    Assignment.objects.filter(pk=lease.pk).update(state=Assignment.State.SUBMITTED)
    assert api.get(url(item.claim_id)).status_code == 200
    # A lease that went to someone else no longer counts.
    Assignment.objects.filter(pk=lease.pk).update(state=Assignment.State.RECLAIMED)
    assert api.get(url(item.claim_id)).status_code == 403


def test_annotator_b_cannot_see_a_claim_only_a_holds(client_for, project, annotator, annotator_b):
    item = make_open_items(project, ["opinion"])[0]
    item_lease_next(project=project, user=annotator)
    assert client_for(annotator_b).get(url(item.claim_id)).status_code == 403


def test_control_arm_and_suggestions_off_cannot_fetch(client_for, project, annotator, item):
    item_lease_next(project=project, user=annotator)
    api = client_for(annotator)
    Project.objects.filter(pk=project.pk).update(suggestions="half")
    Membership.objects.filter(project=project, user=annotator).update(suggestions_arm=False)
    assert api.get(url(item.claim_id)).status_code == 403
    Membership.objects.filter(project=project, user=annotator).update(suggestions_arm=True)
    assert api.get(url(item.claim_id)).status_code == 200
    Project.objects.filter(pk=project.pk).update(suggestions="off")
    assert api.get(url(item.claim_id)).status_code == 403


def test_suggestion_never_carries_other_annotators_labels(client_for, project, annotator, item):
    """Another annotator's submitted labels for the claim do not change what is served."""
    from tests.review.helpers import add_label, annotators

    before = client_for(annotator).get(url(item.claim_id))
    assert before.status_code == 403  # not held yet
    item_lease_next(project=project, user=annotator)
    served = client_for(annotator).get(url(item.claim_id)).json()
    other = annotators(project, 1, prefix="other")[0]
    add_label(item, other, {"is_attributed": True, "verifiability": "prediction"})
    again = client_for(annotator).get(url(item.claim_id)).json()
    assert again == served


def test_model_replaces_rule_verifiability_once_trained(client_for, reviewer, project):
    adjudicated(project, per_class=20)
    item = make_open_items(project, ["prediction"])[0]
    claim = item.claim
    rules = suggest_labels(claim.text, claim.language).to_dict()
    claim.suggestion = rules
    claim.save(update_fields=["suggestion"])
    api = client_for(reviewer)
    assert api.get(url(claim.pk)).json()["source"] == "rules"

    model_train(project=project)
    body = api.get(url(claim.pk)).json()
    assert body["source"] == "model"
    proba = load_model(latest_model(project)).proba_dicts([claim.text])[0]
    best = max(proba, key=proba.get)
    assert body["labels"]["verifiability"] == best == "prediction"
    assert body["confidence"]["verifiability"] == pytest.approx(proba[best], abs=1e-3)
    # The attribution part is still the stored rule suggestion.
    for name in ("is_attributed", "loaded_language"):
        assert body["labels"][name] == rules["labels"][name]
    # Conditions hold: no claim types unless checkable fact.
    assert "claim_types" not in body["labels"]
    assert timezone.is_aware(latest_model(project).created_at)
