"""The annotation queue: overlap-k leases that never over-assign.

Rules (architecture.md rule 6):

- Leasing runs inside ``transaction.atomic()`` and locks exactly one item row at a time with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` on an ordered queryset served by a partial index
  (``item_expiring`` for reclaimable items, ``item_open_queue`` for open ones). Only item rows
  are locked, always one per statement, so two transactions can never wait on each other in a
  cycle.
- ``n_leased`` / ``n_done`` change only under the item's row lock; the database refuses
  ``n_done + n_leased > k`` (check constraint) and a second (item, annotator) row (unique).
- Expired leases are reclaimed lazily, when the slot is given to somebody else: no cron is
  needed for correctness. An expired lease that nobody took can still be submitted.
- ``now`` can be passed in so tests (and the state machine) drive time explicitly.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Min, OuterRef, QuerySet
from django.utils import timezone

from ..models import Assignment, Item, Membership, Project

MAX_ACTIVE_LEASES = 5
LEASEABLE_KINDS = (Item.Kind.CLAIM, Item.Kind.PAIR)

# Negative control for bench/queue_storm.py only: with this variable set the lease query takes
# no row lock. Never set it in production; the storm must then report violations.
_BREAK_LOCK_ENV = "WORKBENCH_QUEUE_BREAK_LOCK"


class QueueError(Exception):
    """A lease operation that cannot be done in the lease's current state."""


def _lock_broken() -> bool:
    return os.environ.get(_BREAK_LOCK_ENV) == "1"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _candidates(project: Project, user: Any, kind: str) -> QuerySet[Item]:
    mine = Assignment.objects.filter(item=OuterRef("pk"), annotator=user)
    return Item.objects.filter(project=project, kind=kind).exclude(Exists(mine))


def _open_ordered(project: Project, qs: QuerySet[Item]) -> QuerySet[Item]:
    qs = qs.filter(status=Item.Status.OPEN)
    if project.queue_order == Project.QueueOrder.UNCERTAIN:
        return qs.order_by("-uncertainty", "order_key", "id")
    # article order and random order both live in order_key (see services/items.py).
    return qs.order_by("order_key", "id")


def _lock_first(qs: QuerySet[Item]) -> Item | None:
    if _lock_broken():
        return qs.first()
    return qs.select_for_update(skip_locked=True, of=("self",)).first()


def active_leases(*, project: Project, user: Any, kind: str, now: datetime) -> QuerySet[Assignment]:
    """The user's unexpired leases in this project and kind, oldest first."""
    return (
        Assignment.objects.filter(
            annotator=user,
            state=Assignment.State.LEASED,
            expires_at__gt=now,
            item__project=project,
            item__kind=kind,
        )
        .select_related("item")
        .order_by("leased_at", "id")
    )


def suggestions_shown_for(*, project: Project, user: Any, item: Item) -> bool:
    """Whether this user sees pre-filled suggestions on this item (project setting and A/B arm)."""
    if item.kind != Item.Kind.CLAIM or project.suggestions == Project.Suggestions.OFF:
        return False
    claim = item.claim
    if claim is None or not isinstance(claim.suggestion, dict):
        return False
    if not isinstance(claim.suggestion.get("labels"), dict):
        return False
    if project.suggestions == Project.Suggestions.HALF:
        arm = (
            Membership.objects.filter(project=project, user=user)
            .values_list("suggestions_arm", flat=True)
            .first()
        )
        return bool(arm)
    return True


def _refresh_expiry(item: Item) -> None:
    """Recompute next_expiry (min expiry of active leases) and status from the counts. Call
    with the item row locked; the caller saves."""
    item.next_expiry = (
        Assignment.objects.filter(item=item, state=Assignment.State.LEASED).aggregate(
            m=Min("expires_at")
        )["m"]
        if item.n_leased
        else None
    )
    _set_status(item)


def _set_status(item: Item) -> None:
    """Open or full from the counts (items under review or settled keep their status)."""
    if item.status in (Item.Status.OPEN, Item.Status.FULL):
        item.status = Item.Status.FULL if item.n_done + item.n_leased >= item.k else "open"


