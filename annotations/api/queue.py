"""Annotators' API: lease the next claim or pair, submit, skip, edit and list their own labels.

Blind by construction: responses carry the unit, its context and the caller's own lease or
label, never counts (n_done / n_leased), other annotators' labels or names.

Submit replays: a repeated `Idempotency-Key` for the same lease returns the original response
body with the same status (201) and the header `Idempotent-Replayed: true`.

Every response of these views carries `Server-Timing: app;dur=<ms>` (server-side time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Assignment, Claim, Item, Label
from ..permissions import ALL_ROLES, ANNOTATE_ROLES, project_for, require_role
from ..services.labels import (
    IdempotencyConflict,
    LabelInvalid,
    LabelLocked,
    LeaseConflict,
    label_edit,
    label_submit,
    suggestion_values,
)
from ..services.projects import current_schema
from ..services.queue import QueueError, item_lease_next, lease_skip
from .errors import Conflict
from .filters import apply_filters, check_page_size

CONTEXT_SENTENCES = 2


def timed(view: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(view)
    def wrapper(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        started = time.perf_counter()
        response = view(self, request, *args, **kwargs)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response

    return wrapper


# --- serializers (explicit; responses only carry what the annotator may see) ----------------


class QueueArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    outlet = serializers.CharField()
    published = serializers.DateField(allow_null=True)
    language = serializers.CharField()


class QueueContextSentenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    language = serializers.CharField()
    is_target = serializers.BooleanField()


class QueueClaimUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    language = serializers.CharField()
    article = QueueArticleSerializer()
    context = QueueContextSentenceSerializer(many=True)


class QueueLeaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class QueueSuggestionSerializer(serializers.Serializer):
    labels = serializers.DictField()
    source = serializers.CharField()


class ClaimLeaseSerializer(serializers.Serializer):
    lease = QueueLeaseSerializer()
    claim = QueueClaimUnitSerializer()
    suggestion = QueueSuggestionSerializer(
        allow_null=True, help_text="Pre-filled suggestion when this annotator is shown one."
    )


class QueuePairUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    a = QueueClaimUnitSerializer()
    b = QueueClaimUnitSerializer()


class PairLeaseSerializer(serializers.Serializer):
    lease = QueueLeaseSerializer()
    pair = QueuePairUnitSerializer()


class LeaseRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["claim", "pair"], default="claim", required=False)


class LabelSubmitSerializer(serializers.Serializer):
    labels = serializers.JSONField(help_text="Label payload keyed by schema field.")
    seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)


class LabelEditSerializer(serializers.Serializer):
    labels = serializers.JSONField(help_text="The complete new label payload.")


class LeaseSkipRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=False)


class OwnLabelSerializer(serializers.ModelSerializer):
    lease = serializers.IntegerField(source="assignment_id")
    kind = serializers.CharField(source="item.kind")
    claim = serializers.IntegerField(source="item.claim_id", allow_null=True)
    pair = serializers.IntegerField(source="item.pair_id", allow_null=True)
    schema_version = serializers.IntegerField(source="schema_version.version")

    class Meta:
        model = Label
        fields = [
            "id",
            "lease",
            "kind",
            "claim",
            "pair",
            "values",
            "seconds",
            "suggested",
            "accepted",
            "schema_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OwnLabelResponseSerializer(serializers.Serializer):
    label = OwnLabelSerializer()


class LeaseSkipResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()


# --- building the unit payload ------------------------------------------------------------


def claim_payload(claim: Claim) -> dict[str, Any]:
    """The claim, its article and the surrounding sentences (context) of that article."""
    article = claim.article
    neighbours = Claim.objects.filter(
        article_id=claim.article_id,
        position__gte=max(0, claim.position - CONTEXT_SENTENCES),
        position__lte=claim.position + CONTEXT_SENTENCES,
    ).order_by("position")
    return {
        "id": claim.pk,
        "text": claim.text,
        "language": claim.language,
        "article": {
            "id": article.pk,
            "title": article.title,
            "outlet": article.outlet_name,
            "published": article.published,
            "language": article.language,
        },
        "context": [
            {"id": c.pk, "text": c.text, "language": c.language, "is_target": c.pk == claim.pk}
            for c in neighbours
        ],
    }


def lease_payload(assignment: Assignment) -> dict[str, Any]:
    item = assignment.item
    body: dict[str, Any] = {"lease": {"id": assignment.pk, "expires_at": assignment.expires_at}}
    if item.kind == Item.Kind.PAIR:
        pair = item.pair
        assert pair is not None  # check constraint item_kind_matches_target
        body["pair"] = {
            "id": pair.pk,
            "a": claim_payload(pair.claim_a),
            "b": claim_payload(pair.claim_b),
        }
    else:
        claim = item.claim
        assert claim is not None  # check constraint item_kind_matches_target
        body["claim"] = claim_payload(claim)
        suggestion = None
        if assignment.suggestions_shown:
            values = suggestion_values(item, current_schema(item.project))
            if values:
                # suggestion_values only returns values read from a dict suggestion
                assert isinstance(claim.suggestion, dict)
                suggestion = {
                    "labels": values,
                    "source": str(claim.suggestion.get("source", "rules")),
                }
        body["suggestion"] = suggestion
    return body


def _load_lease(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_related(
        "item__project",
        "item__claim__article",
        "item__pair__claim_a__article",
        "item__pair__claim_b__article",
    ).get(pk=assignment.pk)


def _own_lease(request: Request, lease_id: int) -> Assignment:
    """The caller's own lease; anybody else's (or a missing one) is 404."""
    assignment = (
        Assignment.objects.select_related("item__project")
        .filter(pk=lease_id, annotator_id=request.user.pk)
        .first()
    )
    if assignment is None:
        raise Http404("No such lease.")
    require_role(request.user, assignment.item.project, ANNOTATE_ROLES)
    return assignment


def _label_body(label: Label) -> dict[str, Any]:
    # label_submit returns the label with its item and schema version attached.
    return {"label": OwnLabelSerializer(label).data}


# --- views ---------------------------------------------------------------------------------


class LeaseCreate(APIView):
    @extend_schema(
        request=LeaseRequestSerializer,
        responses={
            201: OpenApiResponse(
                ClaimLeaseSerializer, description="A claim lease; with kind=pair a PairLease."
            ),
            204: OpenApiResponse(description="Nothing is left for this annotator."),
        },
        description='Lease the next claim (or, with {"kind": "pair"}, claim pair).',
    )
    @timed
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, ANNOTATE_ROLES)
        data = LeaseRequestSerializer(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        kind = data.validated_data.get("kind") or "claim"
        assignment = item_lease_next(project=project, user=request.user, kind=kind)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(lease_payload(_load_lease(assignment)), status=status.HTTP_201_CREATED)


class LabelCreate(APIView):
    @extend_schema(
        request=LabelSubmitSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description=("Unique per submission; a replay returns the original response."),
            )
        ],
        responses={
            201: OwnLabelResponseSerializer,
            400: OpenApiResponse(description="Field errors or missing Idempotency-Key."),
            404: OpenApiResponse(description="Not your lease."),
            409: OpenApiResponse(description="The lease expired and the item went to someone."),
        },
    )
    @timed
    def post(self, request: Request, lease_id: int) -> Response:
        assignment = _own_lease(request, lease_id)
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise ValidationError({"detail": "The Idempotency-Key header is required."})
        body = LabelSubmitSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        try:
            label, created = label_submit(
                assignment=assignment,
                user=request.user,
                values=body.validated_data["labels"],
                idempotency_key=key,
                seconds=body.validated_data.get("seconds"),
            )
        except LabelInvalid as exc:
            raise ValidationError({"labels": exc.errors}) from None
        except (LeaseConflict, IdempotencyConflict) as exc:
            raise Conflict(str(exc)) from None
        response = Response(_label_body(label), status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class LeaseSkip(APIView):
    @extend_schema(request=LeaseSkipRequestSerializer, responses={200: LeaseSkipResponseSerializer})
    @timed
    def post(self, request: Request, lease_id: int) -> Response:
        assignment = _own_lease(request, lease_id)
        body = LeaseSkipRequestSerializer(
            data=request.data if isinstance(request.data, dict) else {}
        )
        body.is_valid(raise_exception=True)
        try:
            done = lease_skip(
                assignment=assignment, user=request.user, reason=body.validated_data["reason"]
            )
        except QueueError as exc:
            raise Conflict(str(exc)) from None
        return Response({"id": done.pk, "state": done.state})


class OwnLabelList(generics.ListAPIView):
    """The caller's own labels in the project (never anyone else's)."""

    serializer_class = OwnLabelSerializer

    def get_queryset(self) -> QuerySet[Label]:
        check_page_size(self.request)
        project = project_for(self.request.user, self.kwargs["slug"], ALL_ROLES)
        qs = Label.objects.filter(item__project=project, annotator_id=self.request.user.pk)
        qs = apply_filters(
            self.request,
            qs,
            fields={"kind": ("item__kind", str), "claim": ("item__claim_id", int)},
        )
        return qs.select_related("item", "schema_version")


class OwnLabelDetail(APIView):
    def _label(self, request: Request, label_id: int) -> Label:
        label = get_object_or_404(
            Label.objects.select_related("item__project", "schema_version"),
            pk=label_id,
            annotator_id=request.user.pk,
        )
        require_role(request.user, label.item.project, ALL_ROLES)
        return label

    @extend_schema(responses=OwnLabelResponseSerializer)
    def get(self, request: Request, label_id: int) -> Response:
        return Response(_label_body(self._label(request, label_id)))

    @extend_schema(
        request=LabelEditSerializer,
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)
        ],
        responses={200: OwnLabelResponseSerializer},
    )
    @timed
    def patch(self, request: Request, label_id: int) -> Response:
        label = self._label(request, label_id)
        body = LabelEditSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        try:
            label, _changed = label_edit(
                label=label,
                user=request.user,
                values=body.validated_data["labels"],
                idempotency_key=request.headers.get("Idempotency-Key") or None,
            )
        except LabelInvalid as exc:
            raise ValidationError({"labels": exc.errors}) from None
        except (LabelLocked, IdempotencyConflict) as exc:
            raise Conflict(str(exc)) from None
        return Response(_label_body(label))

    @extend_schema(
        request=LabelEditSerializer,
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)
        ],
        responses={200: OwnLabelResponseSerializer},
    )
    def put(self, request: Request, label_id: int) -> Response:
        return self.patch(request, label_id)


urlpatterns = [
    path("projects/<slug:slug>/leases/", LeaseCreate.as_view(), name="api-leases"),
    path("projects/<slug:slug>/labels/", OwnLabelList.as_view(), name="api-own-labels"),
    path("leases/<int:lease_id>/labels/", LabelCreate.as_view(), name="api-lease-labels"),
    path("leases/<int:lease_id>/skip/", LeaseSkip.as_view(), name="api-lease-skip"),
    path("labels/<int:label_id>/", OwnLabelDetail.as_view(), name="api-label"),
]
