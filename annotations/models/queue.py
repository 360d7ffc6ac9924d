"""The annotation queue: items (claims or pairs), leases, labels with revisions, and the
append-only adjudication log from which the gold is derived."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .core import Project, SchemaVersion


class Item(models.Model):
    """One unit of work: a claim or a claim pair, to be labelled `k` times.

    `n_done` and `n_leased` are maintained under the item's row lock; the database refuses any
    state in which completed + leased exceeds `k`.
    """

    class Kind(models.TextChoices):
        CLAIM = "claim"
        PAIR = "pair"

    class Status(models.TextChoices):
        OPEN = "open", "Queued"
        FULL = "full", "Fully leased or labelled"
        REVIEW = "review", "Needs review"
        SETTLED = "settled", "Settled"
        EXCLUDED = "excluded", "Not queued"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    claim = models.OneToOneField(
        "annotations.Claim", null=True, blank=True, on_delete=models.CASCADE, related_name="item"
    )
    pair = models.OneToOneField(
        "annotations.ClaimPair",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="item",
    )
    k = models.PositiveSmallIntegerField(default=2)
    n_done = models.PositiveSmallIntegerField(default=0)
    n_leased = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    order_key = models.BigIntegerField(default=0)
    uncertainty = models.FloatField(default=0.0)
    next_expiry = models.DateTimeField(null=True, blank=True)
    is_gold = models.BooleanField(default=False)
    gold_expected = models.JSONField(null=True, blank=True)
    gold = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    aggregate = models.JSONField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "kind", "order_key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(n_done__gte=0) & Q(n_leased__gte=0) & Q(k__gte=1),
                name="item_counts_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(n_done__lte=F("k") - F("n_leased")), name="item_never_over_assigned"
            ),
            models.CheckConstraint(
                condition=(Q(kind="claim", claim__isnull=False, pair__isnull=True))
                | (Q(kind="pair", pair__isnull=False, claim__isnull=True)),
                name="item_kind_matches_target",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "full", "review", "settled", "excluded"]),
                name="item_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "kind", "order_key"],
                condition=Q(status="open"),
                name="item_open_queue",
            ),
            models.Index(
                fields=["project", "kind", "next_expiry"],
                condition=Q(status="full", next_expiry__isnull=False),
                name="item_expiring",
            ),
            # The review queue: most uncertain first, served in index order (no sort).
            models.Index(
                fields=["project", "kind", "status", "-uncertainty", "id"], name="item_review"
            ),
            models.Index(
                fields=["project", "kind", "-uncertainty", "order_key"],
                condition=Q(status="open"),
                name="item_open_uncertain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} item {self.pk}"


class Assignment(models.Model):
    """A lease of an item to one annotator. One row per (item, annotator), ever."""

    class State(models.TextChoices):
        LEASED = "leased"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        RECLAIMED = "reclaimed", "Expired and given to someone else"
        RELEASED = "released", "Released by an admin"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.LEASED)
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=300, blank=True)
    suggestions_shown = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="assignment_item_annotator"),
            models.CheckConstraint(
                condition=Q(state__in=["leased", "submitted", "skipped", "reclaimed", "released"]),
                name="assignment_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["annotator", "expires_at"],
                condition=Q(state="leased"),
                name="assignment_active",
            )
        ]


class Label(models.Model):
    """An annotator's current labels for an item. Edits are kept as revisions."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="labels")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labels"
    )
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="label")
    schema_version = models.ForeignKey(SchemaVersion, on_delete=models.PROTECT, related_name="+")
    values = models.JSONField()
    seconds = models.FloatField(null=True, blank=True)
    suggested = models.BooleanField(default=False)
    accepted = models.BooleanField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="label_item_annotator")
        ]


class LabelRevision(models.Model):
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="revisions")
    values = models.JSONField()
    schema_version = models.ForeignKey(SchemaVersion, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "created_at"]


class Decision(models.Model):
    """Append-only adjudication log: the current gold is the `after` of the newest entry."""

    class Action(models.TextChoices):
        DECIDE = "decide"
        AUTO_SETTLE = "auto_settle"
        REOPEN = "reopen"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    version = models.PositiveIntegerField(help_text="Item version this entry produced.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    overrides_majority = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="decision_item_version")
        ]
