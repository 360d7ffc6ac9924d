"""Queue and label rules, on whichever database the run uses (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.models import Assignment, Item, Label, LabelRevision, Project
from annotations.services.labels import (
    IdempotencyConflict,
    LabelInvalid,
    LabelLocked,
    LeaseConflict,
    label_edit,
    label_submit,
    label_undo_last,
)
from annotations.services.projects import project_update
from annotations.services.queue import (
    MAX_ACTIVE_LEASES,
    QueueError,
    item_lease_next,
    lease_expire_sweep,
    lease_release,
    lease_skip,
)
from tests.factories import make_user
from tests.queue.helpers import ATTRIBUTED_LABELS, GOOD_LABELS, make_claims, make_pairs

pytestmark = pytest.mark.django_db


def submit(assignment, user, key, values=GOOD_LABELS, **kw):
    return label_submit(assignment=assignment, user=user, values=values, idempotency_key=key, **kw)


def test_leases_follow_article_order_and_never_repeat_for_a_user(project, annotator):
    items = make_claims(project, 4)
    got = [item_lease_next(project=project, user=annotator).item_id for _ in range(4)]
    assert got == [i.pk for i in items]
    # Below the cap (4 < 5) and nothing new left for this user: None, no extra row.
    assert item_lease_next(project=project, user=annotator) is None
    assert Assignment.objects.filter(annotator=annotator).count() == 4


def test_nothing_left_returns_none(project, annotator):
    assert item_lease_next(project=project, user=annotator) is None


def test_overlap_k_fills_then_item_is_full(project, annotator, annotator_b):
    (item,) = make_claims(project, 1)
    third = make_user("cat_annotator", "annotator", project)
    a = item_lease_next(project=project, user=annotator)
    b = item_lease_next(project=project, user=annotator_b)
    assert a.item_id == b.item_id == item.pk
    item.refresh_from_db()
    assert (item.n_leased, item.n_done, item.status) == (2, 0, "full")
    assert item.next_expiry == min(a.expires_at, b.expires_at)
    assert item_lease_next(project=project, user=third) is None


def test_lease_sets_expiry_from_project(project, annotator):
    make_claims(project, 1)
    now = timezone.now()
    a = item_lease_next(project=project, user=annotator, now=now)
    assert a.expires_at == now + timedelta(seconds=project.lease_seconds)
    assert a.state == "leased"


def test_two_tabs_get_two_items_and_cap_returns_oldest(project, annotator):
    make_claims(project, MAX_ACTIVE_LEASES + 2)
    leases = [item_lease_next(project=project, user=annotator) for _ in range(MAX_ACTIVE_LEASES)]
    assert len({a.item_id for a in leases}) == MAX_ACTIVE_LEASES
    again = item_lease_next(project=project, user=annotator)
    assert again.pk == leases[0].pk
    assert Assignment.objects.filter(annotator=annotator).count() == MAX_ACTIVE_LEASES


def test_random_order_uses_order_key(project, annotator):
    project_update(project=project, queue_order=Project.QueueOrder.RANDOM)
    items = make_claims(project, 6)
    keys = [i.order_key for i in items]
    assert keys == sorted(keys) and keys != sorted(i.claim_id for i in items)
    first = item_lease_next(project=project, user=annotator)
    assert first.item_id == items[0].pk


def test_uncertain_order_takes_highest_uncertainty(project, annotator):
    project_update(project=project, queue_order=Project.QueueOrder.UNCERTAIN)
    items = make_claims(project, 3)
    Item.objects.filter(pk=items[1].pk).update(uncertainty=0.9)
    Item.objects.filter(pk=items[2].pk).update(uncertainty=0.5)
    got = [item_lease_next(project=project, user=annotator).item_id for _ in range(3)]
    assert got == [items[1].pk, items[2].pk, items[0].pk]


def test_only_open_items_are_leased(project, annotator):
    items = make_claims(project, 3)
    Item.objects.filter(pk=items[0].pk).update(status="excluded")
    Item.objects.filter(pk=items[1].pk).update(status="settled")
    assert item_lease_next(project=project, user=annotator).item_id == items[2].pk
    assert item_lease_next(project=project, user=annotator) is None


def test_gold_items_are_mixed_in_unannounced(project, annotator):
    items = make_claims(project, 2)
    Item.objects.filter(pk=items[0].pk).update(is_gold=True)
    assert item_lease_next(project=project, user=annotator).item_id == items[0].pk


def test_expired_lease_is_reclaimed_lazily_by_the_next_lease(project, annotator, annotator_b):
    project_update(project=project, overlap=1)
    (item,) = make_claims(project, 1)
    now = timezone.now()
    a = item_lease_next(project=project, user=annotator, now=now)
    assert item_lease_next(project=project, user=annotator_b, now=now) is None
    later = now + timedelta(seconds=project.lease_seconds + 1)
    b = item_lease_next(project=project, user=annotator_b, now=later)
    assert b.item_id == item.pk
    a.refresh_from_db()
    item.refresh_from_db()
    assert a.state == "reclaimed"
    assert (item.n_leased, item.status) == (1, "full")
    assert item.next_expiry == b.expires_at
    with pytest.raises(LeaseConflict, match="given to another annotator"):
        submit(a, annotator, "late-key", now=later)
    assert not Label.objects.filter(annotator=annotator).exists()


def test_expired_but_untaken_lease_is_still_accepted(project, annotator):
    (item,) = make_claims(project, 1)
    now = timezone.now()
    a = item_lease_next(project=project, user=annotator, now=now)
    label, created = submit(a, annotator, "k", now=now + timedelta(days=1))
    assert created and label.values == GOOD_LABELS
    item.refresh_from_db()
    assert (item.n_done, item.n_leased) == (1, 0)


def test_submit_updates_counts_states_and_revision(project, annotator, annotator_b):
    (item,) = make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    label, created = submit(a, annotator, "key-1", seconds=4.5)
    assert created
    a.refresh_from_db()
    item.refresh_from_db()
    assert a.state == "submitted" and a.finished_at is not None
    assert (item.n_done, item.n_leased, item.status) == (1, 0, "open")
    assert label.seconds == 4.5 and label.schema_version.version == 1
    assert list(label.revisions.values_list("values", flat=True)) == [GOOD_LABELS]
    b = item_lease_next(project=project, user=annotator_b)
    submit(b, annotator_b, "key-2")
    item.refresh_from_db()
    assert (item.n_done, item.n_leased, item.status, item.next_expiry) == (2, 0, "review", None)


def test_replay_returns_original_and_other_use_of_key_conflicts(project, annotator, annotator_b):
    make_claims(project, 2)
    a = item_lease_next(project=project, user=annotator)
    label, created = submit(a, annotator, "same-key")
    again, created_again = submit(a, annotator, "same-key", values=ATTRIBUTED_LABELS)
    assert created and not created_again and again.pk == label.pk
    assert again.values == GOOD_LABELS
    assert Label.objects.count() == 1 and LabelRevision.objects.count() == 1
    b = item_lease_next(project=project, user=annotator_b)
    with pytest.raises(IdempotencyConflict):
        submit(b, annotator_b, "same-key")
    with pytest.raises(LeaseConflict, match="already submitted"):
        submit(a, annotator, "another-key")


def test_invalid_labels_and_missing_key_store_nothing(project, annotator):
    (item,) = make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    with pytest.raises(LabelInvalid) as err:
        submit(a, annotator, "k1", values={"is_attributed": "maybe"})
    assert "is_attributed" in err.value.errors and "verifiability" in err.value.errors
    with pytest.raises(LabelInvalid):
        submit(a, annotator, "k2", values={**GOOD_LABELS, "hedge_span": [0, 10_000]})
    with pytest.raises(LabelInvalid):
        submit(a, annotator, "")
    assert Label.objects.count() == 0
    item.refresh_from_db()
    assert (item.n_done, item.n_leased) == (0, 1)


def test_someone_elses_lease_cannot_be_submitted(project, annotator, annotator_b):
    make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    with pytest.raises(LeaseConflict):
        submit(a, annotator_b, "k")


def test_skip_frees_slot_and_user_never_gets_item_again(project, annotator, annotator_b):
    project_update(project=project, overlap=1)
    items = make_claims(project, 2)
    a = item_lease_next(project=project, user=annotator)
    with pytest.raises(QueueError):
        lease_skip(assignment=a, user=annotator, reason="  ")
    skipped = lease_skip(assignment=a, user=annotator, reason="unreadable")
    assert skipped.state == "skipped" and skipped.skip_reason == "unreadable"
    items[0].refresh_from_db()
    assert (items[0].n_leased, items[0].status) == (0, "open")
    assert item_lease_next(project=project, user=annotator).item_id == items[1].pk
    assert item_lease_next(project=project, user=annotator_b).item_id == items[0].pk
    with pytest.raises(QueueError):
        lease_skip(assignment=skipped, user=annotator, reason="again")
    with pytest.raises(LeaseConflict):
        submit(skipped, annotator, "after-skip")


def test_admin_release_frees_slot(project, annotator, admin):
    (item,) = make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    released = lease_release(assignment=a, by=admin)
    item.refresh_from_db()
    assert released.state == "released" and item.n_leased == 0 and item.next_expiry is None


def test_sweep_reclaims_only_long_expired(project, annotator):
    (item,) = make_claims(project, 1)
    now = timezone.now()
    item_lease_next(project=project, user=annotator, now=now)
    assert lease_expire_sweep(project=project, now=now + timedelta(seconds=10)) == 0
    later = now + timedelta(seconds=3 * project.lease_seconds)
    assert lease_expire_sweep(project=project, now=later) == 1
    item.refresh_from_db()
    assert (item.n_leased, item.status) == (0, "open")


def test_edit_own_label_keeps_revisions_until_settled(project, annotator, annotator_b):
    (item,) = make_claims(project, 1)
    a = item_lease_next(project=project, user=annotator)
    label, _ = submit(a, annotator, "k")
    edited, changed = label_edit(
        label=label, user=annotator, values=ATTRIBUTED_LABELS, idempotency_key="e1"
    )
    assert changed and edited.values == ATTRIBUTED_LABELS
    same, changed = label_edit(
        label=label, user=annotator, values=GOOD_LABELS, idempotency_key="e1"
    )
    assert not changed and same.values == ATTRIBUTED_LABELS  # replayed edit key
    assert label.revisions.count() == 2
    with pytest.raises(LabelLocked):
        label_edit(label=label, user=annotator_b, values=GOOD_LABELS)
    Item.objects.filter(pk=item.pk).update(status="settled")
    with pytest.raises(LabelLocked, match="adjudicated"):
        label_edit(label=label, user=annotator, values=GOOD_LABELS)
    item.refresh_from_db()
    assert item.n_done == 1


def test_undo_last_reopens_most_recent_own_submission(project, annotator, annotator_b):
    make_claims(project, 3)
    assert label_undo_last(user=annotator, project=project) is None
    first = item_lease_next(project=project, user=annotator)
    submit(first, annotator, "u1")
    second = item_lease_next(project=project, user=annotator)
    label2, _ = submit(second, annotator, "u2")
    other = item_lease_next(project=project, user=annotator_b)
    submit(other, annotator_b, "u3")
    undone = label_undo_last(user=annotator, project=project)
    assert undone.pk == label2.pk
    assert Label.objects.filter(annotator=annotator).count() == 2  # still counted


def test_suggestions_shown_and_accepted_recorded(project, annotator):
    (item,) = make_claims(project, 1)
    item.claim.suggestion = {"labels": GOOD_LABELS, "confidence": {}, "source": "rules"}
    item.claim.save()
    a = item_lease_next(project=project, user=annotator)
    assert a.suggestions_shown
    label, _ = submit(a, annotator, "s1")
    assert label.suggested and label.accepted is True


def test_suggestions_changed_is_not_accepted_and_off_means_not_shown(
    project, annotator, annotator_b
):
    items = make_claims(project, 2)
    for it in items:
        it.claim.suggestion = {"labels": GOOD_LABELS, "source": "rules"}
        it.claim.save()
    a = item_lease_next(project=project, user=annotator)
    label, _ = submit(a, annotator, "s1", values=ATTRIBUTED_LABELS)
    assert label.suggested and label.accepted is False
    project_update(project=project, suggestions="off")
    b = item_lease_next(project=project, user=annotator_b)
    assert not b.suggestions_shown
    label_b, _ = submit(b, annotator_b, "s2")
    assert not label_b.suggested and label_b.accepted is None


def test_half_suggestions_follow_membership_arm(project, annotator):
    from annotations.models import Membership

    project_update(project=project, suggestions="half")
    items = make_claims(project, 2)
    for it in items:
        it.claim.suggestion = {"labels": GOOD_LABELS, "source": "rules"}
        it.claim.save()
    Membership.objects.filter(project=project, user=annotator).update(suggestions_arm=False)
    assert not item_lease_next(project=project, user=annotator).suggestions_shown
    Membership.objects.filter(project=project, user=annotator).update(suggestions_arm=True)
    assert item_lease_next(project=project, user=annotator).suggestions_shown


def test_pairs_are_leased_separately(project, annotator):
    pairs = make_pairs(project, 2)
    a = item_lease_next(project=project, user=annotator, kind="pair")
    assert a.item_id == pairs[0].pk
    from tests.queue.helpers import PAIR_LABELS

    label, created = submit(a, annotator, "p1", values=PAIR_LABELS)
    assert created and label.values == PAIR_LABELS
    with pytest.raises(ValueError):
        item_lease_next(project=project, user=annotator, kind="nonsense")


def test_database_refuses_over_assignment_and_duplicates(project, annotator):
    (item,) = make_claims(project, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(n_done=2, n_leased=1)
    a = item_lease_next(project=project, user=annotator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            item=item, annotator=annotator, leased_at=a.leased_at, expires_at=a.expires_at
        )
