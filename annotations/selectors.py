"""Reads for pages and API, with their joins and counts in one place."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Item, Job, Project
from .permissions import is_site_admin, role_in, visible_projects

COUNTS_SECONDS = 60


def status_counts_cached(project_ids: list[int], kind: str = "claim") -> dict[int, dict[str, int]]:
    """Items by status per project, cached COUNTS_SECONDS per project: counting a 1M-item
    project scans its items, so pages that show the figures (home, project page) reuse them for
    a minute. Missing projects are counted together in one grouped query."""
    from django.core.cache import cache

    keys = {pid: f"status-counts:{kind}:{pid}" for pid in project_ids}
    found = cache.get_many(list(keys.values()))
    out = {pid: found[key] for pid, key in keys.items() if key in found}
    missing = [pid for pid in project_ids if pid not in out]
    if missing:
        fresh: dict[int, dict[str, int]] = {
            pid: dict.fromkeys(Item.Status.values, 0) for pid in missing
        }
        rows = (
            Item.objects.filter(project_id__in=missing, kind=kind)
            .values_list("project_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for pid, status, n in rows:
            fresh[pid][status] = n
        cache.set_many({keys[pid]: counts for pid, counts in fresh.items()}, COUNTS_SECONDS)
        out.update(fresh)
    return out


def projects_with_progress(user: Any) -> list[dict[str, Any]]:
    """The user's projects with claim counts by state: one query for the projects and the
    user's roles, plus one grouped count for projects whose figures are not cached."""
    from django.db.models import OuterRef, Subquery

    from .models import Membership

    my_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    projects = list(
        visible_projects(user)
        .filter(archived_at__isnull=True)
        .annotate(my_role=Subquery(my_role))
        .order_by("name")
    )
    counts = status_counts_cached([p.pk for p in projects])
    rows = []
    site_admin = is_site_admin(user)
    cache: dict[int, str | None] = user.__dict__.setdefault("_wb_roles", {})
    for project in projects:
        c = counts[project.pk]
        total = sum(c.values()) - c.get("excluded", 0)
        # Same answer as permissions.role_in, from the one query above (no query per row).
        cache.setdefault(project.pk, project.my_role or ("admin" if site_admin else None))
        rows.append(
            {
                "project": project,
                "role": role_in(user, project),
                "items": total,
                "settled": c.get("settled", 0),
                "review": c.get("review", 0),
                "percent": round(100 * c.get("settled", 0) / total) if total else 0,
            }
        )
    return rows


def project_overview_cached(project: Project) -> dict[str, Any]:
    """Figures of the project page, cached COUNTS_SECONDS (full counts at 1M claims)."""
    from django.core.cache import cache

    key = f"project-overview:{project.pk}"
    data = cache.get(key)
    if data is None:
        data = {
            "n_documents": project.documents.count(),
            "n_articles": project.articles.count(),
            "n_claims": project.claims.count(),
        }
        cache.set(key, data, COUNTS_SECONDS)
    data = dict(data)
    data["claim_counts"] = status_counts_cached([project.pk], "claim")[project.pk]
    data["pair_counts"] = status_counts_cached([project.pk], "pair")[project.pk]
    return data


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


# --- progress (admin) -------------------------------------------------------------------------


def item_progress(project: Project, kind: str = "claim") -> dict[str, Any]:
    """Items of one kind by state, in one query grouped by (status, n_done, leased?).

    States shown to admins: queued (open, nothing done or leased), in progress (a lease or some
    labels but fewer than k), labelled k times (waiting for aggregation or review), needs
    review, settled, and not queued (excluded by the queue filter)."""
    from django.db.models import Case, IntegerField, Value, When

    rows = (
        Item.objects.filter(project=project, kind=kind)
        .annotate(
            leased=Case(When(n_leased__gt=0, then=Value(1)), default=0, output_field=IntegerField())
        )
        .values_list("status", "n_done", "leased", "k")
        .annotate(n=Count("id"))
        .order_by()
    )
    out = {
        "queued": 0,
        "in_progress": 0,
        "labelled": 0,
        "review": 0,
        "settled": 0,
        "excluded": 0,
        "total": 0,
        "by_done": {},
    }
    by_done: dict[int, int] = {}
    for status, n_done, leased, k, n in rows:
        out["total"] += n
        if status != Item.Status.EXCLUDED:
            by_done[n_done] = by_done.get(n_done, 0) + n
        if status == Item.Status.EXCLUDED:
            out["excluded"] += n
        elif status == Item.Status.SETTLED:
            out["settled"] += n
        elif status == Item.Status.REVIEW:
            out["review"] += n
        elif n_done >= k:
            out["labelled"] += n
        elif n_done or leased:
            out["in_progress"] += n
        else:
            out["queued"] += n
    out["by_done"] = [{"n_done": d, "items": by_done[d]} for d in sorted(by_done)]
    return out


def _median_seconds(project: Project) -> dict[int, float | None]:
    """Median Label.seconds per annotator (percentile_cont on PostgreSQL)."""
    from django.conf import settings
    from django.db.models import Aggregate, FloatField

    from .models import Label

    labels = Label.objects.filter(item__project=project, seconds__isnull=False)
    if settings.USING_POSTGRES:

        class Median(Aggregate):
            function = "PERCENTILE_CONT"
            template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
            output_field = FloatField()

        return dict(labels.values_list("annotator_id").annotate(m=Median("seconds")).order_by())
    values: dict[int, list[float]] = {}
    for annotator_id, seconds in labels.values_list("annotator_id", "seconds").iterator():
        assert seconds is not None  # seconds__isnull=False above
        values.setdefault(annotator_id, []).append(seconds)
    out: dict[int, float | None] = {}
    for annotator_id, xs in values.items():
        xs.sort()
        mid = len(xs) // 2
        out[annotator_id] = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
    return out


