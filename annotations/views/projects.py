"""Project pages: overview, creation, settings, archive, label schema and guidelines, members.

Members page: an admin adds an existing user or creates an account with a role, changes roles
and removes members. Passwords are never shown. A new account may get an initial password typed
by the admin (validated by Django's password validators, passed on out of band); without one the
account has an unusable password and the admin runs
`manage.py workbench_user create NAME --password-stdin`. Existing users' passwords are never
changed here (a project admin must not take over an account used in other projects). The last
admin of a project cannot be removed or demoted.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse

from ..forms import MemberAddForm, MemberRoleForm, ProjectForm, ProjectSettingsForm, SchemaForm
from ..models import Membership, Project, Role
from ..permissions import (
    ADMIN_ROLES,
    ANNOTATE_ROLES,
    REVIEW_ROLES,
    is_site_admin,
    project_for,
    role_in,
)
from ..selectors import (
    archived_projects_for,
    members_for,
    project_overview_cached,
    schema_history,
)
from ..services.projects import project_create

PAGE_SIZE = 50


def page_of(request: HttpRequest, queryset: Any, per_page: int = PAGE_SIZE) -> Any:
    """One page of a list (?page=N; out-of-range pages give the last page)."""
    from django.core.paginator import Paginator

    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string without `page`, for the pager links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


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
    ("suggestion-model", "Suggestion model", REVIEW_ROLES),
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
        # Counts are cached for a minute (selectors.COUNTS_SECONDS): full scans at 1M claims.
        context.update(project_overview_cached(project))
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


@login_required
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    from ..services.items import items_requeue_by_filter
    from ..services.projects import project_update

    project = project_for(request.user, slug, ADMIN_ROLES)
    form = ProjectSettingsForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        # The ModelForm already copied the values onto `project`; reload so the service sees
        # the stored state and applies the change itself.
        project.refresh_from_db()
        before = (project.queue_filter, project.likelihood_threshold)
        project_update(project=project, **changes)
        if (project.queue_filter, project.likelihood_threshold) != before:
            moved = items_requeue_by_filter(project=project)
            messages.info(
                request,
                f"Queue filter applied: {moved['opened']} claims queued, "
                f"{moved['excluded']} not queued (claims already started keep their state).",
            )
        messages.success(request, "Settings saved.")
        return redirect("project-settings", project.slug)
    return render(
        request,
        "annotations/project_form.html",
        {"form": form, "creating": False, "project": project},
    )


@login_required
def project_archive_view(request: HttpRequest, slug: str) -> HttpResponse:
    from ..services.projects import project_archive

    project = project_for(request.user, slug, ADMIN_ROLES)
    if request.method != "POST":
        return redirect("project-settings", project.slug)
    archived = request.POST.get("archived") == "1"
    project_archive(project=project, archived=archived)
    if archived:
        messages.success(
            request, f"“{project.name}” archived: hidden from the home page, no new leases."
        )
    else:
        messages.success(request, f"“{project.name}” is active again.")
    return redirect("project-settings", project.slug)


@login_required
def projects_archived(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "annotations/project_archived.html",
        {"projects": archived_projects_for(request.user)},
    )


@login_required
def schema_page(request: HttpRequest, slug: str) -> HttpResponse:
    import json

    from ..schema.validation import SchemaError
    from ..services.projects import current_schema, schema_version_create

    project = project_for(request.user, slug, ADMIN_ROLES)
    current = current_schema(project)
    shown = current
    if request.GET.get("v", "").isdigit():
        shown = project.schema_versions.filter(version=int(request.GET["v"])).first() or current
    initial = {
        "schema": json.dumps(shown.schema, indent=2, ensure_ascii=False),
        "guidelines": shown.guidelines,
    }
    form = SchemaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = schema_version_create(
                project=project,
                schema=form.cleaned_data["schema"],
                guidelines=form.cleaned_data["guidelines"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except SchemaError as exc:
            form.add_error("schema", str(exc))
        else:
            messages.success(
                request,
                f"Version {version.version} saved. New labels use it; existing labels keep "
                "the version they were made under.",
            )
            return redirect("schema", project.slug)
    page = page_of(request, schema_history(project), per_page=20)
    return render(
        request,
        "annotations/schema.html",
        {
            "project": project,
            "form": form,
            "current": current,
            "shown": shown,
            "page": page,
            "query": query_without_page(request),
        },
    )


def _admin_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role="admin").count()


@login_required
def members_page(request: HttpRequest, slug: str) -> HttpResponse:
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from ..services.accounts import membership_set, user_create_or_update

    project = project_for(request.user, slug, ADMIN_ROLES)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = get_user_model().objects.filter(username=data["username"]).first()
        if user is not None:
            if data["password"]:
                form.add_error(
                    "password",
                    "This account exists; its password is not changed here. Leave it empty.",
                )
            else:
                membership_set(project=project, user=user, role=data["role"])
                messages.success(request, f"{user.get_username()} is now {data['role']}.")
                return redirect("members", project.slug)
        elif not data["create"]:
            form.add_error("username", "No such user. Tick “Create the account” to create it.")
        else:
            try:
                user, _ = user_create_or_update(
                    username=data["username"],
                    role=data["role"],
                    project=project,
                    password=data["password"] or None,
                    email=data["email"] or "",
                )
            except ValidationError as exc:
                form.add_error("password", exc)
            else:
                how = (
                    "with the initial password you typed"
                    if data["password"]
                    else "without a password: set it with "
                    f"`manage.py workbench_user create {user.get_username()} "
                    f"--role {data['role']} --project {project.slug} --password-stdin`"
                )
                messages.success(request, f"Account {user.get_username()} created {how}.")
                return redirect("members", project.slug)
    q = request.GET.get("q", "")[:150]
    role = request.GET.get("role", "")
    page = page_of(request, members_for(project, q=q, role=role if role in Role.values else ""))
    return render(
        request,
        "annotations/members.html",
        {
            "project": project,
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "filters": {"q": q, "role": role},
            "roles": Role.choices,
        },
        status=400 if request.method == "POST" else 200,
    )


def _member_target(request: HttpRequest, slug: str, user_id: int) -> tuple[Project, Membership]:
    from django.shortcuts import get_object_or_404

    project = project_for(request.user, slug, ADMIN_ROLES)
    if not 0 < user_id <= 2**63 - 1:
        raise Http404("No such member.")
    membership = get_object_or_404(
        Membership.objects.select_related("user"), project=project, user_id=user_id
    )
    return project, membership


@login_required
def member_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    from ..services.accounts import membership_set

    project, membership = _member_target(request, slug, user_id)
    if request.method != "POST":
        return redirect("members", project.slug)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    elif (
        membership.role == "admin"
        and form.cleaned_data["role"] != "admin"
        and _admin_count(project) <= 1
    ):
        messages.error(request, "The project needs at least one admin.")
    else:
        membership_set(project=project, user=membership.user, role=form.cleaned_data["role"])
        messages.success(
            request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}."
        )
    return redirect("members", project.slug)


@login_required
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    from ..services.accounts import membership_remove

    project, membership = _member_target(request, slug, user_id)
    if request.method != "POST":
        return redirect("members", project.slug)
    if membership.role == "admin" and _admin_count(project) <= 1:
        messages.error(request, "The project needs at least one admin.")
    else:
        membership_remove(project=project, user=membership.user)
        messages.success(
            request,
            f"{membership.user.get_username()} removed. Their labels stay; their open leases "
            "return to the queue when they expire.",
        )
    return redirect("members", project.slug)


urlpatterns = [
    path("projects/new/", project_new, name="project-create"),
    path("projects/archived/", projects_archived, name="projects-archived"),
    path("p/<slug:slug>/", project_detail, name="project-detail"),
    path("p/<slug:slug>/settings/", project_settings, name="project-settings"),
    path("p/<slug:slug>/archive/", project_archive_view, name="project-archive"),
    path("p/<slug:slug>/schema/", schema_page, name="schema"),
    path("p/<slug:slug>/members/", members_page, name="members"),
    path("p/<slug:slug>/members/<int:user_id>/role/", member_role, name="member-role"),
    path("p/<slug:slug>/members/<int:user_id>/remove/", member_remove, name="member-remove"),
]
