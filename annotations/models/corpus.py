"""Imported material: documents (files), articles, claims (sentence units), and the registry
of outlets and named sources (affiliation lives here, reviewed, never in annotators' labels)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .core import Job, Project


class Outlet(models.Model):
    class Kind(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        STATE_MEDIA = "state_media", "State media"
        INDEPENDENT = "independent", "Independent"
        PARTISAN_BLOG = "partisan_blog", "Partisan blog"
        ARMED_GROUP = "armed_group", "Armed group outlet"
        INTL_MEDIA = "intl_media", "International media"
        NGO = "ngo", "NGO / monitor"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outlets")
    key = models.CharField(max_length=200, help_text="Normalised name used for matching.")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.UNKNOWN)
    affiliation = models.CharField(max_length=200, blank=True)
    reviewed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="outlet_key_unique")]

    def __str__(self) -> str:
        return self.name


class NamedSource(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="named_sources")
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    source_type = models.CharField(max_length=32, blank=True)
    affiliation = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=80, blank=True)
    reviewed = models.BooleanField(default=False)
    mentions = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="named_source_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """One imported file (or one JSONL record / zip member). Re-importing the same bytes into
    the same project creates nothing new."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(max_length=255)
    format = models.CharField(max_length=16)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    text = models.TextField()
    url = models.URLField(max_length=2000, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stats = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="document_content_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="articles")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="articles")
    position = models.PositiveIntegerField(default=0, help_text="Order within its document.")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    title = models.CharField(max_length=1000, blank=True)
    outlet = models.ForeignKey(
        Outlet, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    outlet_name = models.CharField(max_length=200, blank=True)
    byline = models.CharField(max_length=300, blank=True)
    published = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=12, blank=True)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="article_dedup"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="article_span"),
        ]
        indexes = [models.Index(fields=["project", "published"])]

    def __str__(self) -> str:
        return self.title or f"article {self.pk}"


class ArticleProvenance(models.Model):
    """Every place an article was found: the first import and any duplicate or repost."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="provenances")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="provenances")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "document", "start"], name="provenance_unique"
            )
        ]


class Claim(models.Model):
    """A sentence-level unit. `start`/`end` index the document's decoded text."""

    class UnitKind(models.TextChoices):
        BODY = "body"
        HEADLINE = "headline"
        SUBHEADING = "subheading"
        CAPTION = "caption"
        BYLINE = "byline"
        DATELINE = "dateline"
        BOILERPLATE = "boilerplate"
        CROSS_LINK = "cross_link"
        LIST_ITEM = "list_item"
        QUOTE_CONTINUATION = "quote_continuation"

    class UnitDefect(models.TextChoices):
        NONE = "none"
        ARTIFACT = "artifact"
        TRUNCATED = "truncated"
        FRAGMENT = "fragment"
        GLUED = "glued"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="claims")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="claims")
    position = models.PositiveIntegerField(help_text="Order within its article.")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    language = models.CharField(max_length=12, blank=True)
    unit_kind = models.CharField(max_length=24, choices=UnitKind.choices, default="body")
    unit_defect = models.CharField(max_length=12, choices=UnitDefect.choices, default="none")
    claim_likelihood = models.FloatField(default=0.5)
    suggestion = models.JSONField(null=True, blank=True)
    cluster = models.ForeignKey(
        "annotations.EventCluster",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claims",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="claim_position_unique"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="claim_span"),
        ]
        indexes = [
            models.Index(fields=["project", "language"]),
            # The split assignment counts claims per (article, cluster, language): an
            # index-only scan, in group order (services/splits.py).
            models.Index(
                fields=["project", "article", "cluster", "language"], name="claim_split_groups"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class SegmentFix(models.Model):
    """An admin's correction of a sentence boundary (split or merge), kept as a log."""

    class Action(models.TextChoices):
        SPLIT = "split"
        MERGE = "merge"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="segment_fixes")
    action = models.CharField(max_length=8, choices=Action.choices)
    offset = models.PositiveIntegerField(help_text="Split point, or start of the merged claim.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
