"""The stored agreement report of a project (reviewers and admins).

GET returns the newest stored report (`?kind=pairs` for pair fields). When none is stored yet,
a small project (at most SYNC_LIMIT labels) gets one computed on the spot (200); a larger one
gets 202 with the id of the background job computing it (poll `/api/v1/jobs/{id}/`, then GET
again). POST starts a recomputation (202 with the job id)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Job, Project
from ..permissions import REVIEW_ROLES, project_for
from ..services.agreement_jobs import (
    kind_of,
    latest_report,
    report_store,
    small_enough_to_compute_now,
)
from ..services.jobs import job_create


class FieldAgreementSerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True)
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    items = serializers.IntegerField()
    missing_rate = serializers.FloatField(allow_null=True)


class AgreementSerializer(serializers.Serializer):
    fields = serializers.DictField(child=FieldAgreementSerializer())
    kappa = serializers.JSONField()
    spans = serializers.JSONField()
    annotators = serializers.ListField(child=serializers.JSONField())
    confusion = serializers.JSONField(required=False)
    slices = serializers.JSONField(required=False)
    progress = serializers.JSONField(required=False)
    kind = serializers.CharField()
    n_items = serializers.IntegerField()
    n_labels = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    seconds = serializers.FloatField()


class AgreementJobSerializer(serializers.Serializer):
    job = serializers.UUIDField()
    state = serializers.CharField()
    detail = serializers.CharField()


def agreement_job_start(project: Project, kind: str, user: Any) -> Job:
    """The running agreement job of this project and kind, or a new one."""
    running = (
        Job.objects.filter(project=project, kind="agreement", state__in=["queued", "running"])
        .filter(params__kind=kind)
        .order_by("-created_at")
        .first()
    )
    return running or job_create(
        kind="agreement", project=project, user=user, params={"kind": kind}
    )


def _kind(request: Request) -> str:
    unknown = [k for k in request.query_params if k != "kind"]
    if unknown:
        raise ValidationError({k: "Unknown parameter." for k in unknown[:20]})
    try:
        return kind_of(request.query_params.get("kind"))
    except ValueError:
        raise ValidationError({"kind": "Must be claims or pairs."}) from None


def report_body(report: Any) -> dict[str, Any]:
    result = dict(report.result)
    for key in ("fields", "kappa", "spans", "confusion", "slices"):
        result.setdefault(key, {})
    result.setdefault("annotators", [])
    result["computed_at"] = report.created_at
    result["seconds"] = report.seconds
    return result


_KIND = OpenApiParameter("kind", str, enum=["claims", "pairs"])


class Agreement(APIView):
    @extend_schema(
        parameters=[_KIND], responses={200: AgreementSerializer, 202: AgreementJobSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        kind = _kind(request)
        report = latest_report(project, kind)
        if report is None and small_enough_to_compute_now(project, kind):
            report = report_store(project=project, kind=kind)
        if report is None:
            job = agreement_job_start(project, kind, request.user)
            return Response(
                {"job": job.pk, "state": job.state, "detail": "The report is being computed."},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(report_body(report))

    @extend_schema(parameters=[_KIND], request=None, responses={202: AgreementJobSerializer})
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        kind = _kind(request)
        job = agreement_job_start(project, kind, request.user)
        return Response(
            {"job": job.pk, "state": job.state, "detail": "Recomputing."},
            status=status.HTTP_202_ACCEPTED,
        )


urlpatterns = [
    path("projects/<slug:slug>/agreement/", Agreement.as_view(), name="api-agreement"),
]
