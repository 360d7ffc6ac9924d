"""Review pages: the queue of items needing adjudication (most uncertain first) and one item
with every annotator's labels side by side, the aggregate suggestion pre-filled in a
schema-driven form, the decision trail, reopen and gold-item actions.

Reviewers and admins only (annotators 403, outsiders 404). Pages work without JS; static/js/
review.js adds keyboard shortcuts (the schema's `key`s; Enter submits; N — or Shift+N when the
schema binds N — opens the next item)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ..models import Claim, Item, Project
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, can_admin, project_for
from ..schema.validation import fields_of
from ..services.adjudication import (
    Conflict,
    canon,
    item_decide,
    item_labels,
    item_reopen,
    item_trail,
    majority_labels,
    review_queryset,
)
from ..services.gold import gold_item_set
from ..services.jobs import job_create
from ..services.projects import current_schema
from .htmx import HtmxHttpRequest

CONTEXT_SENTENCES = 2
RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
PAGE_SIZE = 25


# --------------------------------------------------------------------------- form helpers


def form_value(value: Any) -> str:
    """How a choice value travels in an HTML form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def key_label(code: str | None) -> str:
    if not code:
        return ""
    for prefix in ("Key", "Digit", "Numpad"):
        if code.startswith(prefix):
            return code[len(prefix) :]
    return code


