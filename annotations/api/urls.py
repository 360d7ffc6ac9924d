"""REST API routes under /api/v1/. Each feature's api module carries its own `urlpatterns`."""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver

FEATURES = (
    "core",
    "corpus",
    "queue",
    "review",
    "agreement",
    "pairs",
    "exports",
    "registry",
    "suggestions",
)


def _patterns() -> list[URLPattern | URLResolver]:
    patterns: list[URLPattern | URLResolver] = []
    for name in FEATURES:
        module_name = f"annotations.api.{name}"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        patterns.extend(getattr(module, "urlpatterns", []))
    return patterns


urlpatterns = _patterns()
