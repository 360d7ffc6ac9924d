"""The agreement dashboard: the newest stored report drawn as inline SVG charts (no script
needed; SVG presentation attributes only, which the CSP allows), a recompute button and the
job's progress bar. Reviewers and admins only.

The page reads one stored AgreementReport row, so it stays fast however large the project is;
the computation runs as the "agreement" background job."""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ..models import Job, Project
from ..permissions import REVIEW_ROLES, project_for
from ..services.agreement_jobs import (
    latest_report,
    report_store,
    small_enough_to_compute_now,
)
from .core import job_visible

BAR_W = 640
ROW_H = 26
LABEL_W = 190


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _alpha_of(entry: Any) -> tuple[float | None, list[float] | None, Any]:
    if isinstance(entry, dict):
        ci = entry.get("ci")
        ci = [_num(ci[0]), _num(ci[1])] if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
        if ci and (ci[0] is None or ci[1] is None):
            ci = None
        return _num(entry.get("alpha")), ci, entry.get("items")
    return _num(entry), None, None


def alpha_chart(rows: list[tuple[str, Any]]) -> dict[str, Any]:
    """Horizontal bars of alpha with CI whiskers; thresholds 0.667 and 0.8 drawn."""
    parsed = [(name, *_alpha_of(entry)) for name, entry in rows]
    values = [a for _, a, _, _ in parsed if a is not None] + [
        c for _, _, ci, _ in parsed if ci for c in ci
    ]
    lo = min([0.0, *values])
    lo = max(-1.0, math.floor(lo * 10) / 10)
    span = 1.0 - lo or 1.0
    plot_w = BAR_W - LABEL_W - 70

    def x(v: float) -> float:
        return round(LABEL_W + (min(max(v, lo), 1.0) - lo) / span * plot_w, 1)

    bars = []
    for i, (name, alpha, ci, items) in enumerate(parsed):
        y = 10 + i * ROW_H
        bar: dict[str, Any] = {"name": name, "y": y, "ty": y + 15, "items": items, "alpha": alpha}
        if alpha is not None:
            x0, x1 = sorted((x(0.0), x(alpha)))
            bar.update(
                x=x0,
                w=max(round(x1 - x0, 1), 1),
                cls="low" if alpha < 0.667 else ("mid" if alpha < 0.8 else ""),
                tx=BAR_W - 64,
            )
        if ci:
            bar.update(cx1=x(ci[0]), cx2=x(ci[1]), cy=y + 9, ci=ci)
        bars.append(bar)
    height = 10 + len(parsed) * ROW_H + 24
    ticks = [{"x": x(t), "label": f"{t:g}"} for t in (lo, 0.0, 0.5, 0.667, 0.8, 1.0) if t >= lo]
    return {
        "bars": bars,
        "width": BAR_W,
        "height": height,
        "axis_y": height - 20,
        "tick_y": height - 6,
        "ticks": ticks,
        "t667": x(0.667),
        "t8": x(0.8),
        "zero": x(0.0),
    }


def _heat_colour(value: float | None, vmin: float, vmax: float) -> str:
    if value is None:
        return "#eeeeee"
    t = 0.0 if vmax == vmin else (value - vmin) / (vmax - vmin)
    t = min(max(t, 0.0), 1.0)
    # white → accent blue
    r, g, b = (int(255 + (c - 255) * t) for c in (31, 95, 191))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    rows: list[str], cols: list[str], matrix: list[list[Any]], *, fixed: tuple[float, float] | None
) -> dict[str, Any]:
    cell = 46 if len(cols) <= 8 else 32
    left, top = 130, 90
    numbers = [_num(v) for row in matrix for v in row]
    present = [v for v in numbers if v is not None]
    vmin, vmax = fixed or ((min(present), max(present)) if present else (0.0, 1.0))
    cells = []
    for i, row in enumerate(matrix):
        for j, raw in enumerate(row):
            value = _num(raw)
            dark = value is not None and vmax > vmin and (value - vmin) / (vmax - vmin) > 0.55
            cells.append(
                {
                    "x": left + j * cell,
                    "y": top + i * cell,
                    "fill": _heat_colour(value, vmin, vmax),
                    "text": "" if value is None else (f"{value:.2f}" if fixed else f"{value:g}"),
                    "tx": left + j * cell + cell / 2,
                    "ty": top + i * cell + cell / 2 + 4,
                    "ink": "#ffffff" if dark else "#1d2125",
                }
            )
    return {
        "cell": cell,
        "cells": cells,
        "rows": [{"label": r, "y": top + i * cell + cell / 2 + 4} for i, r in enumerate(rows)],
        "cols": [
            {"label": c, "x": left + j * cell + cell / 2, "y": top - 8} for j, c in enumerate(cols)
        ],
        "width": left + len(cols) * cell + 10,
        "height": top + len(rows) * cell + 10,
        "left": left - 6,
    }


