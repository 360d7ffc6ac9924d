"""Submitting and editing labels.

A submit is accepted while the lease is active, and also after it expired as long as nobody
else took the slot (the lease was not reclaimed); once the item went to someone else it is a
LeaseConflict (HTTP 409). Submits are idempotent per `Idempotency-Key`: a replay returns the
original label. Every change of values is kept as a LabelRevision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Assignment, Item, Label, LabelRevision, Project, SchemaVersion
from ..schema.validation import validate_labels
from .projects import current_schema
from .queue import _refresh_expiry

MAX_KEY_LENGTH = 128


class LabelError(Exception):
    """Base class: a label operation refused, with a message for the user."""


class LeaseConflict(LabelError):
    """The lease expired and the item was given to someone else (409)."""


class IdempotencyConflict(LabelError):
    """The Idempotency-Key was already used for a different lease or user (409)."""


class LabelLocked(LabelError):
    """The item was adjudicated: labels can no longer change (409)."""


class LabelInvalid(LabelError):
    """The label payload does not satisfy the schema (400, field errors in `errors`)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The labels are not valid.")
        self.errors = errors


def _check_key(idempotency_key: str | None, *, required: bool = True) -> str | None:
    if idempotency_key is None or idempotency_key == "":
        if required:
            raise LabelInvalid({"idempotency_key": ["An Idempotency-Key is required."]})
        return None
    if len(idempotency_key) > MAX_KEY_LENGTH or not idempotency_key.isprintable():
        raise LabelInvalid({"idempotency_key": [f"At most {MAX_KEY_LENGTH} printable characters."]})
    return idempotency_key


def unit_text_length(item: Item) -> int | None:
    if item.kind == Item.Kind.CLAIM and item.claim_id is not None:
        assert item.claim is not None  # a set claim_id is a claim (foreign key)
        return len(item.claim.text)
    return None


def validate_for(*, item: Item, schema_version: SchemaVersion, values: Any) -> dict[str, Any]:
    result = validate_labels(
        values, schema_version.schema, item.kind, text_length=unit_text_length(item)
    )
    if not result.ok:
        raise LabelInvalid(result.errors)
    return result.values


def suggestion_values(item: Item, schema_version: SchemaVersion) -> dict[str, Any] | None:
    """The claim's suggestion, cleaned by the schema (what a form pre-selects)."""
    if item.kind != Item.Kind.CLAIM or item.claim is None:
        return None
    suggestion = item.claim.suggestion
    if not isinstance(suggestion, dict) or not isinstance(suggestion.get("labels"), dict):
        return None
    from .suggestions import claim_suggestion

    # The stored rule suggestion, with verifiability from the project's model once trained.
    labels = claim_suggestion(claim=item.claim, project=item.project)["labels"]
    result = validate_labels(
        labels, schema_version.schema, "claim", text_length=len(item.claim.text)
    )
    # Keep whatever is valid; a partly invalid suggestion pre-fills only its valid fields.
    return {k: v for k, v in result.values.items() if k not in result.errors}


def _replay(idempotency_key: str, assignment: Assignment, user: Any) -> Label | None:
    label = Label.objects.filter(idempotency_key=idempotency_key).first()
    if label is None:
        return None
    if label.assignment_id != assignment.pk or label.annotator_id != user.pk:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for another submission; use a new key."
        )
    return label


def on_item_complete(item: Item) -> None:
    """Call point when an item received its k-th label (item row locked, inside the
    transaction). Adjudication decides: auto-settle when the project allows it and every
    annotator agrees, else the review queue with a first uncertainty estimate."""
    from .adjudication import item_complete

    if item.status in (Item.Status.OPEN, Item.Status.FULL):
        item_complete(item=item)


