"""Completion, auto-settle, decisions with a trail, optimistic locking."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from annotations.models import Decision, Item
from annotations.services.adjudication import (
    Conflict,
    derived_gold,
    item_decide,
    item_reopen,
)
from tests.review.helpers import FACT, OPINION, PREDICTION, annotators, labelled_item

pytestmark = pytest.mark.django_db


def _set_auto(project, value=True):
    project.auto_settle = value
    project.save(update_fields=["auto_settle"])


def test_unanimous_item_auto_settles_when_the_project_allows(project):
    _set_auto(project)
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, FACT])
    item.refresh_from_db()
    assert item.status == "settled"
    assert item.gold == FACT
    decision = item.decisions.get()
    assert decision.action == "auto_settle" and decision.reviewer is None
    assert decision.after == FACT and item.version == decision.version == 1


def test_unanimous_item_goes_to_review_when_auto_settle_is_off(project):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, FACT])
    item.refresh_from_db()
    assert item.status == "review" and item.gold is None
    assert not item.decisions.exists()


def test_disagreement_on_a_required_field_goes_to_review(project):
    _set_auto(project)
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    item.refresh_from_db()
    assert item.status == "review" and item.gold is None
    assert item.aggregate["verifiability"]["share"] == 0.5
    assert item.uncertainty == pytest.approx(0.5)


def test_auto_settle_keeps_only_the_fields_everyone_agreed_on(project):
    _set_auto(project)
    a, b = annotators(project, 2)
    item = labelled_item(
        project,
        [a, b],
        [{**FACT, "loaded_language": True}, {**FACT, "loaded_language": False}],
    )
    item.refresh_from_db()
    assert item.status == "settled"
    assert item.gold == FACT
    assert "loaded_language" in item.decisions.get().note


def test_decide_settles_and_logs_the_trail(project, reviewer):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    decision = item_decide(item_id=item.pk, reviewer=reviewer, labels=OPINION, note="", version=0)
    item.refresh_from_db()
    assert item.status == "settled" and item.gold == OPINION and item.version == 1
    assert decision.before is None and decision.after == OPINION
    assert decision.reviewer == reviewer and decision.action == "decide"
    assert set(decision.changed_fields) == {"is_attributed", "verifiability"}
    assert decision.overrides_majority is False


def test_note_required_when_overriding_the_majority(project, reviewer):
    anns = annotators(project, 3)
    item = labelled_item(project, anns, [FACT, FACT, OPINION])
    with pytest.raises(ValidationError) as err:
        item_decide(item_id=item.pk, reviewer=reviewer, labels=PREDICTION, note=" ", version=0)
    assert "note" in err.value.message_dict
    item.refresh_from_db()
    assert item.status == "review" and item.version == 0 and not item.decisions.exists()
    decision = item_decide(
        item_id=item.pk, reviewer=reviewer, labels=PREDICTION, note="Future tense", version=0
    )
    assert decision.overrides_majority is True and decision.note == "Future tense"


def test_siding_with_the_majority_needs_no_note(project, reviewer):
    anns = annotators(project, 3)
    item = labelled_item(project, anns, [FACT, FACT, OPINION])
    decision = item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)
    assert decision.overrides_majority is False


def test_invalid_labels_are_refused_with_field_errors(project, reviewer):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    with pytest.raises(ValidationError) as err:
        item_decide(
            item_id=item.pk,
            reviewer=reviewer,
            labels={"is_attributed": "maybe"},
            note="x",
            version=0,
        )
    assert {"is_attributed", "verifiability"} <= set(err.value.message_dict)
    assert not Decision.objects.exists()


def test_stale_version_is_a_conflict_naming_the_other_decision(project, reviewer, admin):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)
    with pytest.raises(Conflict) as err:
        item_decide(item_id=item.pk, reviewer=admin, labels=OPINION, note="", version=0)
    assert err.value.latest.reviewer == reviewer and err.value.latest.after == FACT
    assert reviewer.username in str(err.value)
    item.refresh_from_db()
    assert item.gold == FACT and item.decisions.count() == 1


def test_reopen_and_decide_again_keeps_gold_equal_to_newest_entry(project, reviewer, admin):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    steps = [
        lambda v: item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=v),
        lambda v: item_reopen(item_id=item.pk, reviewer=admin, note="Check the source", version=v),
        lambda v: item_decide(item_id=item.pk, reviewer=admin, labels=OPINION, note="", version=v),
        lambda v: item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=v),
    ]
    for version, step in enumerate(steps):
        step(version)
        item.refresh_from_db()
        newest = item.decisions.order_by("-version").first()
        assert item.version == newest.version == version + 1
        assert item.gold == newest.after == derived_gold(item.pk)
    trail = list(item.decisions.order_by("version").values_list("action", "before", "after"))
    assert trail == [
        ("decide", None, FACT),
        ("reopen", FACT, None),
        ("decide", None, OPINION),
        ("decide", OPINION, FACT),
    ]
    assert item.status == "settled"


def test_reopen_needs_a_note_and_a_settled_item(project, reviewer):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    with pytest.raises(ValidationError):
        item_reopen(item_id=item.pk, reviewer=reviewer, note="", version=0)
    with pytest.raises(ValidationError):
        item_reopen(item_id=item.pk, reviewer=reviewer, note="why", version=0)


def test_items_not_yet_complete_cannot_be_decided(project, reviewer):
    from tests.review.helpers import make_item

    item = make_item(project)
    with pytest.raises(ValidationError):
        item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)


def test_decision_versions_are_unique_in_the_database(project, reviewer):
    from django.db import IntegrityError, transaction

    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(item=item, reviewer=reviewer, action="decide", version=1)


@pytest.mark.postgres
def test_two_reviewers_at_once_one_wins_the_other_conflicts(project, reviewer, admin):
    a, b = annotators(project, 2)
    rounds = 5
    items = [labelled_item(project, [a, b], [FACT, OPINION]) for _ in range(rounds)]
    for item in items:
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def decide(user, labels, item_id=item.pk, barrier=barrier, outcomes=outcomes, lock=lock):
            try:
                barrier.wait(timeout=10)
                item_decide(item_id=item_id, reviewer=user, labels=labels, note="n", version=0)
                result = "won"
            except Conflict:
                result = "conflict"
            finally:
                connection.close()
            with lock:
                outcomes.append(result)

        threads = [
            threading.Thread(target=decide, args=(reviewer, FACT)),
            threading.Thread(target=decide, args=(admin, OPINION)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["conflict", "won"]
        fresh = Item.objects.get(pk=item.pk)
        assert fresh.version == 1 and fresh.decisions.count() == 1
        assert fresh.gold == fresh.decisions.get().after
