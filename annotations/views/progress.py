"""Progress page for project admins: items by state, annotator throughput, labels per day
(server-side SVG), and leases that are stuck, with release and reassign actions.

Reassign = release the lease and give the same item to a chosen annotator at once (see
annotations/services/progress.py for the exact rule)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..forms import ReassignForm
from ..permissions import ADMIN_ROLES, project_for
from ..selectors import stuck_leases
from ..services.progress import (
    STATS_SECONDS,
    ReassignError,
    lease_for_project,
    lease_reassign,
    progress_stats,
)
from ..services.queue import QueueError, lease_release
from .htmx import HtmxHttpRequest
from .projects import page_of, query_without_page

DEFAULT_STUCK_MINUTES = 30


def _minutes(request: HttpRequest) -> int:
    raw = request.GET.get("minutes", "")
    if raw.isdigit() and 1 <= int(raw) <= 7 * 24 * 60:
        return int(raw)
    return DEFAULT_STUCK_MINUTES


@login_required
def progress(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    now = timezone.now()
    minutes = _minutes(request)
    stats = progress_stats(project, fresh=request.GET.get("fresh") == "1")
    context = {
        "project": project,
        "now": now,
        **(stats or {}),
        "computing": stats is None,
        "stats_seconds": STATS_SECONDS,
        "minutes": minutes,
        "leases": page_of(request, stuck_leases(project, now, minutes), per_page=25),
        "query": query_without_page(request),
        "reassign_form": ReassignForm(),
    }
    if request.htmx and request.GET.get("fragment") == "leases":
        return render(request, "annotations/_progress_leases.html", context)
    return render(request, "annotations/progress.html", context)


def _back(project_slug: str, request: HttpRequest) -> HttpResponse:
    url = reverse("progress", args=[project_slug])
    minutes = request.POST.get("minutes", "")
    if minutes.isdigit():
        url += f"?minutes={minutes}"
    return redirect(url + "#leases")


@login_required
@require_POST
def lease_release_view(request: HttpRequest, slug: str, lease_id: int) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    assignment = lease_for_project(project=project, lease_id=lease_id)
    if assignment is None:
        raise Http404("No such lease.")
    try:
        lease_release(assignment=assignment, by=request.user)
    except QueueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Lease #{lease_id} of {assignment.annotator.get_username()} released; "
            "the item is back in the queue.",
        )
    return _back(project.slug, request)


@login_required
@require_POST
def lease_reassign_view(request: HttpRequest, slug: str, lease_id: int) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    assignment = lease_for_project(project=project, lease_id=lease_id)
    if assignment is None:
        raise Http404("No such lease.")
    form = ReassignForm(request.POST)
    target = None
    if form.is_valid():
        target = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
    if target is None:
        messages.error(request, "No such user.")
        return _back(project.slug, request)
    try:
        lease_reassign(assignment=assignment, to_user=target, by=request.user)
    except (ReassignError, QueueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Item #{assignment.item_id} moved from {assignment.annotator.get_username()} "
            f"to {target.get_username()}.",
        )
    return _back(project.slug, request)


urlpatterns = [
    path("p/<slug:slug>/progress/", progress, name="progress"),
    path(
        "p/<slug:slug>/progress/leases/<int:lease_id>/release/",
        lease_release_view,
        name="lease-release",
    ),
    path(
        "p/<slug:slug>/progress/leases/<int:lease_id>/reassign/",
        lease_reassign_view,
        name="lease-reassign",
    ),
]
