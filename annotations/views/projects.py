"""Project pages: overview, creation, settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse

from ..forms import ProjectForm
from ..permissions import (
    ADMIN_ROLES,
    ANNOTATE_ROLES,
    REVIEW_ROLES,
    is_site_admin,
    project_for,
    role_in,
)
from ..selectors import item_state_counts
from ..services.projects import project_create

# (url name, label, roles that see the link). Links whose page is not installed are skipped.
PROJECT_LINKS = [
    ("annotate", "Annotate claims", ANNOTATE_ROLES),
    ("annotate-pairs", "Annotate pairs", ANNOTATE_ROLES),
    ("review-queue", "Review queue", REVIEW_ROLES),
    ("agreement", "Agreement", REVIEW_ROLES),
    ("events", "Events", REVIEW_ROLES),
    ("documents", "Documents", REVIEW_ROLES | ADMIN_ROLES),
    ("claims", "Claims", REVIEW_ROLES),
    ("import", "Import", ADMIN_ROLES),
    ("progress", "Progress", ADMIN_ROLES),
    ("registry", "Outlets and sources", ADMIN_ROLES),
    ("versions", "Dataset versions", REVIEW_ROLES),
    ("members", "Members", ADMIN_ROLES),
    ("project-settings", "Settings", ADMIN_ROLES),
    ("schema", "Schema and guidelines", ADMIN_ROLES),
]


def project_links(project_slug: str, role: str | None) -> list[tuple[str, str]]:
    links = []
    for name, label, roles in PROJECT_LINKS:
        if role not in roles:
            continue
        try:
            links.append((reverse(name, args=[project_slug]), label))
        except NoReverseMatch:
            continue
    return links


@login_required
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug)
    role = role_in(request.user, project)
    context = {
        "project": project,
        "role": role,
        "links": project_links(project.slug, role),
    }
    if role in REVIEW_ROLES:
        context["claim_counts"] = item_state_counts(project, "claim")
        context["pair_counts"] = item_state_counts(project, "pair")
        context["n_documents"] = project.documents.count()
        context["n_articles"] = project.articles.count()
        context["n_claims"] = project.claims.count()
    return render(request, "annotations/project_detail.html", context)


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    if not is_site_admin(request.user):
        raise PermissionDenied("Only site admins create projects.")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        slug = data.pop("slug")
        try:
            project = project_create(slug=slug, user=request.user, **data)
        except IntegrityError:
            form.add_error("slug", "A project with this id exists.")
        else:
            from ..services.accounts import membership_set

            membership_set(project=project, user=request.user, role="admin")
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project-detail", project.slug)
    return render(request, "annotations/project_form.html", {"form": form, "creating": True})


urlpatterns = [
    path("projects/new/", project_new, name="project-create"),
    path("p/<slug:slug>/", project_detail, name="project-detail"),
]
