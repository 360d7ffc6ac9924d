"""Reads for pages and API, with their joins and counts in one place."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Item, Job, Project
from .permissions import role_in, visible_projects


def projects_with_progress(user: Any) -> list[dict[str, Any]]:
    """The user's projects with item counts by state (one query for all projects)."""
    projects = list(
        visible_projects(user)
        .filter(archived_at__isnull=True)
        .annotate(
            n_items=Count("items", filter=Q(items__kind="claim") & ~Q(items__status="excluded")),
            n_settled=Count("items", filter=Q(items__kind="claim", items__status="settled")),
            n_review=Count("items", filter=Q(items__kind="claim", items__status="review")),
        )
        .order_by("name")
    )
    rows = []
    for project in projects:
        total = project.n_items or 0
        rows.append(
            {
                "project": project,
                "role": role_in(user, project),
                "items": total,
                "settled": project.n_settled,
                "review": project.n_review,
                "percent": round(100 * project.n_settled / total) if total else 0,
            }
        )
    return rows


def item_state_counts(project: Project, kind: str = "claim") -> dict[str, int]:
    counts = dict(
        Item.objects.filter(project=project, kind=kind)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Item.Status.values}


def jobs_for(user: Any, project: Project | None = None) -> QuerySet[Job]:
    qs = Job.objects.all()
    if project is not None:
        qs = qs.filter(project=project)
    return qs.select_related("project", "created_by")
