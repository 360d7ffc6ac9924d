"""Users, per-project roles and API tokens."""

from __future__ import annotations

import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from rest_framework.authtoken.models import Token

from ..models import Membership, Project, Role


def user_create_or_update(
    *,
    username: str,
    role: str,
    project: Project | None = None,
    password: str | None = None,
    email: str = "",
    validate: bool = True,
) -> tuple[Any, bool]:
    """Create the user if missing (else update), and give them `role`.

    With a project, the role is a project membership. Without one, `admin` makes a site admin
    (may create projects) and other roles just create the account. A user without a password
    cannot log in with one (an unusable password), never a default.
    """
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": email}
        )
        if password is not None:
            if validate:
                validate_password(password, user)
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        if project is None and role == Role.ADMIN:
            user.is_staff = True
        user.save()
        if project is not None:
            membership_set(project=project, user=user, role=role)
    return user, created


def membership_set(*, project: Project, user: Any, role: str) -> Membership:
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    membership, created = Membership.objects.get_or_create(
        project=project,
        user=user,
        defaults={"role": role, "suggestions_arm": _arm_for(project, user)},
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, project: Project, user: Any) -> None:
    Membership.objects.filter(project=project, user=user).delete()


def _arm_for(project: Project, user: Any) -> bool:
    # A stable coin flip per (project, user) for the "suggestions for half the annotators" arm.
    return random.Random(f"{project.seed}:{project.pk}:{user.pk}").random() < 0.5


def token_for(*, user: Any, rotate: bool = False) -> str:
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)
