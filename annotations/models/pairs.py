"""Cross-source pairs, event clusters and stored claim embeddings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .core import Project


class PairingSettings(models.Model):
    """Per-project pairing thresholds (a row is created on first use with the defaults)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="pairing")
    threshold = models.FloatField(
        default=0.5, help_text="Pairs scoring at least this become annotation items."
    )
    cluster_threshold = models.FloatField(
        default=0.6, help_text="Pairs scoring at least this link claims into event clusters."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=0) & Q(threshold__lte=1), name="pairing_threshold_range"
            ),
            models.CheckConstraint(
                condition=Q(cluster_threshold__gte=0) & Q(cluster_threshold__lte=1),
                name="pairing_cluster_threshold_range",
            ),
        ]


class EventCluster(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="clusters")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    manual = models.BooleanField(
        default=False,
        help_text="Made or changed by an admin (merge/split): automatic clustering keeps its "
        "members and only adds new claims to it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "key"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="cluster_key_unique")
        ]

    def __str__(self) -> str:
        return self.title or self.key


class ClaimPair(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pairs")
    claim_a = models.ForeignKey("annotations.Claim", on_delete=models.CASCADE, related_name="+")
    claim_b = models.ForeignKey("annotations.Claim", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=16)
    score = models.FloatField()
    features = models.JSONField(default=dict)
    cluster = models.ForeignKey(
        EventCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["claim_a", "claim_b"], name="pair_unique"),
            models.CheckConstraint(condition=Q(claim_a__lt=F("claim_b")), name="pair_ordered"),
        ]
        indexes = [models.Index(fields=["project", "-score"])]


class ClaimEmbedding(models.Model):
    claim = models.OneToOneField(
        "annotations.Claim", primary_key=True, on_delete=models.CASCADE, related_name="embedding"
    )
    model = models.CharField(max_length=64)
    vector = models.BinaryField()
    paired_at = models.DateTimeField(
        null=True, blank=True, help_text="When the claim was first paired (null: not yet)."
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["paired_at"], condition=Q(paired_at__isnull=True), name="emb_unpaired"
            )
        ]


class ClusterEdit(models.Model):
    """The log of an admin's manual merges and splits of event clusters."""

    class Action(models.TextChoices):
        MERGE = "merge"
        SPLIT = "split"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cluster_edits")
    action = models.CharField(max_length=8, choices=Action.choices)
    cluster = models.ForeignKey(
        EventCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="edits"
    )
    clusters = models.JSONField(default=list, help_text="Keys of the clusters involved.")
    claims = models.JSONField(default=list, help_text="Claim ids moved (split).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["merge", "split"]), name="cluster_edit_action_valid"
            )
        ]
