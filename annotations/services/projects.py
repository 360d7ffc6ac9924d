"""Creating and changing projects and their versioned schema and guidelines."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import Project, SchemaVersion
from ..schema.validation import check_schema, default_guidelines, default_schema


def project_create(
    *,
    slug: str,
    name: str = "",
    overlap: int = 2,
    lease_seconds: int = 600,
    user: Any = None,
    **settings: Any,
) -> Project:
    if overlap < 1 or overlap > 20:
        raise ValueError("overlap must be between 1 and 20")
    if lease_seconds < 30:
        raise ValueError("lease length must be at least 30 seconds")
    with transaction.atomic():
        project = Project.objects.create(
            slug=slug,
            name=name or slug.replace("-", " ").title(),
            overlap=overlap,
            lease_seconds=lease_seconds,
            created_by=user if user is not None and user.is_authenticated else None,
            **settings,
        )
        SchemaVersion.objects.create(
            project=project,
            version=1,
            schema=default_schema(),
            guidelines=default_guidelines(),
            note="Default schema",
            created_by=project.created_by,
        )
    return project


def project_update(*, project: Project, **changes: Any) -> Project:
    """Change project settings; a changed overlap applies to items still open."""
    from ..models import Item

    allowed = {
        "name",
        "description",
        "languages",
        "overlap",
        "lease_seconds",
        "queue_order",
        "queue_filter",
        "likelihood_threshold",
        "auto_settle",
        "suggestions",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        old_overlap = project.overlap
        for key, value in changes.items():
            setattr(project, key, value)
        project.full_clean()
        project.save()
        if project.overlap != old_overlap:
            # Raise k where it is safe (never below what is already done or leased).
            for item in Item.objects.select_for_update().filter(
                project=project, status__in=["open", "full"]
            ):
                item.k = max(project.overlap, item.n_done + item.n_leased)
                item.status = "open" if item.n_done + item.n_leased < item.k else "full"
                item.save(update_fields=["k", "status"])
    return project


def project_archive(*, project: Project, archived: bool = True) -> Project:
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    return project


def schema_version_create(
    *, project: Project, schema: dict[str, Any], guidelines: str, note: str = "", user: Any = None
) -> SchemaVersion:
    check_schema(schema)
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        latest = project.schema_versions.aggregate(v=Max("version"))["v"] or 0
        return SchemaVersion.objects.create(
            project=project,
            version=latest + 1,
            schema=schema,
            guidelines=guidelines,
            note=note,
            created_by=user if user is not None and user.is_authenticated else None,
        )


def current_schema(project: Project) -> SchemaVersion:
    version = project.schema_versions.order_by("-version").first()
    if version is None:
        version = SchemaVersion.objects.create(
            project=project, version=1, schema=default_schema(), guidelines=default_guidelines()
        )
    return version
