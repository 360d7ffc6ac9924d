"""Dataset versions page: list, freeze (admin, with the job's progress bar), downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ..api.exports import version_file_response, version_state
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, can_admin, project_for
from ..services.exports import dataset_version_freeze, versions_for


@login_required
@require_GET
def versions(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    rows = [
        {
            "version": v,
            "state": version_state(v),
            "files": sorted((v.files or {}).items()),
        }
        for v in versions_for(project)
    ]
    building = next(
        (r["version"].job for r in rows if r["state"] == "building" and r["version"].job), None
    )
    context = {
        "project": project,
        "rows": rows,
        "is_admin": can_admin(request.user, project),
        "building": building,
        "api_export": f"/api/v1/projects/{project.slug}/export/",
    }
    htmx = bool(getattr(request, "htmx", False))
    template = "annotations/_versions.html" if htmx else "annotations/versions.html"
    return render(request, template, context)


@login_required
@require_POST
def version_freeze(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    note = request.POST.get("note", "")[:300]
    version = dataset_version_freeze(project=project, user=request.user, note=note)
    messages.success(request, f"Freezing version {version.number}: the files are being written.")
    return redirect("versions", project.slug)


@login_required
@require_GET
def version_file(request: HttpRequest, slug: str, number: int, name: str) -> HttpResponseBase:
    project = project_for(request.user, slug, REVIEW_ROLES)
    return version_file_response(project, number, name)


urlpatterns = [
    path("p/<slug:slug>/versions/", versions, name="versions"),
    path("p/<slug:slug>/versions/freeze/", version_freeze, name="version-freeze"),
    path(
        "p/<slug:slug>/versions/<int:number>/files/<str:name>",
        version_file,
        name="version-file",
    ),
]
