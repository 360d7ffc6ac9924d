"""Pairs API: a claim's cross-source candidates, the project's stored pairs and event
clusters (reviewers and admins; annotators 403, outsiders 404), and the admins' merge/split.

* ``GET claims/{id}/candidates/?limit=10``: best first, from the stored pairs; a claim with
  no stored pair (not yet paired, or not eligible) gets candidates computed now against the
  project's eligible claims (``stored: false``; see services/pairs.claim_candidates).
* ``GET projects/{slug}/pairs/``: filters ``method``, ``cluster``, ``claim`` (either side),
  ``min_score``, ``queued`` (has an item); cursor-paginated by score.
* ``GET projects/{slug}/events/`` (+ ``{id}/``): filters ``manual``, ``q``, ``min_claims``.
* ``POST projects/{slug}/events/merge/`` ``{"clusters": [ids]}``;
  ``POST events/{id}/split/`` ``{"claims": [ids]}`` (new cluster from those claims).
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Claim, ClaimPair, EventCluster
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, project_for
from ..services.pairs import ClusterEditError, claim_candidates, cluster_split, clusters_merge
from ..views.pairs import attach_facets, cluster_claims, clusters_of, outlet_name
from .filters import apply_filters, check_page_size, parse_int

MAX_LIMIT = 50

# --- serializers ------------------------------------------------------------------------------


class CandidateClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    language = serializers.CharField()
    outlet = serializers.CharField()


class CandidateSerializer(serializers.Serializer):
    claim = CandidateClaimSerializer()
    score = serializers.FloatField()
    method = serializers.CharField()
    stored = serializers.BooleanField(help_text="False: computed now (the claim has no pairs).")


def _claim_ref(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "text": claim.text,
        "language": claim.language,
        "outlet": outlet_name(claim),
    }


class PairSerializer(serializers.ModelSerializer):
    item = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = ClaimPair
        fields = [
            "id",
            "claim_a",
            "claim_b",
            "method",
            "score",
            "features",
            "cluster",
            "item",
            "status",
            "created_at",
        ]
        read_only_fields = fields

    def get_item(self, obj: ClaimPair) -> int | None:
        item = getattr(obj, "item", None)
        return item.pk if item is not None else None

    def get_status(self, obj: ClaimPair) -> str | None:
        item = getattr(obj, "item", None)
        return item.status if item is not None else None


class EventSerializer(serializers.ModelSerializer):
    claims = serializers.IntegerField(source="n_claims", read_only=True)
    outlets = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    first_date = serializers.DateField(read_only=True, allow_null=True)
    last_date = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = EventCluster
        fields = [
            "id",
            "key",
            "title",
            "manual",
            "claims",
            "outlets",
            "languages",
            "first_date",
            "last_date",
            "updated_at",
        ]
        read_only_fields = fields


class EventClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    language = serializers.CharField()
    outlet = serializers.CharField()
    article = serializers.IntegerField()
    title = serializers.CharField()
    published = serializers.DateField(allow_null=True)


class EventDetailSerializer(EventSerializer):
    members = serializers.SerializerMethodField()

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "members"]
        read_only_fields = fields

    @extend_schema_field(EventClaimSerializer(many=True))
    def get_members(self, obj: EventCluster) -> list[dict[str, Any]]:
        return [
            {
                **_claim_ref(c),
                "article": c.article_id,
                "title": c.article.title,
                "published": c.article.published,
            }
            for c in cluster_claims(obj)
        ]


class MergeSerializer(serializers.Serializer):
    clusters = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=2,
        max_length=1000,
    )


class SplitSerializer(serializers.Serializer):
    claims = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10000,
    )


# --- views --------------------------------------------------------------------------------------


class ClaimCandidates(APIView):
    """Cross-source candidates for a claim, best first."""

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description=f"1..{MAX_LIMIT}, default 10.")],
        responses={200: CandidateSerializer(many=True), 400: None, 403: None, 404: None},
    )
    def get(self, request: Request, pk: int) -> Response:
        claim = get_object_or_404(Claim.objects.select_related("project", "article"), pk=pk)
        project_for(request.user, claim.project.slug, REVIEW_ROLES)
        raw = request.query_params.get("limit")
        limit = 10 if raw is None else parse_int(raw, "limit")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": f"Must be between 1 and {MAX_LIMIT}."})
        rows = claim_candidates(claim=claim, limit=limit)
        body = [
            {
                "claim": _claim_ref(r["claim"]),
                "score": r["score"],
                "method": r["method"],
                "stored": r["stored"],
            }
            for r in rows
        ]
        return Response(CandidateSerializer(body, many=True).data)


class PairPagination(CursorPagination):
    ordering = ("-score", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _min_score(request: Request, queryset: QuerySet[Any], lookup: str) -> QuerySet[Any]:
    raw = request.query_params.get("min_score")
    if raw is None:
        return queryset
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError({"min_score": "Must be a number."}) from None
    if not math.isfinite(value):
        raise ValidationError({"min_score": "Must be a finite number."})
    return queryset.filter(**{lookup: value})


class PairList(generics.ListAPIView):
    """Stored candidate pairs of the project, best first."""

    serializer_class = PairSerializer
    pagination_class = PairPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("method", str),
            OpenApiParameter("cluster", int),
            OpenApiParameter("claim", int, description="Pairs with this claim on either side."),
            OpenApiParameter("min_score", float),
            OpenApiParameter("queued", bool, description="Has a pair item in the queue."),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ClaimPair]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        qs = ClaimPair.objects.filter(project=project).select_related("item")
        qs = apply_filters(
            self.request,
            qs,
            fields={"method": ("method", str), "cluster": ("cluster_id", int)},
            extra={"claim", "min_score", "queued"},
        )
        queued = self.request.query_params.get("queued")
        if queued is not None:
            if queued.lower() not in {"true", "false", "1", "0"}:
                raise ValidationError({"queued": "Must be true or false."})
            qs = qs.filter(item__isnull=queued.lower() in {"false", "0"})
        raw_claim = self.request.query_params.get("claim")
        if raw_claim is not None:
            claim_id = parse_int(raw_claim, "claim")
            qs = qs.filter(Q(claim_a_id=claim_id) | Q(claim_b_id=claim_id))
        return _min_score(self.request, qs, "score__gte")


class EventList(generics.ListAPIView):
    """Event clusters of the project (largest first within a page is not guaranteed: the
    cursor orders by id, newest first)."""

    serializer_class = EventSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Search titles and claim texts."),
            OpenApiParameter("manual", bool, description="Edited by an admin."),
            OpenApiParameter("min_claims", int),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[EventCluster]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        q = self.request.query_params.get("q", "")
        if len(q) > 200 or "\x00" in q:
            raise ValidationError({"q": "Invalid value."})
        qs = apply_filters(
            self.request,
            clusters_of(project, q.strip()),
            fields={"manual": ("manual", bool), "min_claims": ("n_claims__gte", int)},
        )
        return qs

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_facets(page)
        return page


class EventDetail(APIView):
    @extend_schema(responses={200: EventDetailSerializer, 404: None})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = project_for(request.user, slug, REVIEW_ROLES)
        return Response(EventDetailSerializer(_event(project, pk)).data)


def _event(project: Any, pk: int) -> EventCluster:
    cluster = get_object_or_404(clusters_of(project), pk=pk)
    attach_facets([cluster])
    return cluster


class EventMerge(APIView):
    """Merge events into one (the largest keeps its key); the result is marked manual."""

    @extend_schema(request=MergeSerializer, responses={200: EventDetailSerializer, 400: None})
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, ADMIN_ROLES)
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            target = clusters_merge(
                project=project, cluster_ids=data.validated_data["clusters"], user=request.user
            )
        except ClusterEditError as exc:
            raise ValidationError({"clusters": str(exc)}) from None
        return Response(EventDetailSerializer(_event(project, target.pk)).data)


class EventSplit(APIView):
    """Move the given claims of an event into a new event; both are marked manual."""

    @extend_schema(
        request=SplitSerializer, responses={201: EventDetailSerializer, 400: None, 404: None}
    )
    def post(self, request: Request, pk: int) -> Response:
        cluster = get_object_or_404(EventCluster.objects.select_related("project"), pk=pk)
        project = project_for(request.user, cluster.project.slug, ADMIN_ROLES)
        data = SplitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            new = cluster_split(
                cluster=cluster, claim_ids=data.validated_data["claims"], user=request.user
            )
        except ClusterEditError as exc:
            raise ValidationError({"claims": str(exc)}) from None
        return Response(
            EventDetailSerializer(_event(project, new.pk)).data, status=status.HTTP_201_CREATED
        )


urlpatterns = [
    path("claims/<int:pk>/candidates/", ClaimCandidates.as_view(), name="api-claim-candidates"),
    path("projects/<slug:slug>/pairs/", PairList.as_view(), name="api-pairs"),
    path("projects/<slug:slug>/events/", EventList.as_view(), name="api-events"),
    path("projects/<slug:slug>/events/merge/", EventMerge.as_view(), name="api-events-merge"),
    path("projects/<slug:slug>/events/<int:pk>/", EventDetail.as_view(), name="api-event"),
    path("events/<int:pk>/split/", EventSplit.as_view(), name="api-event-split"),
]