def labels_from_post(post: QueryDict, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn the review form back into a label payload (validation happens in the service)."""
    labels: dict[str, Any] = {}
    for field in fields:
        name, ftype = field["name"], field["type"]
        if ftype in {"bool", "single", "ordinal"}:
            raw = post.get(name)
            by_form = {form_value(c["value"]): c["value"] for c in field.get("choices", [])}
            if raw in by_form:
                labels[name] = by_form[raw]
            elif raw:
                labels[name] = raw  # let validation name the bad value
        elif ftype == "multi":
            by_form = {form_value(c["value"]): c["value"] for c in field.get("choices", [])}
            picked = [by_form.get(v, v) for v in post.getlist(name)]
            if picked or post.get(f"{name}__present"):
                labels[name] = picked
        elif ftype == "span":
            start, end = post.get(f"{name}__start", ""), post.get(f"{name}__end", "")
            if start.strip() or end.strip():
                try:
                    labels[name] = [int(start), int(end)]
                except ValueError:
                    labels[name] = [start, end]
        elif ftype == "text":
            text = post.get(name, "").strip()
            if text:
                labels[name] = text
    return labels


def _next_key_code(fields: list[dict[str, Any]]) -> str:
    used = {c.get("key") for f in fields for c in f.get("choices", [])} | {
        f.get("key") for f in fields
    }
    return "Shift+KeyN" if "KeyN" in used else "KeyN"


def form_fields(
    fields: list[dict[str, Any]],
    values: dict[str, Any],
    majority: dict[str, Any],
    has_majority: set[str],
) -> list[dict[str, Any]]:
    """What the template needs to draw the schema-driven form."""
    out = []
    for field in fields:
        name = field["name"]
        current = values.get(name)
        entry: dict[str, Any] = {
            "name": name,
            "label": field.get("label") or name,
            "type": field["type"],
            "help": field.get("help", ""),
            "required": bool(field.get("required")),
            "key": field.get("key", ""),
            "key_label": key_label(field.get("key")),
            "when": json.dumps(field["when"]) if field.get("when") else "",
            "majority": form_value(majority[name])
            if name in has_majority and name in majority and field["type"] != "multi"
            else "",
        }
        if field["type"] in {"bool", "single", "ordinal", "multi"}:
            chosen = (
                {canon(v) for v in current}
                if field["type"] == "multi" and isinstance(current, list)
                else {canon(current)}
            )
            entry["choices"] = [
                {
                    "value": form_value(c["value"]),
                    "label": c.get("label") or form_value(c["value"]),
                    "key": c.get("key", ""),
                    "key_label": key_label(c.get("key")),
                    "checked": canon(c["value"]) in chosen,
                    "is_majority": name in has_majority
                    and canon(c["value"]) == canon(majority.get(name)),
                }
                for c in field["choices"]
            ]
            entry["none_checked"] = not any(c["checked"] for c in entry["choices"])
        elif field["type"] == "span":
            span = current if isinstance(current, list) and len(current) == 2 else ["", ""]
            entry["start"], entry["end"] = span
        else:
            entry["text"] = current or ""
        out.append(entry)
    return out


def display_value(field: dict[str, Any], value: Any, text: str | None) -> str:
    if value is None:
        return ""
    labels = {
        canon(c["value"]): c.get("label") or form_value(c["value"])
        for c in field.get("choices", [])
    }
    if field["type"] == "multi" and isinstance(value, list):
        return ", ".join(labels.get(canon(v), str(v)) for v in value) or "—"
    if field["type"] == "span" and isinstance(value, list) and len(value) == 2:
        start, end = value
        if text is not None and isinstance(start, int) and isinstance(end, int):
            return f"“{text[start:end]}” [{start}–{end}]"
        return f"[{start}–{end}]"
    return labels.get(canon(value), str(value))


# --------------------------------------------------------------------------- context helpers


def claim_block(claim: Claim) -> dict[str, Any]:
    article = claim.article
    neighbours = list(
        Claim.objects.filter(
            article_id=claim.article_id,
            position__gte=max(0, claim.position - CONTEXT_SENTENCES),
            position__lte=claim.position + CONTEXT_SENTENCES,
        )
        .order_by("position")
        .values("id", "text")
    )
    return {
        "claim": claim,
        "article": article,
        "rtl": (claim.language or article.language or "")[:2] in RTL_LANGUAGES,
        "context": [{"text": c["text"], "target": c["id"] == claim.pk} for c in neighbours],
    }


def _review_item(request: HttpRequest, slug: str, item_id: int) -> tuple[Project, Item]:
    project = project_for(request.user, slug, REVIEW_ROLES)
    item = get_object_or_404(
        Item.objects.select_related(
            "claim__article", "pair__claim_a__article", "pair__claim_b__article"
        ),
        pk=item_id,
        project=project,
    )
    item.project = project
    return project, item


def next_item(item: Item) -> Item | None:
    """The item after this one in the review queue ordering (or the first one)."""
    qs = Item.objects.filter(project_id=item.project_id, kind=item.kind, status=Item.Status.REVIEW)
    after = qs.filter(
        Q(uncertainty__lt=item.uncertainty) | Q(uncertainty=item.uncertainty, pk__gt=item.pk)
    ).exclude(pk=item.pk)
    return (
        after.order_by("-uncertainty", "id").first()
        or qs.exclude(pk=item.pk).order_by("-uncertainty", "id").first()
    )


def _suggestion(item: Item, fields: list[dict[str, Any]]) -> tuple[dict[str, Any], set[str]]:
    """The pre-filled labels: the strict majority; where there is none, the Dawid–Skene
    label of the aggregate (or the majority of a tie-free vote)."""
    from ..services.adjudication import _votes, item_label_values

    votes = _votes(item_label_values(item), [f["name"] for f in fields])
    suggestion = dict(votes.majority)
    for name, agg in (item.aggregate or {}).items():
        if name in votes.has_majority or not isinstance(agg, dict):
            continue
        if agg.get("ds") is not None:
            suggestion[name] = agg["ds"]
        elif agg.get("majority") is not None and not agg.get("tie") and agg.get("share", 0) > 0.5:
            suggestion[name] = agg["majority"]
    return suggestion, votes.has_majority


# --------------------------------------------------------------------------- pages


@login_required
def review_queue(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    params = request.GET
    kind = "pair" if params.get("kind") in {"pairs", "pair"} else "claim"
    state = "settled" if params.get("status") == "settled" else "review"
    language = params.get("language", "")[:20]
    outlet = params.get("outlet", "")[:200]
    gold = {"yes": True, "no": False}.get(params.get("gold", ""))
    qs = review_queryset(
        project,
        kind=kind,
        status=state,
        language=language or None,
        outlet=outlet or None,
        gold=gold,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    rows = []
    for item in page.object_list:
        agg = item.aggregate or {}
        disputed = [
            name for name, a in agg.items() if isinstance(a, dict) and (a.get("share") or 1) < 1
        ]
        conflict = [
            name
            for name, a in agg.items()
            if isinstance(a, dict) and a.get("ds") is not None and a.get("ds") != a.get("majority")
        ]
        if kind == "claim":
            text, language_code = item.claim.text, item.claim.language
            outlet_name = item.claim.article.outlet_name
        else:
            text = f"{item.pair.claim_a.text} ⇄ {item.pair.claim_b.text}"
            language_code = f"{item.pair.claim_a.language}/{item.pair.claim_b.language}"
            outlet_name = (
                f"{item.pair.claim_a.article.outlet_name} / {item.pair.claim_b.article.outlet_name}"
            )
        rows.append(
            {
                "item": item,
                "text": text,
                "language": language_code,
                "outlet": outlet_name,
                "disputed": disputed,
                "conflict": conflict,
            }
        )
    query = params.copy()
    query.pop("page", None)
    # The project's declared languages (a DISTINCT over every claim is a full scan at 1M).
    declared = set(project.languages or ["en", "ar"])
    languages = sorted(declared | ({language} if language else set()))
    context = {
        "project": project,
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
        "kind": kind,
        "state": state,
        "language": language,
        "outlet": outlet,
        "gold": params.get("gold", ""),
        "languages": languages,
        "job": _visible_job(request, project),
    }
    template = "annotations/_review_rows.html" if request.htmx else "annotations/review_queue.html"
    return render(request, template, context)


def _visible_job(request: HttpRequest, project: Project) -> Any:
    """The job named by ?job= when it belongs to this project and the user may see it."""
    import uuid

    from ..models import Job
    from .core import job_visible

    try:
        job_id = uuid.UUID(request.GET.get("job", ""))
    except ValueError:
        return None
    job = Job.objects.filter(pk=job_id, project=project).select_related("project").first()
    return job if job is not None and job_visible(request.user, job) else None


def _item_context(
    request: HttpRequest,
    project: Project,
    item: Item,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    note: str = "",
    conflict: Conflict | None = None,
) -> dict[str, Any]:
    schema = current_schema(project).schema
    fields = fields_of(schema, item.kind)
    labels = item_labels(item)
    names = request.GET.get("names") == "1"
    suggestion, has_majority = _suggestion(item, fields)
    if values is None:
        values = dict(item.gold) if item.gold else suggestion
    # check constraint item_kind_matches_target: a claim item has its claim, a pair its pair
    if item.kind == Item.Kind.CLAIM:
        assert item.claim is not None
        text: str | None = item.claim.text
        blocks = [claim_block(item.claim)]
    else:
        assert item.pair is not None
        text = None
        blocks = [claim_block(item.pair.claim_a), claim_block(item.pair.claim_b)]
    columns = [
        lab.annotator.get_username() if names else f"Annotator {i}"
        for i, lab in enumerate(labels, start=1)
    ]
    table = []
    for field in fields:
        cells = [display_value(field, lab.values.get(field["name"]), text) for lab in labels]
        if not any(cells):
            continue
        agg = (item.aggregate or {}).get(field["name"]) or {}
        table.append(
            {
                "label": field.get("label") or field["name"],
                "cells": cells,
                "agree": len({canon(lab.values.get(field["name"])) for lab in labels}) <= 1,
                "suggestion": display_value(field, suggestion.get(field["name"]), text),
                "majority_share": agg.get("share"),
                "ds": display_value(field, agg.get("ds"), text)
                if agg.get("ds") is not None
                else "",
                "ds_posterior": agg.get("ds_posterior"),
            }
        )
    nxt = next_item(item)
    majority = majority_labels(item)
    return {
        "project": project,
        "item": item,
        "blocks": blocks,
        "columns": columns,
        "seconds": [lab.seconds for lab in labels],
        "table": table,
        "names": names,
        "fields": form_fields(fields, values, majority, has_majority),
        "errors": errors or {},
        "note": note,
        "conflict": conflict,
        "trail": item_trail(item),
        "next": nxt,
        "next_key": _next_key_code(fields),
        "can_admin": can_admin(request.user, project),
        "decidable": item.status in (Item.Status.REVIEW, Item.Status.SETTLED),
    }


@login_required
def review_item(request: HttpRequest, slug: str, item_id: int) -> HttpResponse:
    project, item = _review_item(request, slug, item_id)
    if request.method != "POST":
        return render(
            request, "annotations/review_item.html", _item_context(request, project, item)
        )
    schema = current_schema(project).schema
    fields = fields_of(schema, item.kind)
    values = labels_from_post(request.POST, fields)
    note = request.POST.get("note", "")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        item_decide(
            item_id=item.pk, reviewer=request.user, labels=values, note=note, version=version
        )
    except Conflict as exc:
        fresh = _review_item(request, slug, item_id)[1]
        context = _item_context(request, project, fresh, values=values, note=note, conflict=exc)
        return render(request, "annotations/review_item.html", context, status=409)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"labels": exc.messages}
        context = _item_context(request, project, item, values=values, errors=errors, note=note)
        return render(request, "annotations/review_item.html", context, status=400)
    messages.success(request, f"Item {item.pk} settled.")
    nxt = next_item(item)
    if nxt is not None and request.POST.get("then") != "stay":
        return redirect("review-item", project.slug, nxt.pk)
    return redirect("review-item", project.slug, item.pk)


@login_required
@require_POST
def review_reopen(request: HttpRequest, slug: str, item_id: int) -> HttpResponse:
    project, item = _review_item(request, slug, item_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        item_reopen(
            item_id=item.pk,
            reviewer=request.user,
            note=request.POST.get("note", ""),
            version=version,
        )
    except Conflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Item reopened for review.")
    return redirect("review-item", project.slug, item.pk)


@login_required
@require_POST
def review_gold(request: HttpRequest, slug: str, item_id: int) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    _, item = _review_item(request, slug, item_id)
    if request.POST.get("action") == "unset":
        gold_item_set(item=item, expected=None, user=request.user)
        messages.success(request, "No longer a gold item.")
    else:
        expected = item.gold
        if not expected:
            messages.error(request, "Settle the item first: its gold becomes the expected labels.")
        else:
            try:
                gold_item_set(item=item, expected=expected, user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Marked as a gold item with its settled labels.")
    return redirect("review-item", project.slug, item.pk)


@login_required
@require_POST
def review_aggregate(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    kind = "pair" if request.POST.get("kind") in {"pairs", "pair"} else "claim"
    job = job_create(kind="aggregate", project=project, user=request.user, params={"kind": kind})
    messages.success(request, "Recomputing the suggestions (Dawid–Skene and MACE).")
    return redirect(f"{reverse('review-queue', args=[project.slug])}?job={job.pk}")


urlpatterns = [
    path("p/<slug:slug>/review/", review_queue, name="review-queue"),
    path("p/<slug:slug>/review/aggregate/", review_aggregate, name="review-aggregate"),
    path("p/<slug:slug>/review/<int:item_id>/", review_item, name="review-item"),
    path("p/<slug:slug>/review/<int:item_id>/reopen/", review_reopen, name="review-reopen"),
    path("p/<slug:slug>/review/<int:item_id>/gold/", review_gold, name="review-gold"),
]
