"""Factories for tests: real rows through the real services."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from annotations.models import Project
from annotations.services.accounts import membership_set
from annotations.services.projects import project_create

PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


def make_project(slug: str, **kwargs: Any) -> Project:
    existing = Project.objects.filter(slug=slug).first()
    return existing or project_create(slug=slug, **kwargs)


def make_user(username: str, role: str, project: Project | None) -> Any:
    user = UserFactory(username=username)
    if project is None:
        user.is_staff = role == "admin"
        user.save()
    else:
        membership_set(project=project, user=user, role=role)
    return user
