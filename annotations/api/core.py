"""Projects and jobs."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Job, Project
from ..permissions import project_for, role_in, visible_projects
from ..services.jobs import job_resend_if_stale
from ..views.core import job_visible
from .filters import apply_filters, check_page_size


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "languages",
            "overlap",
            "lease_seconds",
            "queue_order",
            "queue_filter",
            "likelihood_threshold",
            "auto_settle",
            "suggestions",
            "created_at",
            "archived_at",
            "role",
        ]
        read_only_fields = fields

    def get_role(self, obj: Project) -> str | None:
        return role_in(self.context["request"].user, obj)


class ProjectList(generics.ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        check_page_size(self.request)
        return apply_filters(
            self.request,
            visible_projects(self.request.user),
            fields={"slug": ("slug", str)},
        )


class ProjectDetail(APIView):
    @extend_schema(responses=ProjectSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug)
        return Response(ProjectSerializer(project, context={"request": request}).data)


class JobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "project",
            "state",
            "progress",
            "message",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JobDetail(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        job = get_object_or_404(Job.objects.select_related("project"), pk=job_id)
        if not job_visible(request.user, job):
            raise PermissionDenied("Only the job's owner or a project admin may see it.")
        job_resend_if_stale(job)
        return Response(JobSerializer(job).data)


urlpatterns = [
    path("projects/", ProjectList.as_view(), name="api-projects"),
    path("projects/<slug:slug>/", ProjectDetail.as_view(), name="api-project"),
    path("jobs/<uuid:job_id>/", JobDetail.as_view(), name="api-job"),
]
