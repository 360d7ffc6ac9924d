"""Corpus pages: import (upload with job progress), documents, articles with their sentence
boundaries (admins may split or merge before annotation starts), and the claims list.

The read queries used by these pages and by the corpus API live at the top of this module.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from ..ingest import IngestError
from ..models import Article, Claim, Document, Item, Job, Project
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, can_admin, project_for
from ..services.imports import import_job_create, ingest_errors, upload_validate
from ..services.segments import SegmentFixError, claim_merge, claim_split

PAGE_SIZE = 50
MAX_FILES = 20
# Multipart framing around the files: allowed on top of the size limit.
MULTIPART_SLACK = 64 * 1024
UNIT_KINDS = [k for k, _ in Claim.UnitKind.choices]
STATES = [s for s, _ in Item.Status.choices]


# --- reads ------------------------------------------------------------------------------------


def documents_of(project: Project) -> QuerySet[Document]:
    return (
        Document.objects.filter(project=project)
        .defer("text")
        .select_related("uploaded_by")
        .order_by("-id")
    )


def articles_of(project: Project) -> QuerySet[Article]:
    return (
        Article.objects.filter(project=project)
        .select_related("outlet", "document")
        .defer("document__text")
        .annotate(n_claims=Count("claims"))
        .order_by("id")
    )


def claims_of(project: Project) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(project=project)
        .select_related("article", "item")
        .defer("suggestion")
        .order_by("-id")
    )


def claims_search(queryset: QuerySet[Claim], q: str) -> QuerySet[Claim]:
    """Substring search; on PostgreSQL also full-text ('simple' config, fine for Arabic)."""
    q = q.strip()
    if not q:
        return queryset
    if settings.USING_POSTGRES:
        from django.contrib.postgres.search import SearchQuery, SearchVector

        return queryset.annotate(_search=SearchVector("text", config="simple")).filter(
            Q(_search=SearchQuery(q, config="simple", search_type="plain")) | Q(text__icontains=q)
        )
    return queryset.filter(text__icontains=q)


class SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload as soon as one file passes the size limit (nothing of it is kept):
    the request is marked and the view answers 413 without reading the rest of the body."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = settings.MAX_UPLOAD_BYTES
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = str(self.file_name or "")[:200]  # type: ignore[union-attr]
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_upload_size(request: HttpRequest) -> None:
    """Install the size check before the body is parsed (call before touching POST/FILES)."""
    request.upload_handlers.insert(0, SizeLimitHandler(request))


def upload_too_large(request: HttpRequest) -> str | None:
    """The name of the file that passed the limit, or "" when the declared length of the whole
    request already does; None when the size is acceptable."""
    flagged = getattr(request, "upload_too_large", None)
    if flagged is not None:
        return flagged
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > settings.MAX_UPLOAD_BYTES * MAX_FILES + MULTIPART_SLACK:
        return ""
    return None


def too_large_message(name: str) -> str:
    what = f"{name}: the file" if name else "The upload"
    return f"{what} is larger than the limit of {settings.MAX_UPLOAD_BYTES} bytes per file."


def read_uploads(files: list[Any]) -> tuple[list[tuple[str, bytes]], list[dict[str, Any]], int]:
    """Read and validate uploaded files. Returns (files, errors, status); nothing is stored."""
    errors: list[dict[str, Any]] = []
    out: list[tuple[str, bytes]] = []
    limit = settings.MAX_UPLOAD_BYTES
    if not files:
        return [], [{"file": "", "message": "Choose at least one file."}], 400
    if len(files) > MAX_FILES:
        return [], [{"file": "", "message": f"At most {MAX_FILES} files at once."}], 400
    for upload in files:
        if upload.size is not None and upload.size > limit:
            message = f"file is {upload.size} bytes; the limit is {limit} bytes"
            return [], [{"file": str(upload.name)[:200], "message": message}], 413
    for upload in files:
        data = upload.read()
        try:
            upload_validate(filename=str(upload.name), data=data)
        except IngestError as exc:
            errors.extend(ingest_errors(exc))
            continue
        out.append((str(upload.name), data))
    return out, errors, 400 if errors else 200


# --- import -----------------------------------------------------------------------------------


def _import_jobs(project: Project) -> list[Job]:
    return list(Job.objects.filter(project=project, kind="import").order_by("-created_at")[:20])


@csrf_exempt
@login_required
def import_page(request: HttpRequest, slug: str) -> HttpResponse:
    # CSRF is checked just below, after the size-limit handler is installed (the check reads
    # the body, and upload handlers can only be changed before that).
    limit_upload_size(request)
    return _import_page(request, slug)


@csrf_protect
def _import_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, ADMIN_ROLES)
    errors: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        request.FILES  # noqa: B018 - parse the body now, through the size-limit handler
        too_large = upload_too_large(request)
        if too_large is not None:
            errors = [{"file": too_large, "message": too_large_message(too_large)}]
            status = 413
        else:
            files, errors, status = read_uploads(request.FILES.getlist("file"))
            if not errors:
                for name, data in files:
                    import_job_create(project=project, user=request.user, files=[(name, data)])
                messages.success(request, f"{len(files)} file(s) queued for import.")
                return redirect("import", project.slug)
    context = {
        "project": project,
        "jobs": _import_jobs(project),
        "errors": errors,
        "max_bytes": settings.MAX_UPLOAD_BYTES,
        "max_files": MAX_FILES,
    }
    return render(request, "annotations/import.html", context, status=status)


# --- documents and articles ---------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts matches only up to `cap`: a common search word in a million claims would cost a
    full count for a number nobody needs. `capped` tells the template to say "more than"."""

    cap = 1000
    object_list: QuerySet[Any]

    def __init__(self, object_list: QuerySet[Any], per_page: int) -> None:
        super().__init__(object_list, per_page)

    @cached_property
    def count(self) -> int:
        n = self.object_list.values("pk").order_by()[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)


