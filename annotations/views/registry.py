"""Registry of outlets (found at import) and named sources, edited by project admins.

Affiliation (state media, partisan, armed group ...) is recorded here, once per outlet or
source, and joined to the data at export; annotators never label it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from ..forms import NamedSourceForm, OutletForm, source_type_choices
from ..models import NamedSource, Outlet
from ..permissions import ADMIN_ROLES, project_for
from ..selectors import named_sources_for, outlets_for
from ..services.registry import named_source_update, outlet_update
from .htmx import HtmxHttpRequest
from .projects import page_of, query_without_page

TABS = ("outlets", "sources")


@login_required
def registry(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    tab = request.GET.get("tab", "outlets")
    if tab not in TABS:
        tab = "outlets"
    q = request.GET.get("q", "")[:200]
    reviewed = request.GET.get("reviewed", "")
    kind = request.GET.get("kind", "")
    if tab == "outlets":
        kind = kind if kind in Outlet.Kind.values else ""
        queryset = outlets_for(project, q=q, kind=kind, reviewed=reviewed)
        kinds = Outlet.Kind.choices
    else:
        valid = {v for v, _ in source_type_choices() if v}
        kind = kind if kind in valid else ""
        queryset = named_sources_for(project, q=q, source_type=kind, reviewed=reviewed)
        kinds = [c for c in source_type_choices() if c[0]]
    context = {
        "project": project,
        "tab": tab,
        "page": page_of(request, queryset),
        "query": query_without_page(request),
        "filters": {"q": q, "reviewed": reviewed, "kind": kind},
        "kinds": kinds,
    }
    template = "annotations/_registry_rows.html" if request.htmx else "annotations/registry.html"
    return render(request, template, context)


def _edit(
    request: HttpRequest, slug: str, model: Any, form_class: Any, tab: str, pk: int
) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    obj = get_object_or_404(model, project=project, pk=pk)
    form = form_class(request.POST or None, instance=model.objects.get(pk=obj.pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if tab == "outlets":
            outlet_update(outlet=obj, **changes)
        else:
            named_source_update(source=obj, **changes)
        messages.success(request, f"“{changes['name']}” saved.")
        back = request.POST.get("next", "")
        if back.startswith("?"):
            return redirect(reverse("registry", args=[project.slug]) + back)
        return redirect(reverse("registry", args=[project.slug]) + f"?tab={tab}")
    return render(
        request,
        "annotations/registry_edit.html",
        {
            "project": project,
            "obj": obj,
            "form": form,
            "tab": tab,
            "next": request.GET.get("next", request.POST.get("next", "")),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def outlet_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _edit(request, slug, Outlet, OutletForm, "outlets", pk)


@login_required
def source_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _edit(request, slug, NamedSource, NamedSourceForm, "sources", pk)


urlpatterns = [
    path("p/<slug:slug>/registry/", registry, name="registry"),
    path("p/<slug:slug>/registry/outlets/<int:pk>/", outlet_edit, name="outlet-edit"),
    path("p/<slug:slug>/registry/sources/<int:pk>/", source_edit, name="source-edit"),
]
