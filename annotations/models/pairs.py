"""Cross-source pairs, event clusters and stored claim embeddings."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from .core import Project


class EventCluster(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="clusters")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
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
