"""Admin actions on running leases: release, and reassign to a chosen annotator.

Reassign semantics (kept simple on purpose): the current lease is released exactly as
``queue.lease_release`` does, and in the same transaction, under the item's row lock, the freed
slot is leased to the chosen annotator with a fresh lease of the project's length. The chosen
user must be an annotator of the project who has never had this item (one row per item and
annotator, ever); the per-user cap of active leases does not apply to an admin's decision. The
item then appears first on the chosen annotator's annotate page (their oldest active lease).
Nothing else is pinned: when that lease expires, the slot goes back to the queue as usual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Assignment, Item, Membership, Project, Role
from . import queue


class ReassignError(Exception):
    """The lease cannot be given to that user."""


def lease_for_project(*, project: Project, lease_id: int) -> Assignment | None:
    return (
        Assignment.objects.select_related("item", "annotator")
        .filter(pk=lease_id, item__project=project)
        .first()
    )


def lease_reassign(
    *,
    assignment: Assignment,
    to_user: Any,
    by: Any,
    now: datetime | None = None,
) -> Assignment:
    """Release `assignment` and lease its item to `to_user` in one transaction."""
    now = now or timezone.now()
    project = assignment.item.project
    if to_user.pk == assignment.annotator_id:
        raise ReassignError("The lease already belongs to this user.")
    if not Membership.objects.filter(project=project, user=to_user, role=Role.ANNOTATOR).exists():
        raise ReassignError("Only an annotator of this project can receive the item.")
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=assignment.item_id)
        if Assignment.objects.filter(item=item, annotator=to_user).exists():
            raise ReassignError(f"{to_user.get_username()} already had this item.")
        queue.lease_release(assignment=assignment, by=by, now=now)
        item.refresh_from_db()
        if item.n_done + item.n_leased >= item.k:
            raise ReassignError("The item has no free slot.")  # rolls back the release
        return queue._take(project=project, user=to_user, item=item, now=now)