def label_submit(
    *,
    assignment: Assignment,
    user: Any,
    values: Any,
    idempotency_key: str,
    seconds: float | None = None,
    suggested: bool | None = None,
    accepted: bool | None = None,
    now: datetime | None = None,
) -> tuple[Label, bool]:
    """Store the annotator's labels for their lease. Returns (label, created)."""
    key = _check_key(idempotency_key)
    assert key is not None
    if assignment.annotator_id != user.pk:
        raise LeaseConflict("This lease belongs to someone else.")
    existing = _replay(key, assignment, user)
    if existing is not None:
        return existing, False
    now = now or timezone.now()
    item = Item.objects.select_related("claim", "project").get(pk=assignment.item_id)
    schema_version = current_schema(item.project)
    clean = validate_for(item=item, schema_version=schema_version, values=values)
    if seconds is not None and (seconds < 0 or seconds > 86400 * 7):
        raise LabelInvalid({"seconds": ["Must be between 0 and 604800."]})
    try:
        with transaction.atomic():
            # The item row lock serialises every change to this item's leases and counts.
            locked = Item.objects.select_for_update().get(pk=item.pk)
            locked.project = item.project  # unchanged rows, already read: no second fetch
            lease = Assignment.objects.get(pk=assignment.pk)
            if lease.state == Assignment.State.RECLAIMED:
                raise LeaseConflict(
                    "Your lease on this item expired and the item was given to another "
                    "annotator; your labels were not stored. Take the next item."
                )
            if lease.state == Assignment.State.SUBMITTED:
                existing = _replay(key, assignment, user)  # a concurrent replay won the lock
                if existing is not None:
                    return existing, False
                raise LeaseConflict(
                    "You already submitted labels for this item; edit them instead."
                )
            if lease.state != Assignment.State.LEASED:
                raise LeaseConflict(f"This lease was {lease.get_state_display().lower()}.")
            shown = lease.suggestions_shown if suggested is None else suggested
            if shown and accepted is None:
                accepted = clean == suggestion_values(item, schema_version)
            label = Label.objects.create(
                item=locked,
                annotator=user,
                assignment=lease,
                schema_version=schema_version,
                values=clean,
                seconds=seconds,
                suggested=bool(shown),
                accepted=accepted if shown else None,
                idempotency_key=key,
            )
            LabelRevision.objects.create(
                label=label, values=clean, schema_version=schema_version, idempotency_key=key
            )
            label.item, label.schema_version = locked, schema_version
            lease.state = Assignment.State.SUBMITTED
            lease.finished_at = now
            lease.save(update_fields=["state", "finished_at"])
            locked.n_leased -= 1
            locked.n_done += 1
            _refresh_expiry(locked)
            locked.save(update_fields=["n_leased", "n_done", "status", "next_expiry"])
            if locked.n_done >= locked.k:
                on_item_complete(locked)
    except IntegrityError:
        # Same key raced in on another item's lock: answer as a replay or a key conflict.
        existing = _replay(key, assignment, user)
        if existing is not None:
            return existing, False
        raise
    return label, True


def label_edit(
    *, label: Label, user: Any, values: Any, idempotency_key: str | None = None
) -> tuple[Label, bool]:
    """The annotator changes their own label until the item is adjudicated. Validated against
    the project's current schema; the label moves to that version. Returns (label, changed)."""
    if label.annotator_id != user.pk:
        raise LabelLocked("You can only edit your own labels.")
    key = _check_key(idempotency_key, required=False)
    if key is not None:
        revision = LabelRevision.objects.filter(idempotency_key=key).first()
        if revision is not None:
            if revision.label_id != label.pk:
                raise IdempotencyConflict("This Idempotency-Key was already used.")
            return Label.objects.get(pk=label.pk), False
    item = Item.objects.select_related("claim", "project").get(pk=label.item_id)
    schema_version = current_schema(item.project)
    clean = validate_for(item=item, schema_version=schema_version, values=values)
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.status in (Item.Status.SETTLED, Item.Status.EXCLUDED):
            raise LabelLocked("This item was adjudicated; its labels can no longer change.")
        fresh = Label.objects.select_for_update().get(pk=label.pk)
        if fresh.values == clean and fresh.schema_version_id == schema_version.pk:
            return fresh, False
        fresh.values = clean
        fresh.schema_version = schema_version
        if fresh.suggested:
            fresh.accepted = clean == suggestion_values(item, schema_version)
        fresh.save(update_fields=["values", "schema_version", "accepted", "updated_at"])
        LabelRevision.objects.create(
            label=fresh, values=clean, schema_version=schema_version, idempotency_key=key
        )
    return fresh, True


def label_undo_last(*, user: Any, project: Project, kind: str = "claim") -> Label | None:
    """The Z key: the user's most recent submission, reopened for editing (it stays counted —
    editing, not deleting). None when there is nothing editable."""
    label = (
        Label.objects.filter(annotator=user, item__project=project, item__kind=kind)
        .select_related("item")
        .order_by("-created_at", "-id")
        .first()
    )
    if label is None or label.item.status in (Item.Status.SETTLED, Item.Status.EXCLUDED):
        return None
    return label
