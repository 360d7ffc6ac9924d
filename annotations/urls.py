"""Page and htmx-fragment routes. Each feature's views module carries its own `urlpatterns`;
they are gathered here in a fixed order."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from django.urls import URLPattern, URLResolver, path

from .views import core

FEATURES = (
    "projects",
    "corpus",
    "queue",
    "review",
    "pairs",
    "exports",
    "progress",
    "registry",
    "agreement_pages",
    "suggestions",
)


def gather(package: str, features: Iterable[str]) -> list[URLPattern | URLResolver]:
    """The `urlpatterns` of `package.<feature>` for each feature whose module exists."""
    patterns: list[URLPattern | URLResolver] = []
    for name in features:
        module_name = f"{package}.{name}"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        patterns.extend(getattr(module, "urlpatterns", []))
    return patterns


urlpatterns = [
    path("", core.home, name="home"),
    path("jobs/<uuid:job_id>/", core.job_detail, name="job-detail"),
    *gather("annotations.views", FEATURES),
]