def _page(request: HttpRequest, queryset: QuerySet[Any], *, capped: bool = False) -> Any:
    paginator = CappedPaginator if capped else Paginator
    return paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def documents_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    page = _page(request, documents_of(project))
    return render(
        request,
        "annotations/documents.html",
        {"project": project, "page": page, "is_admin": can_admin(request.user, project)},
    )


@login_required
def document_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    document = get_object_or_404(documents_of(project), pk=pk)
    articles = (
        Article.objects.filter(provenances__document=document)
        .select_related("outlet")
        .annotate(n_claims=Count("claims", distinct=True))
        .order_by("provenances__start")
    )
    return render(
        request,
        "annotations/document.html",
        {"project": project, "document": document, "articles": articles},
    )


def article_segments(article: Article, text: str, claims: list[Claim]) -> list[dict[str, Any]]:
    """The article's text as alternating gaps and claims (for display)."""
    parts: list[dict[str, Any]] = []
    at = article.start
    for claim in claims:
        if claim.start > at:
            parts.append({"gap": text[at : claim.start]})
        parts.append({"claim": claim, "text": claim.text})
        at = max(at, claim.end)
    if article.end > at:
        parts.append({"gap": text[at : article.end]})
    return parts


@login_required
def article_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    article = get_object_or_404(
        Article.objects.filter(project=project).select_related("document", "outlet"), pk=pk
    )
    claims = list(Claim.objects.filter(article=article).select_related("item").order_by("position"))
    context = {
        "project": project,
        "article": article,
        "parts": article_segments(article, article.document.text, claims),
        "claims": claims,
        "rtl": article.language == "ar",
        "is_admin": can_admin(request.user, project),
        "provenances": article.provenances.select_related("document").defer("document__text"),
        "fixes": article.segment_fixes.select_related("user").order_by("-created_at")[:20],
    }
    return render(request, "annotations/article.html", context)


def _fix_target(request: HttpRequest, slug: str, pk: int) -> tuple[Project, Claim]:
    project = project_for(request.user, slug, ADMIN_ROLES)
    claim = get_object_or_404(Claim.objects.filter(project=project), pk=pk)
    return project, claim


@login_required
@require_POST
def claim_split_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project, claim = _fix_target(request, slug, pk)
    try:
        relative = int(request.POST.get("offset", ""))
    except ValueError:
        return HttpResponseBadRequest("The split offset must be a whole number.")
    try:
        claim_split(claim=claim, offset=claim.start + relative, user=request.user)
    except SegmentFixError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Claim split after character {relative}.")
    return redirect(reverse("article", args=[project.slug, claim.article_id]) + f"#c{claim.pk}")


@login_required
@require_POST
def claim_merge_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project, claim = _fix_target(request, slug, pk)
    try:
        claim_merge(claim=claim, user=request.user)
    except SegmentFixError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Claims merged.")
    return redirect(reverse("article", args=[project.slug, claim.article_id]) + f"#c{claim.pk}")


# --- claims list --------------------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(name)
    return int(raw)


@login_required
def claims_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for(request.user, slug, REVIEW_ROLES)
    queryset = claims_of(project)
    q = request.GET.get("q", "")[:200]
    filters = {
        "q": q,
        "language": request.GET.get("language", "")[:12],
        "unit_kind": request.GET.get("unit_kind", ""),
        "state": request.GET.get("state", ""),
    }
    if "\x00" in "".join(filters.values()):
        return HttpResponseBadRequest("Invalid search.")
    try:
        article = _int_param(request, "article")
        outlet = _int_param(request, "outlet")
    except ValueError as exc:
        return HttpResponseBadRequest(f"{exc} must be a number.")
    queryset = claims_search(queryset, q)
    if filters["language"]:
        queryset = queryset.filter(language=filters["language"])
    if filters["unit_kind"] in UNIT_KINDS:
        queryset = queryset.filter(unit_kind=filters["unit_kind"])
    if filters["state"] in STATES:
        queryset = queryset.filter(item__status=filters["state"])
    if article is not None:
        queryset = queryset.filter(article_id=article)
    if outlet is not None:
        queryset = queryset.filter(article__outlet_id=outlet)
    page = _page(request, queryset, capped=bool(q.strip()))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "annotations/claims.html",
        {
            "project": project,
            "page": page,
            "filters": filters,
            "unit_kinds": UNIT_KINDS,
            "states": Item.Status.choices,
            "query": query.urlencode(),
        },
    )


urlpatterns = [
    path("p/<slug:slug>/import/", import_page, name="import"),
    path("p/<slug:slug>/documents/", documents_page, name="documents"),
    path("p/<slug:slug>/documents/<int:pk>/", document_page, name="document"),
    path("p/<slug:slug>/articles/<int:pk>/", article_page, name="article"),
    path("p/<slug:slug>/claims/", claims_page, name="claims"),
    path("p/<slug:slug>/claims/<int:pk>/split/", claim_split_view, name="claim-split"),
    path("p/<slug:slug>/claims/<int:pk>/merge/", claim_merge_view, name="claim-merge"),
]