def progress_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    days = days[-90:]
    width, height, bottom = BAR_W, 180, 150
    top = max([int(d.get("labels") or 0) for d in days] or [1]) or 1
    step = (width - 60) / max(len(days), 1)
    bars = []
    for i, d in enumerate(days):
        h = round((int(d.get("labels") or 0) / top) * (bottom - 20), 1)
        bars.append(
            {
                "x": round(50 + i * step, 1),
                "y": round(bottom - h, 1),
                "w": max(round(step * 0.8, 1), 1),
                "h": h,
                "day": d.get("day"),
                "n": d.get("labels"),
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": height,
        "bottom": bottom,
        "top": top,
        "first": days[0]["day"] if days else "",
        "last": days[-1]["day"] if days else "",
    }


def _names(ids: list[Any]) -> dict[str, str]:
    pks = [int(i) for i in ids if str(i).isdigit()]
    found = get_user_model().objects.filter(pk__in=pks).values_list("pk", "username")
    return {str(pk): name for pk, name in found}


def _kappa_blocks(kappa: Any) -> dict[str, dict[str, Any]]:
    if isinstance(kappa, dict) and "matrix" in kappa:
        return {"all fields": kappa}
    if isinstance(kappa, dict):
        return {k: v for k, v in kappa.items() if isinstance(v, dict) and "matrix" in v}
    return {}


def dashboard(result: dict[str, Any], field: str | None) -> dict[str, Any]:
    """Chart geometry from a stored report (tolerant of missing parts)."""
    fields = result.get("fields") or {}
    charts: dict[str, Any] = {"alpha": alpha_chart(list(fields.items())) if fields else None}
    kappas = _kappa_blocks(result.get("kappa"))
    confusion = {
        k: v
        for k, v in (result.get("confusion") or {}).items()
        if isinstance(v, dict) and "matrix" in v
    }
    choices = sorted(set(kappas) | set(confusion))
    chosen = (
        field if field in choices else ("verifiability" if "verifiability" in choices else None)
    )
    chosen = chosen or (choices[0] if choices else None)
    charts["field"] = chosen
    charts["field_choices"] = choices
    if chosen in kappas:
        block = kappas[chosen]
        ids = [str(a) for a in block.get("annotators") or []]
        names = _names(ids)
        labels = [names.get(a, a) for a in ids]
        charts["kappa"] = heatmap(labels, labels, block.get("matrix") or [], fixed=(-0.2, 1.0))
    if chosen in confusion:
        block = confusion[chosen]
        labels = [str(v) for v in block.get("labels") or []]
        charts["confusion"] = heatmap(labels, labels, block.get("matrix") or [], fixed=None)
    charts["progress"] = progress_chart(result.get("progress") or [])
    slices = []
    for dim, groups in (result.get("slices") or {}).items():
        if not isinstance(groups, dict):
            continue
        rows = []
        for value, entry in groups.items():
            if isinstance(entry, dict) and isinstance(entry.get("fields"), dict):
                entry = entry["fields"]
            sub = entry.get(chosen) if isinstance(entry, dict) and chosen in entry else None
            if sub is None and isinstance(entry, dict):
                sub = entry.get("verifiability")
            if sub is not None:
                rows.append((str(value) or "(none)", sub))
        if rows:
            slices.append({"dim": dim.replace("_", " "), "chart": alpha_chart(rows[:30])})
    charts["slices"] = slices
    spans = result.get("spans") or {}
    charts["spans"] = [(k, v) for k, v in spans.items() if isinstance(v, dict)]
    charts["annotators"] = [a for a in result.get("annotators") or [] if isinstance(a, dict)]
    return charts


def _running_job(request: HttpRequest, project: Project, kind: str) -> Job | None:
    raw = request.GET.get("job", "")
    qs = Job.objects.filter(project=project, kind="agreement").select_related("project")
    job = None
    try:
        job = qs.filter(pk=uuid.UUID(raw)).first() if raw else None
    except ValueError:
        job = None
    if job is None:
        job = qs.filter(state__in=["queued", "running"], params__kind=kind).first()
    return job if job is not None and job_visible(request.user, job) else None


@login_required
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    kind = "pair" if request.GET.get("kind") in {"pairs", "pair"} else "claim"
    report = latest_report(project, kind)
    if report is None and small_enough_to_compute_now(project, kind):
        report = report_store(project=project, kind=kind)
    context: dict[str, Any] = {
        "project": project,
        "kind": "pairs" if kind == "pair" else "claims",
        "report": report,
        "job": _running_job(request, project, kind),
    }
    if report is not None:
        result = report.result or {}
        context["result"] = result
        context["fields"] = result.get("fields") or {}
        context["charts"] = dashboard(result, request.GET.get("field"))
    return render(request, "annotations/agreement.html", context)


@login_required
@require_POST
def agreement_recompute(request: HttpRequest, slug: str) -> HttpResponse:
    from ..api.agreement import agreement_job_start

    project = project_for(request.user, slug, REVIEW_ROLES)
    kind = "pair" if request.POST.get("kind") in {"pairs", "pair"} else "claim"
    job = agreement_job_start(project, kind, request.user)
    messages.success(request, "Recomputing the agreement report.")
    kind_q = "pairs" if kind == "pair" else "claims"
    return redirect(f"{reverse('agreement', args=[project.slug])}?kind={kind_q}&job={job.pk}")


urlpatterns = [
    path("p/<slug:slug>/agreement/", agreement, name="agreement"),
    path("p/<slug:slug>/agreement/recompute/", agreement_recompute, name="agreement-recompute"),
]
