"""Event pages (reviewers and admins): the list of event clusters, one event with its claims
side by side by outlet and the pair relations labelled so far, and the admins' merge/split
forms and "compute pairs" button. Reads used by the pairs API live here too."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ..models import Claim, ClaimPair, EventCluster, Item, Job, Label, Project
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, can_admin, project_for
from ..services.pairs import (
    ClusterEditError,
    cluster_split,
    clusters_merge,
    pairing_settings,
    pairing_settings_update,
    pairs_job_create,
)

PAGE_SIZE = 25

# --- reads ----------------------------------------------------------------------------------


def clusters_of(project: Project, q: str = "") -> QuerySet[Any]:
    """Event clusters with claim counts and date span; `q` searches titles and claim texts."""
    qs = EventCluster.objects.filter(project=project)
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(pk__in=Claim.objects.filter(
                project=project, cluster__isnull=False, text__icontains=q
            ).values("cluster_id"))
        )  # fmt: skip
    return qs.annotate(
        n_claims=Count("claims"),
        first_date=Min("claims__article__published"),
        last_date=Max("claims__article__published"),
    )


def attach_facets(clusters: list[EventCluster]) -> list[EventCluster]:
    """Set `.outlets` and `.languages` on each cluster with one query for all of them."""
    outlets: dict[int, set[str]] = defaultdict(set)
    languages: dict[int, set[str]] = defaultdict(set)
    rows = (
        Claim.objects.filter(cluster_id__in=[c.pk for c in clusters])
        .values_list("cluster_id", "article__outlet__name", "article__outlet_name", "language")
        .distinct()
    )
    for cluster_id, outlet, outlet_name, language in rows:
        outlets[cluster_id].add(outlet or outlet_name or "(unknown outlet)")
        if language:
            languages[cluster_id].add(language)
    for c in clusters:
        c.outlets = sorted(outlets[c.pk])  # type: ignore[attr-defined]
        c.languages = sorted(languages[c.pk])  # type: ignore[attr-defined]
    return clusters


def cluster_claims(cluster: EventCluster) -> list[Claim]:
    return list(
        Claim.objects.filter(cluster=cluster)
        .select_related("article__outlet", "item")
        .order_by("article__published", "article_id", "position")
    )


def outlet_name(claim: Claim) -> str:
    article = claim.article
    if article.outlet is not None:
        return article.outlet.name
    return article.outlet_name or "(unknown outlet)"


def attribution(claim: Claim) -> dict[str, Any] | None:
    """Who the claim is attributed to: from the settled gold if any, else the suggestion."""
    item = getattr(claim, "item", None)
    labels: dict[str, Any] | None = None
    origin = ""
    if item is not None and item.status == Item.Status.SETTLED and item.gold:
        labels, origin = item.gold, "gold"
    elif claim.suggestion:
        labels, origin = (claim.suggestion or {}).get("labels") or {}, "suggestion"
    if not labels or labels.get("is_attributed") is None:
        return None

    def span(name: str) -> str:
        value = labels.get(name)
        if isinstance(value, list | tuple) and len(value) == 2:
            try:
                lo, hi = int(value[0]), int(value[1])
            except (TypeError, ValueError):
                return ""
            return claim.text[max(0, lo) : max(0, hi)]
        return ""

    return {
        "attributed": bool(labels.get("is_attributed")),
        "source": span("source_span"),
        "cue": span("cue_span"),
        "source_type": labels.get("source_type") or "",
        "origin": origin,
    }


def cluster_relations(cluster: EventCluster, claims: list[Claim]) -> list[dict[str, Any]]:
    """Stored pairs inside the cluster with their gold (if settled) and raw label counts."""
    ids = [c.pk for c in claims]
    pairs = list(
        ClaimPair.objects.filter(claim_a_id__in=ids, claim_b_id__in=ids)
        .select_related("item")
        .order_by("-score", "pk")
    )
    item_ids = [p.item.pk for p in pairs if getattr(p, "item", None) is not None]
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for item_id, values in Label.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "values"
    ):
        values = values or {}
        key = str(values.get("same_event", "?"))
        if values.get("relation"):
            key += f" / {values['relation']}"
        counts[item_id][key] += 1
    rows = []
    for p in pairs:
        item = getattr(p, "item", None)
        rows.append(
            {
                "pair": p,
                "item": item,
                "gold": item.gold if item is not None and item.status == "settled" else None,
                "counts": sorted(counts[item.pk].items()) if item is not None else [],
            }
        )
    return rows


def outlet_columns(claims: list[Claim]) -> list[dict[str, Any]]:
    columns: dict[str, list[dict[str, Any]]] = {}
    for claim in claims:
        columns.setdefault(outlet_name(claim), []).append(
            {"claim": claim, "attribution": attribution(claim)}
        )
    return [{"outlet": name, "rows": rows} for name, rows in sorted(columns.items())]


def latest_pairs_job(project: Project) -> Job | None:
    return Job.objects.filter(project=project, kind="pairs").order_by("-created_at").first()


# --- pages ----------------------------------------------------------------------------------


@login_required
def events_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    q = request.GET.get("q", "").strip()[:200]
    clusters = clusters_of(project, q).order_by("-n_claims", "key")
    page = Paginator(clusters, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_facets(list(page.object_list))
    is_admin = can_admin(request.user, project)
    context = {
        "project": project,
        "page": page,
        "q": q,
        "query": urlencode({"q": q}) if q else "",
        "is_admin": is_admin,
        "job": latest_pairs_job(project) if is_admin else None,
        "settings": pairing_settings(project),
        "n_pairs": ClaimPair.objects.filter(project=project).count(),
    }
    if getattr(request, "htmx", False) and request.GET.get("fragment") == "rows":
        return render(request, "annotations/_event_rows.html", context)
    return render(request, "annotations/events.html", context)


@login_required
def event_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    cluster = get_object_or_404(EventCluster.objects.filter(project=project), pk=pk)
    claims = cluster_claims(cluster)
    is_admin = can_admin(request.user, project)
    others: list[EventCluster] = []
    if is_admin:
        others = list(clusters_of(project).exclude(pk=cluster.pk).order_by("-n_claims", "key")[:50])
    return render(
        request,
        "annotations/event.html",
        {
            "project": project,
            "cluster": cluster,
            "claims": claims,
            "columns": outlet_columns(claims),
            "relations": cluster_relations(cluster, claims),
            "is_admin": is_admin,
            "others": others,
            "edits": cluster.edits.select_related("user").order_by("-created_at")[:20],
        },
    )


def _int_list(values: list[str]) -> list[int] | None:
    out = []
    for v in values:
        try:
            n = int(v)
        except (TypeError, ValueError):
            return None
        if n < 0 or n > 2**63 - 1:
            return None
        out.append(n)
    return out


@login_required
@require_POST
def events_merge_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    ids = _int_list(request.POST.getlist("clusters"))
    back = request.POST.get("back", "")
    try:
        if ids is None:
            raise ClusterEditError("Invalid event ids.")
        target = clusters_merge(project=project, cluster_ids=ids, user=request.user)
    except ClusterEditError as exc:
        messages.error(request, str(exc))
        if back.isdigit():
            return redirect("event", slug=project.slug, pk=int(back))
        return redirect("events", slug=project.slug)
    messages.success(request, f"Merged {len(set(ids))} events.")
    return redirect("event", slug=project.slug, pk=target.pk)


@login_required
@require_POST
def event_split_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    cluster = get_object_or_404(EventCluster.objects.filter(project=project), pk=pk)
    ids = _int_list(request.POST.getlist("claims"))
    try:
        if ids is None:
            raise ClusterEditError("Invalid claim ids.")
        new = cluster_split(cluster=cluster, claim_ids=ids, user=request.user)
    except ClusterEditError as exc:
        messages.error(request, str(exc))
        return redirect("event", slug=project.slug, pk=cluster.pk)
    messages.success(request, f"Split {len(set(ids))} claims into a new event.")
    return redirect("event", slug=project.slug, pk=new.pk)


@login_required
@require_POST
def pairs_compute_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    full = request.POST.get("full") == "1"
    job = pairs_job_create(project=project, user=request.user, incremental=not full)
    if getattr(request, "htmx", False):
        return render(request, "annotations/_job.html", {"job": job})
    messages.success(request, "Pairing started.")
    return redirect(reverse("events", args=[project.slug]) + "#pairs-job")


@login_required
@require_POST
def pairing_settings_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    try:
        threshold = float(request.POST.get("threshold", ""))
        cluster_threshold = float(request.POST.get("cluster_threshold", ""))
        pairing_settings_update(
            project=project, threshold=threshold, cluster_threshold=cluster_threshold
        )
    except ValueError:
        messages.error(request, "Thresholds must be numbers between 0 and 1.")
    else:
        messages.success(request, "Pairing thresholds saved; they apply from the next run.")
    return redirect("events", slug=project.slug)


urlpatterns = [
    path("p/<slug:slug>/events/", events_page, name="events"),
    path("p/<slug:slug>/events/merge/", events_merge_view, name="events-merge"),
    path("p/<slug:slug>/events/compute/", pairs_compute_view, name="pairs-compute"),
    path("p/<slug:slug>/events/settings/", pairing_settings_view, name="pairing-settings"),
    path("p/<slug:slug>/events/<int:pk>/", event_page, name="event"),
    path("p/<slug:slug>/events/<int:pk>/split/", event_split_view, name="event-split"),
]
