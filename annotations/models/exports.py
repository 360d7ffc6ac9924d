"""Frozen dataset versions, stored agreement reports and trained suggestion models."""

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
