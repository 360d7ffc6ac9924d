"""The suggestion model page (/p/<slug>/model/): the newest verifiability model, its learning
curve and the uncertainty-sampling simulation as server-side SVG, earlier models, the
suggestions A/B comparison and a "Train now" button (a background job with a progress bar).
Reviewers and admins only (annotators 403, outsiders 404)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ..models import Job, Label, Project, SuggestionModel
from ..permissions import REVIEW_ROLES, project_for
from ..services.suggestions import (
    FIELD,
    adjudicated_claims,
    min_labels_to_train,
    model_train_start,
    new_adjudications,
    suggestion_effect,
    training_running,
)
from .core import job_visible

CHART_W, CHART_H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 36


def line_chart(
    series: Sequence[tuple[str, str, Sequence[dict[str, Any]]]],
    *,
    target: float | None = None,
) -> dict[str, Any] | None:
    """Geometry of a macro-F1-against-labels chart: `series` = (name, css class, points with
    "n" and "macro_f1" [and "std"]). x is linear in labels, y is macro-F1 in [0, 1]."""
    pts = [p for _, _, points in series for p in points]
    if not pts:
        return None
    n_max = max(float(p["n"]) for p in pts) or 1.0
    plot_w = CHART_W - LEFT - RIGHT
    plot_h = CHART_H - TOP - BOTTOM

    def x(n: float) -> float:
        return round(LEFT + float(n) / n_max * plot_w, 1)

    def y(v: float) -> float:
        return round(TOP + (1.0 - min(max(float(v), 0.0), 1.0)) * plot_h, 1)

    lines = []
    for name, cls, points in series:
        points = sorted(points, key=lambda p: p["n"])
        coords = [(x(p["n"]), y(p["macro_f1"])) for p in points]
        band = ""
        if any("std" in p for p in points):
            upper = [(x(p["n"]), y(p["macro_f1"] + p.get("std", 0))) for p in points]
            lower = [(x(p["n"]), y(p["macro_f1"] - p.get("std", 0))) for p in reversed(points)]
            band = " ".join(f"{a},{b}" for a, b in upper + lower)
        lines.append(
            {
                "name": name,
                "cls": cls,
                "points": " ".join(f"{a},{b}" for a, b in coords),
                "dots": [
                    {"x": a, "y": b, "n": p["n"], "f1": p["macro_f1"]}
                    for (a, b), p in zip(coords, points, strict=True)
                ],
                "band": band,
            }
        )
    step = _nice_step(n_max)
    xticks = [{"x": x(v), "label": int(v)} for v in _range(0, n_max, step)]
    yticks = [{"y": y(v), "label": f"{v:.1f}"} for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "lines": lines,
        "xticks": xticks,
        "yticks": yticks,
        "left": LEFT,
        "right": CHART_W - RIGHT,
        "top": TOP,
        "base": CHART_H - BOTTOM,
        "label_y": CHART_H - BOTTOM + 16,
        "title_y": CHART_H - 4,
        "target": y(target) if target is not None else None,
        "target_value": target,
    }


def _nice_step(n_max: float) -> float:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if n_max / step <= 8:
            return float(step)
    return float(10 ** len(str(int(n_max))) / 10)


def _range(start: float, stop: float, step: float) -> list[float]:
    out, v = [], start
    while v <= stop + 1e-9:
        out.append(v)
        v += step
    return out


LIVE_EFFECT_LIMIT = 50_000


def _effect(project: Project, metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The A/B comparison, live for projects of moderate size; for large ones the figures the
    newest training job stored (the page must stay fast)."""
    n = Label.objects.filter(item__project=project, item__kind="claim").count()
    if n <= LIVE_EFFECT_LIMIT:
        return suggestion_effect(project=project)
    return metrics.get("effect")


def _job(request: HttpRequest, project: Project) -> Job | None:
    raw = request.GET.get("job", "")
    job = None
    if raw:
        try:
            job = Job.objects.filter(project=project, kind="train", pk=uuid.UUID(raw)).first()
        except ValueError:
            job = None
    job = job or training_running(project)
    return job if job is not None and job_visible(request.user, job) else None


@login_required
def suggestion_model(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    models = list(
        SuggestionModel.objects.filter(project=project, field=FIELD)
        .defer("blob")
        .order_by("-created_at", "-id")[:20]
    )
    latest = models[0] if models else None
    metrics = (latest.metrics or {}) if latest else {}
    sim = metrics.get("simulation") or None
    context: dict[str, Any] = {
        "project": project,
        "latest": latest,
        "metrics": metrics,
        "models": models,
        "sim": sim,
        "adjudicated": adjudicated_claims(project).count(),
        "new_since": new_adjudications(project, latest),
        "threshold": min_labels_to_train(),
        "job": _job(request, project),
        "effect": _effect(project, metrics),
        "curve_chart": line_chart(
            [("macro-F1 (cross-validated)", "curve", metrics.get("learning_curve") or [])]
        ),
        "sim_chart": (
            line_chart(
                [
                    ("most uncertain first", "uncertain", sim.get("uncertainty_curve") or []),
                    ("random order (mean)", "random", sim.get("random_curve") or []),
                ],
                target=sim.get("target_macro_f1"),
            )
            if sim
            else None
        ),
    }
    return render(request, "annotations/learning.html", context)


@login_required
@require_POST
def suggestion_model_train(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    job = model_train_start(project=project, user=request.user)
    messages.success(request, "Training the suggestion model in the background.")
    return redirect(f"{reverse('suggestion-model', args=[project.slug])}?job={job.pk}")


urlpatterns = [
    path("p/<slug:slug>/model/", suggestion_model, name="suggestion-model"),
    path("p/<slug:slug>/model/train/", suggestion_model_train, name="suggestion-model-train"),
]