def _reclaim_expired(item: Item, now: datetime) -> int:
    """Mark the item's expired leases reclaimed and free their slots (item row locked)."""
    expired = Assignment.objects.filter(
        item=item, state=Assignment.State.LEASED, expires_at__lte=now
    )
    n = expired.update(state=Assignment.State.RECLAIMED, finished_at=now)
    item.n_leased -= n
    return n


def _take(
    *, project: Project, user: Any, item: Item, now: datetime, reclaimed: bool = False
) -> Assignment:
    """Give a locked item to the user: one new lease, counts and status updated.

    `next_expiry` is kept exact under the row lock, so for an item that lost no lease here the
    new minimum is min(old, new expiry) without a query; after a reclaim it is recomputed."""
    expires_at = now + timedelta(seconds=project.lease_seconds)
    assignment = Assignment.objects.create(
        item=item,
        annotator=user,
        leased_at=now,
        expires_at=expires_at,
        suggestions_shown=suggestions_shown_for(project=project, user=user, item=item),
    )
    item.n_leased += 1
    if reclaimed:
        _refresh_expiry(item)
    else:
        item.next_expiry = min(item.next_expiry or expires_at, expires_at)
        _set_status(item)
    item.save(update_fields=["n_leased", "status", "next_expiry"])
    assignment.item = item
    return assignment


def item_lease_next(
    *, project: Project, user: Any, kind: str = "claim", now: datetime | None = None
) -> Assignment | None:
    """Lease the next item of `kind` for `user`, or None when nothing is left for them.

    Order of preference: an item whose lease expired (the expired slot is reclaimed and given
    to this user), then the first open item in the project's queue order. An item is never
    given twice to the same annotator. A user holding MAX_ACTIVE_LEASES unexpired leases gets
    the oldest of them back instead of a new one.
    """
    if kind not in LEASEABLE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LEASEABLE_KINDS)}")
    if project.archived_at is not None:
        return None  # an archived project is read-only: nothing left to lease
    now = _now(now)
    for _attempt in range(4):
        try:
            with transaction.atomic():
                return _lease_once(project=project, user=user, kind=kind, now=now)
        except IntegrityError:
            # A concurrent lease by the same user (another tab) took the same item between our
            # snapshot and our lock: the unique (item, annotator) constraint refused it. Retry
            # with a fresh snapshot.
            continue
    return None


