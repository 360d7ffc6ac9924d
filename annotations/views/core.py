"""Home page, health check, job progress, and the error pages."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..middleware import unavailable_response
from ..models import Job
from ..permissions import can_admin, can_review, is_site_admin
from ..selectors import projects_with_progress
from ..services.jobs import job_resend_if_stale
from .htmx import HtmxHttpRequest


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "annotations/home.html",
        {"rows": projects_with_progress(request.user), "site_admin": is_site_admin(request.user)},
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, Any] = {"version": settings.WORKBENCH_VERSION}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body["database"] = "ok"
    except (DatabaseError, OperationalError, InterfaceError) as exc:
        body["database"] = f"error: {type(exc).__name__}"
        status = 503
    if not settings.REDIS_URL:
        body["broker"] = "in-process"
    else:
        body["broker"] = _broker_status()
        if body["broker"] != "ok":
            status = 503
    return JsonResponse(body, status=status)


def _broker_status() -> str:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


# Jobs whose progress reviewers follow on their own pages (dataset versions, agreement).
REVIEWER_JOB_KINDS = frozenset({"export", "agreement", "aggregate"})


def job_visible(user: Any, job: Job) -> bool:
    if job.created_by_id == user.pk:
        return True
    if job.project is None:
        return False
    if job.kind in REVIEWER_JOB_KINDS and can_review(user, job.project):
        return True
    return can_admin(user, job.project)


@login_required
def job_detail(request: HtmxHttpRequest, job_id: str) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("project"), pk=job_id)
    if not job_visible(request.user, job):
        raise PermissionDenied
    job_resend_if_stale(job)
    template = "annotations/_job.html" if request.htmx else "annotations/job.html"
    response = render(request, template, {"job": job})
    if request.htmx and job.finished:
        # Stop polling: htmx treats 286 as "stop".
        response.status_code = 286
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return unavailable_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return render(request, "500.html", status=500)
