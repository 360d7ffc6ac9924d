"""Annotate pages: keyboard-first labelling of claims and claim pairs.

The page works as a plain form post without JS (submit → redirect to the next item). With
static/js/annotate.js the next item is prefetched as a fragment and swapped in right after a
submit (the submit answers 204), keys are bound by KeyboardEvent.code, and spans are picked
with the mouse or a caret over word tokens. Blind: nothing here shows other annotators'
labels, counts or names.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ..models import Assignment, Claim, Item, Label, Project
from ..permissions import ANNOTATE_ROLES, project_for
from ..services.labels import (
    LabelError,
    LabelInvalid,
    label_edit,
    label_submit,
    label_undo_last,
    suggestion_values,
)
from ..services.projects import current_schema
from ..services.queue import (
    QueueError,
    active_leases,
    item_lease_next,
    lease_skip,
    user_progress,
)

CONTEXT_SENTENCES = 2
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "yi"}
SKIP_KEYS = ("KeyS", "KeyB", "KeyY", "KeyT")
TOKEN_RE = re.compile(r"\S+")


def key_label(code: str | None) -> str:
    if not code:
        return ""
    for prefix in ("Key", "Digit", "Numpad"):
        if code.startswith(prefix) and len(code) > len(prefix):
            return code[len(prefix) :]
    return code


def is_rtl(language: str) -> bool:
    return (language or "").split("-")[0].lower() in RTL_LANGUAGES


def _wants_fragment(request: HttpRequest) -> bool:
    return bool(
        getattr(request, "htmx", False) or request.headers.get("X-Requested-With") == "fetch"
    )


# --- building what the templates show --------------------------------------------------------


def tokens(text: str) -> list[dict[str, Any]]:
    """Word tokens and the gaps between them, with code-point offsets into the claim text."""
    parts: list[dict[str, Any]] = []
    pos = 0
    for match in TOKEN_RE.finditer(text):
        if match.start() > pos:
            parts.append({"gap": text[pos : match.start()]})
        parts.append({"text": match.group(), "s": match.start(), "e": match.end()})
        pos = match.end()
    if pos < len(text):
        parts.append({"gap": text[pos:]})
    return parts


def unit_view(claim: Claim) -> dict[str, Any]:
    article = claim.article
    neighbours = list(
        Claim.objects.filter(
            article_id=claim.article_id,
            position__gte=max(0, claim.position - CONTEXT_SENTENCES),
            position__lte=claim.position + CONTEXT_SENTENCES,
        ).order_by("position")
    )
    return {
        "claim": claim,
        "rtl": is_rtl(claim.language),
        "article_rtl": is_rtl(article.language or claim.language),
        "article": article,
        "before": [c for c in neighbours if c.position < claim.position],
        "after": [c for c in neighbours if c.position > claim.position],
        "tokens": tokens(claim.text),
    }


def _value_key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def form_fields(
    schema: dict[str, Any],
    kind: str,
    values: dict[str, Any] | None,
    suggested: dict[str, Any] | None,
    errors: dict[str, list[str]] | None,
) -> list[dict[str, Any]]:
    values = values or {}
    suggested = suggested or {}
    errors = errors or {}
    fields = []
    for field in schema[kind]["fields"]:
        name = field["name"]
        current = values.get(name)
        sugg = suggested.get(name)
        entry: dict[str, Any] = {
            "name": name,
            "type": field["type"],
            "label": field.get("label") or name,
            "help": field.get("help", ""),
            "required": bool(field.get("required")),
            "when": json.dumps(field["when"]) if field.get("when") else "",
            "key": field.get("key", ""),
            "key_label": key_label(field.get("key")),
            "errors": errors.get(name, []),
            "suggested": name in suggested,
        }
        if field["type"] == "span":
            entry["value"] = f"{current[0]},{current[1]}" if isinstance(current, list) else ""
        elif field["type"] == "text":
            entry["value"] = current or ""
        else:
            choices = []
            for i, choice in enumerate(field.get("choices", [])):
                value = choice["value"]
                selected = (
                    (value in current if isinstance(current, list) else current == value)
                    if name in values
                    else False
                )
                was_suggested = (
                    (value in sugg if isinstance(sugg, list) else sugg == value)
                    if name in suggested
                    else False
                )
                choices.append(
                    {
                        "id": f"f-{name}-{i}",
                        "value": _value_key(value),
                        "label": choice.get("label") or str(value),
                        "key": choice.get("key", ""),
                        "key_label": key_label(choice.get("key")),
                        "checked": selected,
                        "suggested": was_suggested,
                    }
                )
            entry["choices"] = choices
            entry["input"] = "checkbox" if field["type"] == "multi" else "radio"
        fields.append(entry)
    return fields


def parse_form(schema: dict[str, Any], kind: str, data: Any) -> dict[str, Any]:
    """Turn the posted form into a label payload (validation is the service's job)."""
    payload: dict[str, Any] = {}
    bad: dict[str, list[str]] = {}
    for field in schema[kind]["fields"]:
        name, ftype = field["name"], field["type"]
        try:
            if ftype == "multi":
                raw = data.getlist(name)
                if raw:
                    payload[name] = [json.loads(v) for v in raw]
            elif ftype == "span":
                raw = (data.get(name) or "").strip()
                if raw:
                    start, end = (int(x) for x in raw.split(","))
                    payload[name] = [start, end]
            elif ftype == "text":
                raw = data.get(name) or ""
                if raw:
                    payload[name] = raw
            else:
                raw = data.get(name)
                if raw not in (None, ""):
                    payload[name] = json.loads(raw)
        except (ValueError, TypeError):
            bad[name] = ["Not a valid value."]
    if bad:
        raise LabelInvalid(bad)
    return payload


def skip_key_for(schema: dict[str, Any], kind: str) -> str:
    used = set()
    for field in schema[kind]["fields"]:
        used.add(field.get("key"))
        used.update(c.get("key") for c in field.get("choices", []))
    return next(k for k in SKIP_KEYS if k not in used)


def item_context(
    *,
    request: HttpRequest,
    project: Project,
    kind: str,
    assignment: Assignment | None = None,
    label: Label | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Everything the `_annotate_item.html` fragment needs for one lease (or one label being
    edited after Z)."""
    version = current_schema(project)
    schema = version.schema
    ctx: dict[str, Any] = {"project": project, "kind": kind, "item": None}
    source = assignment or (label.assignment if label else None)
    if source is None:
        return ctx
    item = Item.objects.select_related(
        "claim__article", "pair__claim_a__article", "pair__claim_b__article", "project"
    ).get(pk=source.item_id)
    suggested = None
    if label is None and source.suggestions_shown:
        suggested = suggestion_values(item, version)
    if values is None:
        values = label.values if label is not None else (suggested or {})
    ctx.update(
        {
            "item": item,
            "assignment": source,
            "label": label,
            "fields": form_fields(schema, kind, values, suggested, errors),
            "errors": errors,
            "suggested": bool(suggested),
            "idempotency_key": uuid.uuid4().hex,
            "skip_key": skip_key_for(schema, kind),
            "skip_key_label": key_label(skip_key_for(schema, kind)),
            "started": timezone.now().timestamp(),
        }
    )
    # `kind` is the item's kind (leases are taken by kind); check item_kind_matches_target
    # gives a pair item its pair and a claim item its claim.
    if kind == Item.Kind.PAIR:
        assert item.pair is not None
        ctx["units"] = [unit_view(item.pair.claim_a), unit_view(item.pair.claim_b)]
    else:
        assert item.claim is not None
        ctx["unit"] = unit_view(item.claim)
        ctx["span_fields"] = [f for f in ctx["fields"] if f["type"] == "span"]
    if label is not None:
        ctx["action"] = reverse("annotate-edit", args=[project.slug, label.pk])
    else:
        ctx["action"] = reverse("annotate-submit", args=[project.slug, source.pk])
        ctx["skip_action"] = reverse("annotate-skip", args=[project.slug, source.pk])
    return ctx


def _lease_for_page(
    project: Project, user: Any, kind: str, exclude: set[int] | None = None
) -> Assignment | None:
    """The user's oldest active lease (so a reload shows the same item), else a new one."""
    now = timezone.now()
    held = active_leases(project=project, user=user, kind=kind, now=now)
    if exclude:
        held = held.exclude(pk__in=exclude)
    assignment = held.first()
    if assignment is None:
        assignment = item_lease_next(project=project, user=user, kind=kind, now=now)
        if assignment is not None and exclude and assignment.pk in exclude:
            return None
    return assignment


def _page(request: HttpRequest, slug: str, kind: str, status: int = 200, **extra: Any):
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    assignment = extra.pop("assignment", None) or _lease_for_page(project, request.user, kind)
    ctx = item_context(request=request, project=project, kind=kind, assignment=assignment, **extra)
    return _render_page(request, project, kind, ctx, status)


def _render_page(
    request: HttpRequest, project: Project, kind: str, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    if _wants_fragment(request):
        return render(request, "annotations/_annotate_item.html", ctx, status=status)
    version = current_schema(project)
    ctx.update(
        {
            "progress": user_progress(project=project, user=request.user, kind=kind),
            "guidelines": version.guidelines,
            "schema_version": version.version,
            "next_url": reverse("annotate-next", args=[project.slug]) + f"?kind={kind}",
            "undo_action": reverse("annotate-undo", args=[project.slug]),
            "page_url": reverse(
                "annotate-pairs" if kind == "pair" else "annotate", args=[project.slug]
            ),
        }
    )
    return render(request, "annotations/annotate.html", ctx, status=status)


# --- views ----------------------------------------------------------------------------------


@login_required
@require_GET
def annotate(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, slug, "claim")


@login_required
@require_GET
def annotate_pairs(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, slug, "pair")


@login_required
@require_GET
def annotate_next(request: HttpRequest, slug: str) -> HttpResponse:
    """Fragment of the next item (prefetch): a lease other than those in `exclude`."""
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    kind = "pair" if request.GET.get("kind") == "pair" else "claim"
    exclude = {int(x) for x in request.GET.get("exclude", "").split(",") if x.isdigit()}
    assignment = _lease_for_page(project, request.user, kind, exclude)
    ctx = item_context(request=request, project=project, kind=kind, assignment=assignment)
    return render(request, "annotations/_annotate_item.html", ctx)


def _own_assignment(request: HttpRequest, project: Project, lease_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("item")
        .filter(pk=lease_id, annotator_id=request.user.pk, item__project=project)
        .first()
    )
    if assignment is None:
        raise Http404("No such lease.")
    return assignment


def _seconds(request: HttpRequest) -> float | None:
    try:
        started = float(request.POST.get("started", ""))
    except ValueError:
        return None
    elapsed = timezone.now().timestamp() - started
    return round(elapsed, 2) if 0 <= elapsed < 86400 else None


@login_required
@require_POST
def annotate_submit(request: HttpRequest, slug: str, lease_id: int) -> HttpResponse:
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    assignment = _own_assignment(request, project, lease_id)
    kind = assignment.item.kind
    schema = current_schema(project).schema
    page = "annotate-pairs" if kind == "pair" else "annotate"
    try:
        payload = parse_form(schema, kind, request.POST)
        label_submit(
            assignment=assignment,
            user=request.user,
            values=payload,
            idempotency_key=request.POST.get("idempotency_key", ""),
            seconds=_seconds(request),
        )
    except LabelInvalid as exc:
        ctx = item_context(
            request=request,
            project=project,
            kind=kind,
            assignment=assignment,
            values=parse_form_lenient(schema, kind, request.POST),
            errors=exc.errors,
        )
        return _render_page(request, project, kind, ctx, status=400)
    except LabelError as exc:
        if _wants_fragment(request):
            return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, str(exc))
        return redirect(page, project.slug)
    if _wants_fragment(request):
        return HttpResponse(status=204)
    return redirect(page, project.slug)


def parse_form_lenient(schema: dict[str, Any], kind: str, data: Any) -> dict[str, Any]:
    try:
        return parse_form(schema, kind, data)
    except LabelInvalid:
        return {}


@login_required
@require_POST
def annotate_skip(request: HttpRequest, slug: str, lease_id: int) -> HttpResponse:
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    assignment = _own_assignment(request, project, lease_id)
    page = "annotate-pairs" if assignment.item.kind == "pair" else "annotate"
    try:
        lease_skip(assignment=assignment, user=request.user, reason=request.POST.get("reason", ""))
    except QueueError as exc:
        if _wants_fragment(request):
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        messages.error(request, str(exc))
        return redirect(page, project.slug)
    if _wants_fragment(request):
        return HttpResponse(status=204)
    return redirect(page, project.slug)


@login_required
@require_POST
def annotate_undo(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    kind = "pair" if request.POST.get("kind") == "pair" else "claim"
    label = label_undo_last(user=request.user, project=project, kind=kind)
    if label is None:
        messages.info(request, "Nothing to undo.")
        return redirect("annotate-pairs" if kind == "pair" else "annotate", project.slug)
    return redirect("annotate-edit", project.slug, label.pk)


@login_required
def annotate_edit(request: HttpRequest, slug: str, label_id: int) -> HttpResponse:
    """Edit one of your own labels (reached with Z); the item stays counted."""
    project = project_for(request.user, slug, ANNOTATE_ROLES)
    label = (
        Label.objects.select_related("assignment", "item")
        .filter(pk=label_id, annotator_id=request.user.pk, item__project=project)
        .first()
    )
    if label is None:
        raise Http404("No such label.")
    kind = label.item.kind
    page = "annotate-pairs" if kind == "pair" else "annotate"
    if request.method == "POST":
        schema = current_schema(project).schema
        try:
            payload = parse_form(schema, kind, request.POST)
            label_edit(
                label=label,
                user=request.user,
                values=payload,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except LabelInvalid as exc:
            ctx = item_context(
                request=request,
                project=project,
                kind=kind,
                label=label,
                values=parse_form_lenient(schema, kind, request.POST),
                errors=exc.errors,
            )
            return _render_page(request, project, kind, ctx, status=400)
        except LabelError as exc:
            messages.error(request, str(exc))
            return redirect(page, project.slug)
        messages.success(request, "Your labels were updated.")
        return redirect(page, project.slug)
    ctx = item_context(request=request, project=project, kind=kind, label=label)
    return _render_page(request, project, kind, ctx)


urlpatterns = [
    path("p/<slug:slug>/annotate/", annotate, name="annotate"),
    path("p/<slug:slug>/annotate/pairs/", annotate_pairs, name="annotate-pairs"),
    path("p/<slug:slug>/annotate/next/", annotate_next, name="annotate-next"),
    path("p/<slug:slug>/annotate/undo/", annotate_undo, name="annotate-undo"),
    path(
        "p/<slug:slug>/annotate/leases/<int:lease_id>/",
        annotate_submit,
        name="annotate-submit",
    ),
    path(
        "p/<slug:slug>/annotate/leases/<int:lease_id>/skip/",
        annotate_skip,
        name="annotate-skip",
    ),
    path("p/<slug:slug>/annotate/labels/<int:label_id>/", annotate_edit, name="annotate-edit"),
]
