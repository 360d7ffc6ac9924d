"""Projects, their versioned label schema, per-project roles, and background jobs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Project admin"


class Project(models.Model):
    class QueueOrder(models.TextChoices):
        ARTICLE = "article", "Article order"
        RANDOM = "random", "Random"
        UNCERTAIN = "uncertain", "Most uncertain first"

    class QueueFilter(models.TextChoices):
        ALL = "all", "All claims"
        LIKELY = "likely", "Claims above a likelihood threshold"

    class Suggestions(models.TextChoices):
        OFF = "off", "Off"
        ON = "on", "On"
        HALF = "half", "On for a random half of the annotators"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True)
    overlap = models.PositiveSmallIntegerField(default=2)
    lease_seconds = models.PositiveIntegerField(default=600)
    queue_order = models.CharField(
        max_length=16, choices=QueueOrder.choices, default=QueueOrder.ARTICLE
    )
    queue_filter = models.CharField(max_length=16, choices=QueueFilter.choices, default="all")
    likelihood_threshold = models.FloatField(default=0.5)
    auto_settle = models.BooleanField(
        default=False, help_text="Settle an item without review when every annotator agrees."
    )
    suggestions = models.CharField(max_length=8, choices=Suggestions.choices, default="on")
    seed = models.PositiveIntegerField(default=0, help_text="Seed for random order and splits.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overlap__gte=1) & Q(overlap__lte=20), name="project_overlap_range"
            ),
            models.CheckConstraint(condition=Q(lease_seconds__gte=30), name="project_lease_min"),
            models.CheckConstraint(
                condition=Q(likelihood_threshold__gte=0) & Q(likelihood_threshold__lte=1),
                name="project_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class SchemaVersion(models.Model):
    """One version of a project's label schema and guidelines. Labels keep the version they
    were made under; the newest version is the current one."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schema_versions")
    version = models.PositiveIntegerField()
    schema = models.JSONField()
    guidelines = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="schema_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project.slug} v{self.version}"


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # For the suggestions A/B setting: which half this annotator is in (fixed at join).
    suggestions_arm = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} in {self.project}"


class Job(models.Model):
    """A long task: its state, progress in [0, 1], result and error. Every Celery task that
    does real work updates one of these."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "kind", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="job_progress_range"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]),
                name="job_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}
