"""Who may see and do what. Pages and the API both ask here; querysets are filtered by it.

Roles are per project. A site admin (is_staff) may create projects and acts as admin of every
project. Reviewers and admins see labels; annotators see only their own labels, never another
annotator's labels, counts or names for an item before adjudication.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Project, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

REVIEW_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})
ANNOTATE_ROLES = frozenset({Role.ANNOTATOR})
ADMIN_ROLES = frozenset({Role.ADMIN})
ALL_ROLES = frozenset(Role)


def is_site_admin(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def role_in(user: Any, project: Project) -> str | None:
    """The user's role in the project, or None. Cached on the user object per request."""
    if not user.is_authenticated or not user.is_active:
        return None
    cache: dict[int, str | None] = user.__dict__.setdefault("_wb_roles", {})
    if project.pk not in cache:
        role = (
            Membership.objects.filter(project=project, user=user)
            .values_list("role", flat=True)
            .first()
        )
        if role is None and is_site_admin(user):
            role = Role.ADMIN
        cache[project.pk] = role
    return cache[project.pk]


def has_role(user: Any, project: Project, roles: frozenset[str]) -> bool:
    role = role_in(user, project)
    return role is not None and role in roles


def visible_projects(user: Any) -> QuerySet[Project]:
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if is_site_admin(user):
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def project_for(user: Any, slug: str, roles: frozenset[str] = ALL_ROLES) -> Project:
    """Fetch a project the user may act on with one of `roles`.

    Outsiders get 404 (the project's existence is not revealed); members without the role get
    PermissionDenied (403)."""

    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return require_role(user, project, roles)


def require_role(user: Any, project: Project, roles: frozenset[str] = ALL_ROLES) -> Project:
    """The same check as `project_for` on a project already loaded (404 for outsiders, 403 for
    members without the role); returns the project."""
    from django.core.exceptions import PermissionDenied

    role = role_in(user, project)
    if role is None:
        raise Http404("No such project.")
    if role not in roles:
        raise PermissionDenied("Your role in this project does not allow this.")
    return project


def can_review(user: Any, project: Project) -> bool:
    return has_role(user, project, REVIEW_ROLES)


def can_admin(user: Any, project: Project) -> bool:
    return has_role(user, project, ADMIN_ROLES)


def can_annotate(user: Any, project: Project) -> bool:
    return has_role(user, project, ANNOTATE_ROLES)


def sees_all_labels(user: Any, project: Project) -> bool:
    """Only reviewers and admins see other people's labels; annotators are blind."""
    return can_review(user, project)