def annotator_throughput(project: Project, now: Any) -> list[dict[str, Any]]:
    """Per annotator: labels in total, in the last hour and day, labels per working hour
    (from the time spent per label), median seconds per item. Two grouped queries."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db.models import Sum

    from .models import Label

    grouped = (
        Label.objects.filter(item__project=project)
        .values("annotator_id")
        .annotate(
            total=Count("id"),
            last_hour=Count("id", filter=Q(created_at__gte=now - timedelta(hours=1))),
            last_day=Count("id", filter=Q(created_at__gte=now - timedelta(days=1))),
            spent=Sum("seconds"),
            timed=Count("seconds"),
        )
        .order_by()
    )
    medians = _median_seconds(project)
    rows = list(grouped)
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[r["annotator_id"] for r in rows])
        .values_list("pk", "username")
    )
    out = []
    for r in rows:
        per_hour = 3600 * r["timed"] / r["spent"] if r["spent"] else None
        out.append(
            {
                "annotator_id": r["annotator_id"],
                "username": names.get(r["annotator_id"], "?"),
                "total": r["total"],
                "last_hour": r["last_hour"],
                "last_day": r["last_day"],
                "per_hour": per_hour,
                "median_seconds": medians.get(r["annotator_id"]),
            }
        )
    out.sort(key=lambda r: (-r["total"], r["username"]))
    return out


def labels_per_day(project: Project, now: Any, days: int = 30) -> list[dict[str, Any]]:
    """Labels made per day over the last `days` days (days without labels included as 0)."""
    from datetime import timedelta

    from django.db.models.functions import TruncDate

    from .models import Label

    today = timezone_localdate(now)
    start = today - timedelta(days=days - 1)
    counts = dict(
        Label.objects.filter(item__project=project, created_at__date__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
        .order_by()
    )
    return [
        {"day": start + timedelta(days=i), "n": counts.get(start + timedelta(days=i), 0)}
        for i in range(days)
    ]


def timezone_localdate(now: Any) -> Any:
    from django.utils import timezone

    return timezone.localdate(now)


def stuck_leases(project: Project, now: Any, older_than_minutes: int) -> QuerySet[Any]:
    """Active leases held longer than N minutes, or expired and not yet reclaimed."""
    from datetime import timedelta

    from .models import Assignment

    cutoff = now - timedelta(minutes=older_than_minutes)
    return (
        Assignment.objects.filter(item__project=project, state=Assignment.State.LEASED)
        .filter(Q(leased_at__lte=cutoff) | Q(expires_at__lte=now))
        .select_related("annotator", "item")
        .order_by("leased_at", "id")
    )


# --- registry, members, schema (admin) --------------------------------------------------------


def outlets_for(
    project: Project, *, q: str = "", kind: str = "", reviewed: str = ""
) -> QuerySet[Any]:
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from .models import Article, Outlet

    n_articles = (
        Article.objects.filter(outlet=OuterRef("pk"))
        .order_by()
        .values("outlet")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = Outlet.objects.filter(project=project)
    if q.strip():
        q = q.strip()
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(key__icontains=q)
            | Q(affiliation__icontains=q)
            | Q(country__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if reviewed in ("yes", "no"):
        qs = qs.filter(reviewed=reviewed == "yes")
    return qs.annotate(n_articles=Coalesce(Subquery(n_articles), 0)).order_by("name", "id")


def named_sources_for(
    project: Project, *, q: str = "", source_type: str = "", reviewed: str = ""
) -> QuerySet[Any]:
    from .models import NamedSource

    qs = NamedSource.objects.filter(project=project)
    if q.strip():
        q = q.strip()
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(key__icontains=q)
            | Q(affiliation__icontains=q)
            | Q(country__icontains=q)
        )
    if source_type:
        qs = qs.filter(source_type=source_type)
    if reviewed in ("yes", "no"):
        qs = qs.filter(reviewed=reviewed == "yes")
    return qs.order_by("-mentions", "name", "id")


def members_for(project: Project, *, q: str = "", role: str = "") -> QuerySet[Any]:
    from .models import Membership

    qs = Membership.objects.filter(project=project).select_related("user")
    if q.strip():
        qs = qs.filter(Q(user__username__icontains=q.strip()) | Q(user__email__icontains=q.strip()))
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("user__username", "id")


def schema_history(project: Project) -> QuerySet[Any]:
    from .models import SchemaVersion

    return (
        SchemaVersion.objects.filter(project=project)
        .select_related("created_by")
        .defer("schema")
        .order_by("-version")
    )


def archived_projects_for(user: Any) -> list[Project]:
    """Archived projects this user administers (to unarchive them). One query."""
    from .models import Role
    from .permissions import is_site_admin

    qs = Project.objects.filter(archived_at__isnull=False)
    if not is_site_admin(user):
        qs = qs.filter(memberships__user=user, memberships__role=Role.ADMIN)
    return list(qs.order_by("name"))
