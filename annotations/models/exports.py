"""Frozen dataset versions, the export's pseudonyms and split-cache log, stored agreement
reports and trained suggestion models."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .core import Job, Project


class DatasetVersion(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    files = models.JSONField(default=dict, blank=True, help_text="file name -> sha256, size")
    changelog = models.TextField(blank=True)
    datasheet = models.TextField(blank=True)
    record_counts = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="dataset_version_unique")
        ]


class Pseudonym(models.Model):
    """When each annotator first labelled (role "a") and each reviewer first decided (role "r")
    in a project: the export numbers them a1, a2, … and r1, r2, … in that order (then by user
    id). Written by database triggers on the label and decision tables (migration
    0003_export_speed), so every way of storing a label keeps it: the services, bulk SQL,
    fixtures. A pseudonym, once given, stays: removing labels never renumbers annotators."""

    class Role(models.TextChoices):
        ANNOTATOR = "a"
        REVIEWER = "r"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=1, choices=Role.choices)
    first_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "role", "user"], name="pseudonym_unique")
        ]


class SplitInputChange(models.Model):
    """One row per transaction that changed what a project's splits are computed from (claims
    added or removed, a claim's cluster, article or language, an article's outlet). Written by
    database triggers on PostgreSQL (0003_export_speed). Rows are never deleted, so the number
    of rows a snapshot sees identifies the split inputs it sees: the key of the split cache
    (services/splits.py)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    txid = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "txid"], name="split_input_change_unique")
        ]


class AgreementReport(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=8, default="claim")
    result = models.JSONField()
    seconds = models.FloatField(default=0)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "kind", "-created_at"]
        indexes = [models.Index(fields=["project", "kind", "-created_at"])]


class SuggestionModel(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="models")
    field = models.CharField(max_length=40, default="verifiability")
    n_labels = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict)
    blob = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at"]
