"""Page and htmx-fragment routes. Each feature's views module carries its own `urlpatterns`;
they are gathered here in a fixed order."""

from __future__ import annotations

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


def _feature_patterns() -> list[URLPattern | URLResolver]:
    patterns: list[URLPattern | URLResolver] = []
    for name in FEATURES:
        module_name = f"annotations.views.{name}"
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
    *_feature_patterns(),
]
