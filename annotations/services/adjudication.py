"""Adjudication: what happens to an item once its k labels are in.

`item_complete` (called by the queue when an item's last label arrives) either auto-settles
the item — when the project allows it and every annotator gave the same value for every
required field — or sends it to review with a first uncertainty figure (majority shares; the
"aggregate" job refines it with Dawid–Skene and MACE posteriors).

`item_decide` and `item_reopen` append to the item's Decision log under optimistic locking:
the caller passes the item version it saw; if someone else decided first the version has moved
on and `Conflict` is raised (the API answers 409). The gold on the item is always the `after`
of its newest Decision; both are written in one transaction.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Decision, Item, Label
from ..schema.validation import fields_of, validate_labels
from .projects import current_schema

REVIEWABLE = (Item.Status.REVIEW, Item.Status.SETTLED)


class Conflict(Exception):
    """Someone else changed the item since the caller loaded it."""

    def __init__(self, item: Item, latest: Decision | None, given_version: int) -> None:
        self.item = item
        self.latest = latest
        self.given_version = given_version
        who = "someone else"
        if latest is not None and latest.reviewer is not None:
            who = latest.reviewer.get_username()
        super().__init__(
            f"This item was changed by {who} (version {item.version}, you had version "
            f"{given_version}). Review the current decision and try again."
        )


@dataclass(frozen=True)
class _Votes:
    """Per field: the strict majority value (more than half of the annotators), if any."""

    majority: dict[str, Any]
    has_majority: set[str]


# --------------------------------------------------------------------------- helpers


def canon(value: Any) -> str:
    """Comparable form of a label value: lists compare as sets (multi-select), spans and
    everything else by their JSON; absent is None."""
    if isinstance(value, list) and not _is_span(value):
        return json.dumps(sorted(json.dumps(v, sort_keys=True) for v in value))
    return json.dumps(value, sort_keys=True)


def _is_span(value: list[Any]) -> bool:
    return len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def item_kind_schema(item: Item) -> tuple[dict[str, Any], str]:
    version = current_schema(item.project)
    return version.schema, item.kind


def item_text_length(item: Item) -> int | None:
    if item.kind == Item.Kind.CLAIM and item.claim_id:
        assert item.claim is not None  # a set claim_id is a claim (foreign key)
        return len(item.claim.text)
    return None


def item_label_values(item: Item) -> list[dict[str, Any]]:
    """The annotators' current labels of the item, oldest first."""
    return [
        dict(values)
        for values in Label.objects.filter(item=item)
        .order_by("created_at", "id")
        .values_list("values", flat=True)
    ]


def _votes(labels: list[dict[str, Any]], field_names: list[str]) -> _Votes:
    majority: dict[str, Any] = {}
    has: set[str] = set()
    n = len(labels)
    for name in field_names:
        counts = Counter(canon(lab.get(name)) for lab in labels)
        if not counts:
            continue
        key, top = counts.most_common(1)[0]
        if top * 2 > n:
            has.add(name)
            value = json.loads(key)
            # Recover the original value (a list in its first-seen order).
            for lab in labels:
                if canon(lab.get(name)) == key:
                    value = lab.get(name)
                    break
            if value is not None:
                majority[name] = value
    return _Votes(majority, has)


def majority_labels(item: Item) -> dict[str, Any]:
    """The strict-majority value of every field that has one (absent fields left out)."""
    schema, kind = item_kind_schema(item)
    names = [f["name"] for f in fields_of(schema, kind)]
    return _votes(item_label_values(item), names).majority


def overrides_majority(
    labels: list[dict[str, Any]], final: dict[str, Any], field_names: list[str]
) -> list[str]:
    """Fields where a strict majority of annotators agreed and the final labels differ."""
    votes = _votes(labels, field_names)
    return [
        name
        for name in field_names
        if name in votes.has_majority and canon(votes.majority.get(name)) != canon(final.get(name))
    ]


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [n for n in names if canon(before.get(n)) != canon(after.get(n))]


def latest_decision(item_id: int) -> Decision | None:
    return (
        Decision.objects.filter(item_id=item_id)
        .select_related("reviewer")
        .order_by("-version")
        .first()
    )


def derived_gold(item_id: int) -> dict[str, Any] | None:
    """The gold as the log says: the `after` of the newest entry (None when never decided)."""
    latest = latest_decision(item_id)
    return None if latest is None else latest.after


