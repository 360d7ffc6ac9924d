"""Corpus API: upload documents (admin, 202 with a job), list and read documents, articles and
claims (reviewers and admins; annotators get 403, outsiders 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Article, Claim, Document, Project
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, project_for
from ..services.imports import import_job_create
from ..views.corpus import (
    articles_of,
    claims_of,
    claims_search,
    documents_of,
    limit_upload_size,
    read_uploads,
    too_large_message,
    upload_too_large,
)
from .filters import apply_filters, check_page_size

# --- serializers ------------------------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    articles = serializers.SerializerMethodField()
    claims = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "name",
            "format",
            "sha256",
            "size",
            "url",
            "job",
            "articles",
            "duplicates",
            "claims",
            "created_at",
        ]
        read_only_fields = fields

    def get_articles(self, obj: Document) -> int:
        return int((obj.stats or {}).get("articles", 0))

    def get_claims(self, obj: Document) -> int:
        return int((obj.stats or {}).get("claims", 0))

    def get_duplicates(self, obj: Document) -> int:
        return int((obj.stats or {}).get("duplicates", 0))


class DocumentDetailSerializer(DocumentSerializer):
    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "text"]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    outlet = serializers.SerializerMethodField()
    claims = serializers.IntegerField(source="n_claims", read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "document",
            "position",
            "start",
            "end",
            "title",
            "outlet",
            "outlet_name",
            "byline",
            "published",
            "language",
            "content_hash",
            "claims",
        ]
        read_only_fields = fields

    def get_outlet(self, obj: Article) -> int | None:
        return obj.outlet_id


class ArticleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["id", "document", "title", "outlet_name", "language", "published"]
        read_only_fields = fields


class ClaimSerializer(serializers.ModelSerializer):
    article = ArticleRefSerializer(read_only=True)
    document = serializers.IntegerField(source="article.document_id", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "article",
            "document",
            "position",
            "start",
            "end",
            "text",
            "language",
            "unit_kind",
            "unit_defect",
            "claim_likelihood",
            "state",
        ]
        read_only_fields = fields

    def get_state(self, obj: Claim) -> str | None:
        item = getattr(obj, "item", None)
        return item.status if item is not None else None


class ArticleDetailSerializer(ArticleSerializer):
    units = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "units"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(), help_text="The article's units.")
    )
    def get_units(self, obj: Article) -> list[dict[str, Any]]:
        return [
            {
                "id": c.pk,
                "position": c.position,
                "start": c.start,
                "end": c.end,
                "unit_kind": c.unit_kind,
                "unit_defect": c.unit_defect,
                "claim_likelihood": c.claim_likelihood,
            }
            for c in obj.claims.order_by("position")
        ]


UploadResponse = inline_serializer(
    "DocumentUploadAccepted",
    {
        "job": serializers.UUIDField(),
        "state": serializers.CharField(),
        "files": serializers.ListField(child=serializers.CharField()),
        "status_url": serializers.CharField(),
    },
)
UploadError = inline_serializer(
    "DocumentUploadError",
    {
        "detail": serializers.CharField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


# --- views --------------------------------------------------------------------------------------


class DocumentList(generics.ListAPIView):
    """GET: documents of the project (reviewers, admins). POST: upload a file (admins)."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            limit_upload_size(request._request)
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Document]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        return apply_filters(
            self.request,
            documents_of(project),
            fields={"format": ("format", str), "sha256": ("sha256", str)},
        )

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "DocumentUpload", {"file": serializers.FileField()}
            )
        },
        responses={202: UploadResponse, 400: UploadError, 413: UploadError},
    )
    def post(self, request: Request, slug: str) -> Response:
        project: Project = project_for(request.user, slug, ADMIN_ROLES)
        too_large = upload_too_large(request._request)
        if too_large is None:
            files_in = request.FILES.getlist("file")
            too_large = upload_too_large(request._request)
        if too_large is not None:
            return Response(
                {"detail": too_large_message(too_large), "errors": []},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        files, errors, code = read_uploads(files_in)
        if errors:
            first = errors[0]
            where = ", ".join(
                part
                for part in (
                    str(first.get("file") or ""),
                    f"line {first['line']}" if first.get("line") is not None else "",
                    f"byte {first['byte']}" if first.get("byte") is not None else "",
                )
                if part
            )
            detail = f"{where}: {first['message']}" if where else first["message"]
            return Response({"detail": detail, "errors": errors}, status=code)
        job = import_job_create(project=project, user=request.user, files=files)
        return Response(
            {
                "job": str(job.pk),
                "state": job.state,
                "files": [name for name, _ in files],
                "status_url": f"/api/v1/jobs/{job.pk}/",
            },
            status=status.HTTP_202_ACCEPTED,
        )


class DocumentDetail(APIView):
    @extend_schema(responses=DocumentDetailSerializer)
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        document = get_object_or_404(Document.objects.filter(project=project), pk=pk)
        return Response(DocumentDetailSerializer(document).data)


class ArticleList(generics.ListAPIView):
    serializer_class = ArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        return apply_filters(
            self.request,
            articles_of(project).order_by("-id"),
            fields={
                "document": ("document_id", int),
                "language": ("language", str),
                "outlet": ("outlet_id", int),
                "published": ("published", str),
            },
        )


class ArticleDetail(APIView):
    @extend_schema(responses=ArticleDetailSerializer)
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        article = get_object_or_404(articles_of(project), pk=pk)
        return Response(ArticleDetailSerializer(article).data)


class ClaimList(generics.ListAPIView):
    """Claims with their article, offsets and state; `q` searches the text."""

    serializer_class = ClaimSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Text search (substring; full-text too)."),
            OpenApiParameter("language", str),
            OpenApiParameter("unit_kind", str),
            OpenApiParameter("article", int),
            OpenApiParameter("outlet", int),
            OpenApiParameter("state", str, description="The claim's queue item status."),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Claim]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        q = self.request.query_params.get("q", "")
        if len(q) > 200 or "\x00" in q:
            raise serializers.ValidationError({"q": "At most 200 characters, no NUL."})
        queryset = apply_filters(
            self.request,
            claims_of(project),
            fields={
                "language": ("language", str),
                "unit_kind": ("unit_kind", str),
                "article": ("article_id", int),
                "outlet": ("article__outlet_id", int),
                "state": ("item__status", str),
            },
        )
        return claims_search(queryset, q)


class ClaimDetail(APIView):
    @extend_schema(responses=ClaimSerializer)
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        claim = get_object_or_404(claims_of(project), pk=pk)
        return Response(ClaimSerializer(claim).data)


urlpatterns = [
    path("projects/<slug:slug>/documents/", DocumentList.as_view(), name="api-documents"),
    path("projects/<slug:slug>/documents/<int:pk>/", DocumentDetail.as_view(), name="api-document"),
    path("projects/<slug:slug>/articles/", ArticleList.as_view(), name="api-articles"),
    path("projects/<slug:slug>/articles/<int:pk>/", ArticleDetail.as_view(), name="api-article"),
    path("projects/<slug:slug>/claims/", ClaimList.as_view(), name="api-claims"),
    path("projects/<slug:slug>/claims/<int:pk>/", ClaimDetail.as_view(), name="api-claim"),
]
