"""PostgreSQL only: real row locks. A Hypothesis state machine over random interleavings of
lease / submit / replay / skip / abandon / expire (a fake clock passed into the services), and
real threads hammering one small project."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from annotations.models import Assignment, Item, Label
from annotations.services.labels import LeaseConflict, label_submit
from annotations.services.projects import project_create
from annotations.services.queue import item_lease_next, lease_skip
from tests.queue.helpers import GOOD_LABELS, make_annotator, make_claims

pytestmark = pytest.mark.postgres

_run = itertools.count(1)


def check_invariants(project) -> None:
    items = Item.objects.filter(project=project).annotate(
        submitted=Count("assignments", filter=Q(assignments__state="submitted"), distinct=True),
        active=Count("assignments", filter=Q(assignments__state="leased"), distinct=True),
        labels_n=Count("labels", distinct=True),
    )
    for item in items:
        assert item.n_done == item.submitted, (item.pk, item.n_done, item.submitted)
        assert item.n_leased == item.active, (item.pk, item.n_leased, item.active)
        assert item.n_done + item.n_leased <= item.k
        assert item.labels_n == item.n_done
        expected = "review" if item.n_done >= item.k else None
        if expected:
            assert item.status == expected
        elif item.n_done + item.n_leased >= item.k:
            assert item.status == "full"
        else:
            assert item.status == "open"
        leases = Assignment.objects.filter(item=item, state="leased")
        expiry = min((a.expires_at for a in leases), default=None)
        assert item.next_expiry == expiry
    dupes = (
        Assignment.objects.filter(item__project=project)
        .values("item", "annotator")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not dupes.exists()


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_run)
        self.project = project_create(slug=f"sm-{n}-{uuid.uuid4().hex[:6]}", overlap=2)
        self.users = [make_annotator(f"sm{n}_u{i}", self.project) for i in range(4)]
        self.now = timezone.now()
        self.accepted: dict[str, int] = {}  # idempotency key -> label id

    @initialize(n_items=st.integers(min_value=1, max_value=6))
    def load(self, n_items: int) -> None:
        make_claims(self.project, n_items)

    def _leases(self, user, state="leased"):
        return list(
            Assignment.objects.filter(annotator=user, state=state, item__project=self.project)
        )

    @rule(who=st.integers(0, 3))
    def lease(self, who: int) -> None:
        user = self.users[who]
        before = Assignment.objects.filter(annotator=user).count()
        got = item_lease_next(project=self.project, user=user, now=self.now)
        if got is not None:
            assert got.annotator_id == user.pk
            assert Assignment.objects.filter(annotator=user).count() in (before, before + 1)

    @rule(who=st.integers(0, 3), pick=st.integers(0, 10), data=st.data())
    def submit(self, who: int, pick: int, data) -> None:
        user = self.users[who]
        candidates = self._leases(user) + self._leases(user, "reclaimed")
        if not candidates:
            return
        assignment = candidates[pick % len(candidates)]
        key = uuid.uuid4().hex
        if assignment.state == "reclaimed":
            with pytest.raises(LeaseConflict):
                label_submit(
                    assignment=assignment,
                    user=user,
                    values=GOOD_LABELS,
                    idempotency_key=key,
                    now=self.now,
                )
            return
        label, created = label_submit(
            assignment=assignment, user=user, values=GOOD_LABELS, idempotency_key=key, now=self.now
        )
        assert created
        self.accepted[key] = label.pk

    @rule(pick=st.integers(0, 1000))
    def replay(self, pick: int) -> None:
        if not self.accepted:
            return
        key = sorted(self.accepted)[pick % len(self.accepted)]
        label = Label.objects.get(pk=self.accepted[key])
        again, created = label_submit(
            assignment=label.assignment,
            user=label.annotator,
            values=GOOD_LABELS,
            idempotency_key=key,
            now=self.now,
        )
        assert not created and again.pk == label.pk

    @rule(who=st.integers(0, 3), pick=st.integers(0, 10))
    def skip(self, who: int, pick: int) -> None:
        user = self.users[who]
        leases = self._leases(user)
        if leases:
            lease_skip(assignment=leases[pick % len(leases)], user=user, reason="test")

    @rule()
    def abandon(self) -> None:
        """An annotator closes the tab: nothing happens now; time will expire the lease."""

    @rule(seconds=st.sampled_from([1, 30, 300, 599, 601, 1200, 5000]))
    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @invariant()
    def counts_match(self) -> None:
        check_invariants(self.project)
        stored = Counter(
            Label.objects.filter(idempotency_key__in=list(self.accepted)).values_list(
                "idempotency_key", flat=True
            )
        )
        assert all(stored[k] == 1 for k in self.accepted)
        assert Label.objects.filter(item__project=self.project).count() == len(self.accepted)


def test_state_machine_invariants(transactional_db):
    run_state_machine_as_test(
        QueueMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_threads_never_over_assign_duplicate_or_lose(transactional_db):
    project = project_create(slug="storm", overlap=2, lease_seconds=60)
    users = [make_annotator(f"t{i}", project) for i in range(20)]
    make_claims(project, 12)
    accepted: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))

    def worker(user) -> None:
        try:
            barrier.wait()
            for _round in range(4):
                got = item_lease_next(project=project, user=user)
                if got is None:
                    break
                label, created = label_submit(
                    assignment=got,
                    user=user,
                    values=GOOD_LABELS,
                    idempotency_key=uuid.uuid4().hex,
                )
                assert created
                with lock:
                    accepted.append(label.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    check_invariants(project)
    # 12 items x K=2: exactly 24 labels, each in the database, none over k.
    assert len(accepted) == 24
    assert set(Label.objects.filter(item__project=project).values_list("id", flat=True)) == set(
        accepted
    )
    assert not Item.objects.filter(project=project).exclude(status="review").exists()


def test_two_tabs_concurrently_get_different_items(transactional_db):
    project = project_create(slug="tabs", overlap=2)
    user = make_annotator("tabber", project)
    make_claims(project, 10)
    got: list[int] = []
    barrier = threading.Barrier(6)

    def tab() -> None:
        try:
            barrier.wait()
            a = item_lease_next(project=project, user=user)
            got.append(a.item_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # The cap is 5: the sixth tab gets one of the five back; never two leases on one item.
    assert Assignment.objects.filter(annotator=user).count() == 5
    assert len(set(got)) == 5 and len(got) == 6
    check_invariants(project)


def test_one_annotators_open_lease_transaction_does_not_block_another(transactional_db):
    """The per-user lock is that user's membership row only: while one annotator's lease
    transaction is still open, another annotator of the same project leases (and submits) at
    once. Locking the project row as well would serialise every lease of the project."""
    from django.db import transaction

    project = project_create(slug="nolock", overlap=2)
    a, b = make_annotator("holder", project), make_annotator("other", project)
    make_claims(project, 4)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                item_lease_next(project=project, user=a)  # joins this outer transaction
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            lease = item_lease_next(project=project, user=b)
        label, _ = label_submit(
            assignment=lease, user=b, values=GOOD_LABELS, idempotency_key=str(uuid.uuid4())
        )
        assert lease.annotator_id == b.pk and label.pk is not None
    finally:
        release.set()
        thread.join(timeout=60)
    check_invariants(project)