# --------------------------------------------------------------------------- completion


def _first_uncertainty(labels: list[dict[str, Any]], field_names: list[str]) -> tuple[dict, float]:
    """Majority-only aggregate for one item (until the aggregate job adds DS and MACE). The
    share counts every annotator, so an answer only some of them gave is not a majority."""
    aggregate: dict[str, Any] = {}
    lowest = 1.0
    n = len(labels)
    for name in field_names:
        values = [lab.get(name) for lab in labels if lab.get(name) is not None]
        if not values or not n:
            continue
        counts = Counter(canon(v) for v in values)
        original = {canon(v): v for v in reversed(values)}
        key, top = counts.most_common(1)[0]
        tie = sum(1 for c in counts.values() if c == top) > 1
        share = top / n
        aggregate[name] = {
            "majority": original[key],
            "share": share,
            "tie": tie,
            "ds": None,
            "ds_posterior": None,
            "mace": None,
            "mace_posterior": None,
            "votes": {form_key(original[k]): c for k, c in counts.items()},
        }
        lowest = min(lowest, share)
    return aggregate, 1.0 - lowest


def form_key(value: Any) -> str:
    """The vote key of a value, as the aggregate job writes it (str of the label)."""
    return str(value)


def item_complete(*, item: Item) -> Item:
    """Called by the queue (inside its transaction, with the item row locked) when the
    item's last label arrives. Auto-settles unanimous items when the project allows it;
    otherwise puts the item up for review with a first uncertainty figure."""
    from ..agreement.settle import should_auto_settle

    schema, kind = item_kind_schema(item)
    fields = fields_of(schema, kind)
    names = [f["name"] for f in fields]
    required = [f["name"] for f in fields if f.get("required")]
    labels = item_label_values(item)
    now = timezone.now()
    if not item.is_gold and should_auto_settle(labels, item.project.auto_settle, required=required):
        agreed = {
            name: labels[0][name]
            for name in names
            if name in labels[0]
            and all(canon(lab.get(name)) == canon(labels[0][name]) for lab in labels)
        }
        result = validate_labels(agreed, schema, kind, text_length=item_text_length(item))
        if result.ok:
            dropped = [
                n for n in names if n not in result.values and any(n in lab for lab in labels)
            ]
            note = "Every annotator agreed on the required fields."
            if dropped:
                note += f" Left out (annotators differed): {', '.join(dropped)}."
            item.version += 1
            Decision.objects.create(
                item=item,
                reviewer=None,
                action=Decision.Action.AUTO_SETTLE,
                version=item.version,
                before=item.gold,
                after=result.values,
                changed_fields=changed_fields(item.gold, result.values),
                note=note,
            )
            item.gold = result.values
            item.status = Item.Status.SETTLED
            item.settled_at = now
            item.aggregate, item.uncertainty = _first_uncertainty(labels, names)
            item.uncertainty = 0.0
            item.save(
                update_fields=[
                    "version",
                    "gold",
                    "status",
                    "settled_at",
                    "aggregate",
                    "uncertainty",
                ]
            )
            project = item.project
            transaction.on_commit(lambda: _maybe_retrain(project))
            return item
    item.aggregate, item.uncertainty = _first_uncertainty(labels, names)
    item.status = Item.Status.REVIEW
    item.save(update_fields=["aggregate", "uncertainty", "status"])
    return item


def _maybe_retrain(project: Any) -> None:
    """New adjudicated labels may be enough to retrain the suggestion model (cheap check)."""
    from .suggestions import model_maybe_retrain

    model_maybe_retrain(project=project)


# --------------------------------------------------------------------------- decisions


def _lock(item_id: int) -> Item:
    item = (
        Item.objects.select_for_update(of=("self",))
        .select_related("project", "claim")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Item.DoesNotExist(f"No item {item_id}.")
    return item


def _append(
    *,
    item: Item,
    version: int,
    reviewer: Any,
    action: str,
    after: dict[str, Any] | None,
    note: str,
    overrides: bool,
    status: str,
) -> Decision:
    """Write the next log entry and move the item on, only if it is still at `version`."""
    now = timezone.now()
    before = item.gold
    moved = Item.objects.filter(pk=item.pk, version=version).update(
        gold=after,
        status=status,
        version=version + 1,
        settled_at=now if status == Item.Status.SETTLED else None,
    )
    if moved != 1:
        raise _StaleVersion
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                item=item,
                reviewer=reviewer,
                action=action,
                version=version + 1,
                before=before,
                after=after,
                changed_fields=changed_fields(before, after),
                overrides_majority=overrides,
                note=note,
            )
    except IntegrityError:
        raise _StaleVersion from None
    item.gold, item.status, item.version = after, status, version + 1
    item.settled_at = now if status == Item.Status.SETTLED else None
    return decision


