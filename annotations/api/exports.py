"""Dataset export (streamed) and frozen dataset versions."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponseBase, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import DatasetVersion
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, project_for
from ..services.exports import (
    CONTENT_TYPES,
    FORMATS,
    INCLUDES,
    KINDS,
    ExportError,
    check_options,
    dataset_version_freeze,
    export_filename,
    export_stream,
    version_file_path,
    version_get,
    versions_for,
)
from .filters import MAX_ID, check_page_size


class IgnoreFormatParam(DefaultContentNegotiation):
    """`?format=` names the export format here, not a DRF renderer: always answer JSON (for
    errors); the export itself is a streamed file."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        renderer = renderers[0]
        return renderer, renderer.media_type


EXPORT_PARAMS = {"format", "include", "kind"}


def download_headers(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class ExportView(APIView):
    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        operation_id="project_export",
        summary="Stream the project's dataset (live, not a frozen version)",
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default="jsonl"),
            OpenApiParameter("include", str, enum=list(INCLUDES), default="labelled"),
            OpenApiParameter("kind", str, enum=list(KINDS), default="claims"),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.BINARY, description="One JSON record per line."
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY),
            400: OpenApiResponse(description="Unknown parameter or value."),
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        project = project_for(request.user, slug, REVIEW_ROLES)
        params = request.query_params
        unknown = sorted(k for k in params if k not in EXPORT_PARAMS)
        if unknown:
            raise ValidationError({k: "Unknown parameter." for k in unknown[:20]})
        fmt = params.get("format", "jsonl")
        include = params.get("include", "labelled")
        kind = params.get("kind", "claims")
        try:
            check_options(fmt=fmt, include=include, kind=kind)
        except ExportError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        response = StreamingHttpResponse(
            export_stream(project=project, kind=kind, include=include, fmt=fmt),
            content_type=CONTENT_TYPES[fmt],
        )
        return download_headers(
            response, export_filename(project=project, kind=kind, include=include, fmt=fmt)
        )


class VersionFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class VersionSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()
    job = serializers.UUIDField(source="job_id", read_only=True, allow_null=True)
    files = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = [
            "number",
            "note",
            "state",
            "job",
            "files",
            "record_counts",
            "changelog",
            "created_at",
            "frozen_at",
        ]
        read_only_fields = fields

    def get_state(self, obj: DatasetVersion) -> str:
        return version_state(obj)

    @extend_schema_field(VersionFileSerializer(many=True))
    def get_files(self, obj: DatasetVersion) -> list[dict[str, Any]]:
        request = self.context.get("request")
        out = []
        for name, entry in sorted((obj.files or {}).items()):
            url = f"/api/v1/projects/{obj.project.slug}/versions/{obj.number}/files/{name}"
            out.append(
                {
                    "name": name,
                    "sha256": entry.get("sha256"),
                    "size": entry.get("size"),
                    "url": request.build_absolute_uri(url) if request else url,
                }
            )
        return out


def version_state(version: DatasetVersion) -> str:
    if version.frozen_at is not None:
        return "frozen"
    if version.job is not None and version.job.state == "failed":
        return "failed"
    return "building"


class FreezeRequestSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FreezeResponseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    job = serializers.UUIDField()
    state = serializers.CharField()


class VersionList(APIView):
    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        operation_id="project_versions_list",
        responses=VersionSerializer(many=True),
        summary="Dataset versions of the project, newest first",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        check_page_size(request)
        if set(request.query_params) - {"page_size"}:
            raise ValidationError({"detail": "Unknown parameter."})
        versions = list(versions_for(project)[:500])
        for version in versions:
            version.project = project
        return Response(VersionSerializer(versions, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="project_versions_freeze",
        request=FreezeRequestSerializer,
        responses={202: FreezeResponseSerializer},
        summary="Freeze a new dataset version (admin); runs as a background job",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, ADMIN_ROLES)
        serializer = FreezeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = dataset_version_freeze(
            project=project, user=request.user, note=serializer.validated_data["note"]
        )
        version.refresh_from_db()
        return Response(
            {"number": version.number, "job": str(version.job_id), "state": version_state(version)},
            status=status.HTTP_202_ACCEPTED,
        )


class VersionDetail(APIView):
    content_negotiation_class = IgnoreFormatParam

    @extend_schema(operation_id="project_version_detail", responses=VersionSerializer)
    def get(self, request: Request, slug: str, number: int) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        version = version_get(project=project, number=number)
        if version is None:
            raise Http404("No such version.")
        return Response(VersionSerializer(version, context={"request": request}).data)


class VersionFile(APIView):
    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        operation_id="project_version_file",
        summary="Download one file of a frozen version (attachment)",
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request, slug: str, number: int, name: str) -> HttpResponseBase:
        project = project_for(request.user, slug, REVIEW_ROLES)
        return version_file_response(project, number, name)


def version_file_response(project: Any, number: int, name: str) -> HttpResponseBase:
    """The file as an attachment (never inline), or 404. Shared by the page and the API."""
    version = version_get(project=project, number=number) if number <= MAX_ID else None
    file_path = version_file_path(version, name) if version is not None else None
    if file_path is None or not file_path.is_file():
        raise Http404("No such file.")
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(
        file_path.open("rb"),
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        as_attachment=True,
        filename=f"{project.slug}-v{number}-{name}",
    )
    return download_headers(response, f"{project.slug}-v{number}-{name}")


urlpatterns = [
    path("projects/<slug:slug>/export/", ExportView.as_view(), name="api-export"),
    path("projects/<slug:slug>/versions/", VersionList.as_view(), name="api-versions"),
    path(
        "projects/<slug:slug>/versions/<int:number>/",
        VersionDetail.as_view(),
        name="api-version",
    ),
    path(
        "projects/<slug:slug>/versions/<int:number>/files/<str:name>",
        VersionFile.as_view(),
        name="api-version-file",
    ),
]
