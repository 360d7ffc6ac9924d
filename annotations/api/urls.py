"""REST API routes under /api/v1/. Each feature's api module carries its own `urlpatterns`."""

from __future__ import annotations

from ..urls import gather

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

urlpatterns = gather("annotations.api", FEATURES)
