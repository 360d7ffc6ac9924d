"""Suggestions never reach the gold without a human decision: settling copies annotators'
submitted labels (auto-settle) or a reviewer's decision, never Claim.suggestion."""

from __future__ import annotations

import uuid

import pytest

from annotations.models import Item, Label, Project
from annotations.services.adjudication import item_decide
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next
from annotations.services.suggestions import model_train
from tests.suggestions.helpers import adjudicated, make_open_items

pytestmark = pytest.mark.django_db

SUGGESTED = {
    "is_attributed": True,
    "source_type": "expert",
    "commitment": "asserts",
    "verifiability": "opinion",
    "loaded_language": True,
}
THEIRS = {"is_attributed": False, "verifiability": "checkable_fact"}


@pytest.fixture
def auto_project(project):
    Project.objects.filter(pk=project.pk).update(auto_settle=True, suggestions="on")
    project.refresh_from_db()
    return project


def _item_with_suggestion(project: Project) -> Item:
    item = make_open_items(project, ["opinion"])[0]
    item.claim.suggestion = {"labels": SUGGESTED, "confidence": {}, "source": "rules"}
    item.claim.save(update_fields=["suggestion"])
    return item


def _submit(project, user, values):
    lease = item_lease_next(project=project, user=user)
    assert lease is not None and lease.suggestions_shown
    label, _ = label_submit(
        assignment=lease, user=user, values=values, idempotency_key=uuid.uuid4().hex
    )
    return label


def test_auto_settle_takes_the_annotators_labels_not_the_suggestion(
    auto_project, annotator, annotator_b
):
    item = _item_with_suggestion(auto_project)
    _submit(auto_project, annotator, THEIRS)
    _submit(auto_project, annotator_b, THEIRS)
    item.refresh_from_db()
    assert item.status == "settled"
    assert item.gold == THEIRS
    suggestion_only = set(SUGGESTED.items()) - set(THEIRS.items())
    assert suggestion_only and not suggestion_only & set(item.gold.items())
    assert Label.objects.filter(item=item, suggested=True, accepted=False).count() == 2


def test_disagreement_leaves_gold_empty_until_a_reviewer_decides(
    auto_project, annotator, annotator_b, reviewer
):
    item = _item_with_suggestion(auto_project)
    _submit(auto_project, annotator, THEIRS)
    _submit(auto_project, annotator_b, {"is_attributed": False, "verifiability": "prediction"})
    item.refresh_from_db()
    assert item.status == "review" and item.gold is None
    decided = {"is_attributed": False, "verifiability": "prediction"}
    item_decide(item_id=item.pk, reviewer=reviewer, labels=decided, version=item.version)
    item.refresh_from_db()
    assert item.gold == decided
    assert item.decisions.get().reviewer == reviewer


def test_without_auto_settle_agreement_still_waits_for_review(project, annotator, annotator_b):
    Project.objects.filter(pk=project.pk).update(auto_settle=False, suggestions="on")
    project.refresh_from_db()
    item = _item_with_suggestion(project)
    _submit(project, annotator, SUGGESTED)
    _submit(project, annotator_b, SUGGESTED)
    item.refresh_from_db()
    assert item.status == "review" and item.gold is None


def test_suggestion_reaches_gold_only_when_annotators_submitted_it(
    auto_project, annotator, annotator_b
):
    item = _item_with_suggestion(auto_project)
    _submit(auto_project, annotator, SUGGESTED)
    _submit(auto_project, annotator_b, SUGGESTED)
    item.refresh_from_db()
    assert item.status == "settled" and item.gold == SUGGESTED
    labels = Label.objects.filter(item=item)
    assert all(lab.suggested and lab.accepted for lab in labels)
    assert item.decisions.get().action == "auto_settle"


def test_training_and_uncertainty_never_touch_gold(project):
    settled = adjudicated(project, per_class=17)
    open_items = make_open_items(project, ["opinion", "prediction"])
    before = dict(Item.objects.filter(project=project).values_list("pk", "gold"))
    model_train(project=project)
    after = dict(Item.objects.filter(project=project).values_list("pk", "gold"))
    assert before == after
    assert all(after[i.pk] is None for i in open_items)
    assert all(after[i.pk] is not None for i in settled)