def _relax_commit() -> None:
    """A lease need not wait for its WAL flush (about 10 ms per commit on this class of disk):
    if PostgreSQL crashed in the next few hundred milliseconds the lease would be forgotten,
    which is harmless (the annotator leases again; a submit on it gets 404, never a wrong
    count). Consistency is unaffected: asynchronous commit never breaks constraints. Labels
    keep synchronous commit, so every 2xx submit is durable."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _lease_once(*, project: Project, user: Any, kind: str, now: datetime) -> Assignment | None:
    _relax_commit()
    if not _lock_broken():
        # Serialise one user's leases (several tabs) on their membership row so the cap holds
        # exactly. Lock order is always membership, then one item row: no cycles.
        # of=self and no Meta ordering: ordering by "project" would join the project row and
        # FOR UPDATE would lock it too, serialising every lease in the project (and blocking
        # the deferred FK checks of every commit that references the project).
        Membership.objects.select_for_update(of=("self",)).filter(
            project=project, user=user
        ).order_by("pk").first()
    held = list(active_leases(project=project, user=user, kind=kind, now=now)[:MAX_ACTIVE_LEASES])
    if len(held) >= MAX_ACTIVE_LEASES:
        return held[0]
    candidates = _candidates(project, user, kind)
    # 1. An item whose earliest lease has expired: reclaim and take the slot.
    expiring = candidates.filter(status=Item.Status.FULL, next_expiry__lt=now).order_by(
        "next_expiry", "id"
    )
    item = _lock_first(expiring)
    if item is not None:
        _reclaim_expired(item, now)
        if item.n_done + item.n_leased < item.k:
            return _take(project=project, user=user, item=item, now=now, reclaimed=True)
        # Nothing was actually freed (clock skew): fix next_expiry and fall through.
        _refresh_expiry(item)
        item.save(update_fields=["n_leased", "status", "next_expiry"])
    # 2. The first open item in queue order.
    item = _lock_first(_open_ordered(project, candidates))
    if item is None:
        return None
    if not _lock_broken() and item.n_done + item.n_leased >= item.k:
        return None  # cannot happen with status=open under the lock; be safe
    return _take(project=project, user=user, item=item, now=now)


def _finish(*, assignment: Assignment, state: str, now: datetime, reason: str = "") -> Assignment:
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=assignment.item_id)
        fresh = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if fresh.state != Assignment.State.LEASED:
            raise QueueError(f"This lease is already {fresh.state}.")
        fresh.state = state
        fresh.finished_at = now
        fresh.skip_reason = reason[:300]
        fresh.save(update_fields=["state", "finished_at", "skip_reason"])
        item.n_leased -= 1
        _refresh_expiry(item)
        item.save(update_fields=["n_leased", "status", "next_expiry"])
    fresh.item = item
    return fresh


def lease_skip(
    *, assignment: Assignment, user: Any, reason: str, now: datetime | None = None
) -> Assignment:
    """The annotator gives the item back: the slot is freed for someone else and this user
    never gets the item again (the assignment row stays, state skipped)."""
    if assignment.annotator_id != user.pk:
        raise QueueError("Only the lease holder may skip it.")
    reason = (reason or "").strip()
    if not reason:
        raise QueueError("Give a reason for skipping.")
    return _finish(
        assignment=assignment, state=Assignment.State.SKIPPED, now=_now(now), reason=reason
    )


def lease_release(*, assignment: Assignment, by: Any, now: datetime | None = None) -> Assignment:
    """An admin frees a lease (e.g. an annotator left for the day)."""
    return _finish(
        assignment=assignment,
        state=Assignment.State.RELEASED,
        now=_now(now),
        reason=f"released by {getattr(by, 'username', 'admin')}",
    )


def lease_expire_sweep(
    *, project: Project, now: datetime | None = None, grace_seconds: int | None = None
) -> int:
    """Optional housekeeping: reclaim leases expired for longer than `grace_seconds` (default:
    one more lease length) so counts shown to admins are current. Correctness never depends
    on it: leasing reclaims expired slots itself. Returns the number of leases reclaimed."""
    now = _now(now)
    grace = project.lease_seconds if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    total = 0
    ids = list(
        Item.objects.filter(
            project=project, status__in=[Item.Status.FULL, Item.Status.OPEN], n_leased__gt=0
        )
        .filter(assignments__state=Assignment.State.LEASED, assignments__expires_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()
    )
    for item_id in ids:  # one short transaction per item, in id order
        with transaction.atomic():
            item = Item.objects.select_for_update(skip_locked=True).filter(pk=item_id).first()
            if item is None:
                continue
            n = _reclaim_expired(item, cutoff)
            if n:
                _refresh_expiry(item)
                item.save(update_fields=["n_leased", "status", "next_expiry"])
                total += n
    return total


def lease_for_user(*, project: Project, user: Any, lease_id: int) -> Assignment | None:
    """The user's own lease by id (None for anybody else's, so callers answer 404)."""
    return (
        Assignment.objects.select_related("item", "item__project")
        .filter(pk=lease_id, annotator=user, item__project=project)
        .first()
    )


def user_progress(*, project: Project, user: Any, kind: str, cap: int = 10000) -> dict[str, Any]:
    """The user's own count and how many items they could still get (capped count)."""
    from ..models import Label

    done = Label.objects.filter(annotator=user, item__project=project, item__kind=kind).count()
    left_qs = _candidates(project, user, kind).filter(status=Item.Status.OPEN)
    left = left_qs.values("id")[:cap].count()
    held = Assignment.objects.filter(
        annotator=user, state=Assignment.State.LEASED, item__project=project, item__kind=kind
    ).count()
    total = done + held + left
    return {
        "done": done,
        "total": total,
        "capped": left >= cap,
        "percent": round(100 * done / total) if total else 100,
    }