class _StaleVersion(Exception):
    pass


def _conflict(item_id: int, version: int) -> Conflict:
    item = Item.objects.get(pk=item_id)
    return Conflict(item, latest_decision(item_id), version)


def item_decide(
    *,
    item_id: int,
    reviewer: Any,
    labels: Any,
    note: str = "",
    version: int,
) -> Decision:
    """Settle an item with the reviewer's final labels.

    Raises ValidationError (field errors; `note` when the labels override a strict majority
    of the annotators and no note is given, `status` when the item is not up for review) or
    Conflict when the item's version is no longer `version`."""
    note = (note or "").strip()
    try:
        with transaction.atomic():
            item = _lock(item_id)
            if item.version != version:
                raise _StaleVersion
            if item.status not in REVIEWABLE:
                raise ValidationError(
                    {"status": [f"The item is {item.get_status_display().lower()}, not in review."]}
                )
            schema, kind = item_kind_schema(item)
            result = validate_labels(labels, schema, kind, text_length=item_text_length(item))
            if not result.ok:
                raise ValidationError(result.errors)
            names = [f["name"] for f in fields_of(schema, kind)]
            overridden = overrides_majority(item_label_values(item), result.values, names)
            if overridden and not note:
                raise ValidationError(
                    {
                        "note": [
                            "A note is required: these labels override the annotators' majority "
                            f"on {', '.join(overridden)}."
                        ]
                    }
                )
            decision = _append(
                item=item,
                version=version,
                reviewer=reviewer,
                action=Decision.Action.DECIDE,
                after=result.values,
                note=note,
                overrides=bool(overridden),
                status=Item.Status.SETTLED,
            )
            project = item.project
            transaction.on_commit(lambda: _maybe_retrain(project))
            return decision
    except _StaleVersion:
        raise _conflict(item_id, version) from None


def item_reopen(*, item_id: int, reviewer: Any, note: str, version: int) -> Decision:
    """Send a settled item back to review: the gold becomes None (logged with a reason)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why the item is reopened."]})
    try:
        with transaction.atomic():
            item = _lock(item_id)
            if item.version != version:
                raise _StaleVersion
            if item.status != Item.Status.SETTLED:
                raise ValidationError({"status": ["Only a settled item can be reopened."]})
            return _append(
                item=item,
                version=version,
                reviewer=reviewer,
                action=Decision.Action.REOPEN,
                after=None,
                note=note,
                overrides=False,
                status=Item.Status.REVIEW,
            )
    except _StaleVersion:
        raise _conflict(item_id, version) from None


# --------------------------------------------------------------------------- reads


def review_queryset(
    project: Any,
    *,
    kind: str = "claim",
    status: str = Item.Status.REVIEW,
    language: str | None = None,
    outlet: str | None = None,
    gold: bool | None = None,
) -> Any:
    """Items of the review queue, most uncertain first, with what a list row shows."""
    qs = Item.objects.filter(project=project, kind=kind, status=status)
    if kind == Item.Kind.CLAIM:
        qs = qs.select_related("claim__article")
        if language:
            qs = qs.filter(claim__language=language)
        if outlet:
            qs = qs.filter(claim__article__outlet_name=outlet)
    else:
        qs = qs.select_related("pair__claim_a__article", "pair__claim_b__article")
        if language:
            qs = qs.filter(pair__claim_a__language=language)
        if outlet:
            qs = qs.filter(pair__claim_a__article__outlet_name=outlet)
    if gold is not None:
        qs = qs.filter(is_gold=gold)
    return qs.order_by("-uncertainty", "id")


def item_labels(item: Item) -> list[Label]:
    """The item's labels in a fixed order (first submitted first), with their annotators."""
    return list(
        Label.objects.filter(item=item).select_related("annotator").order_by("created_at", "id")
    )


def item_trail(item: Item) -> list[Decision]:
    return list(item.decisions.select_related("reviewer").order_by("version"))
