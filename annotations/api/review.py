"""Review queue, adjudication (claims and pairs), the decision trail and gold items.

Reviewers and admins of the item's project only: outsiders get 404, annotators 403. A decision
carries the item `version` the reviewer saw; when someone else decided first the answer is 409
with the current decision, and nothing is written."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Decision, Item, Label
from ..permissions import ADMIN_ROLES, REVIEW_ROLES, project_for
from ..services.adjudication import (
    Conflict,
    item_decide,
    item_labels,
    item_reopen,
    item_trail,
    review_queryset,
)
from ..services.gold import gold_item_set
from .filters import check_page_size

# --- serializers ------------------------------------------------------------------------------


class ReviewArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    outlet = serializers.CharField(source="outlet_name")
    published = serializers.DateField(allow_null=True)
    language = serializers.CharField()


class ReviewClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    language = serializers.CharField()
    article = ReviewArticleSerializer()


class ReviewPairSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    score = serializers.FloatField()
    claim_a = ReviewClaimSerializer()
    claim_b = ReviewClaimSerializer()


class ReviewLabelSerializer(serializers.Serializer):
    annotator = serializers.CharField(help_text="'Annotator N', or the username with ?names=1.")
    values = serializers.JSONField()
    seconds = serializers.FloatField(allow_null=True)
    submitted_at = serializers.DateTimeField()


class ReviewItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    uncertainty = serializers.FloatField()
    aggregate = serializers.JSONField(allow_null=True)
    gold = serializers.JSONField(allow_null=True)
    is_gold = serializers.BooleanField()
    claim = ReviewClaimSerializer(allow_null=True)
    pair = ReviewPairSerializer(allow_null=True)
    labels = ReviewLabelSerializer(many=True)


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "item",
            "action",
            "version",
            "reviewer",
            "before",
            "after",
            "changed_fields",
            "overrides_majority",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_reviewer(self, obj: Decision) -> str | None:
        return obj.reviewer.get_username() if obj.reviewer is not None else None


class AdjudicationRequestSerializer(serializers.Serializer):
    labels = serializers.JSONField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


class ReopenRequestSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)
    version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    version = serializers.IntegerField(help_text="The item's current version.")
    status = serializers.CharField()
    gold = serializers.JSONField(allow_null=True)
    decision = DecisionSerializer(allow_null=True)


class TrailSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    gold = serializers.JSONField(allow_null=True)
    decisions = DecisionSerializer(many=True)


class GoldItemSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="id")
    kind = serializers.CharField()
    claim = serializers.IntegerField(source="claim_id", allow_null=True)
    pair = serializers.IntegerField(source="pair_id", allow_null=True)
    expected = serializers.JSONField(source="gold_expected", allow_null=True)
    is_gold = serializers.BooleanField()


class GoldItemRequestSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    expected = serializers.JSONField(allow_null=True, help_text="Expected labels; null unmarks.")


# --- payloads ---------------------------------------------------------------------------------


def label_rows(labels: list[Label], *, names: bool) -> list[dict[str, Any]]:
    return [
        {
            "annotator": lab.annotator.get_username() if names else f"Annotator {i}",
            "values": lab.values,
            "seconds": lab.seconds,
            "submitted_at": lab.created_at,
        }
        for i, lab in enumerate(labels, start=1)
    ]


def item_payload(item: Item, labels: list[Label], *, names: bool = False) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "status": item.status,
        "version": item.version,
        "uncertainty": item.uncertainty,
        "aggregate": item.aggregate,
        "gold": item.gold,
        "is_gold": item.is_gold,
        "claim": item.claim if item.kind == Item.Kind.CLAIM else None,
        "pair": item.pair if item.kind == Item.Kind.PAIR else None,
        "labels": label_rows(labels, names=names),
    }


def conflict_response(exc: Conflict) -> Response:
    body = {
        "detail": str(exc),
        "version": exc.item.version,
        "status": exc.item.status,
        "gold": exc.item.gold,
        "decision": DecisionSerializer(exc.latest).data if exc.latest is not None else None,
    }
    return Response(body, status=status.HTTP_409_CONFLICT)


def _names(request: Request) -> bool:
    return request.query_params.get("names") in {"1", "true"}


# --- views ------------------------------------------------------------------------------------


class ReviewPagination(CursorPagination):
    ordering = ("-uncertainty", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


REVIEW_FILTERS = {"kind", "status", "language", "outlet", "gold", "names"}


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=["claims", "pairs"]),
        OpenApiParameter("status", str, enum=["review", "settled"]),
        OpenApiParameter("language", str),
        OpenApiParameter("outlet", str),
        OpenApiParameter("gold", bool),
        OpenApiParameter("names", bool, description="Show annotators' usernames."),
    ]
)
class ReviewQueue(generics.ListAPIView):
    """Items needing adjudication, most uncertain first (majority ≠ Dawid–Skene first, then
    the lowest posterior)."""

    serializer_class = ReviewItemSerializer
    pagination_class = ReviewPagination

    def get_queryset(self) -> QuerySet[Item]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        params = self.request.query_params
        check_page_size(self.request, 200)
        unknown = [k for k in params if k not in REVIEW_FILTERS | {"cursor", "page_size"}]
        if unknown:
            raise ValidationError({k: "Unknown filter." for k in unknown[:20]})
        kind = {"claims": "claim", "claim": "claim", "pairs": "pair", "pair": "pair"}.get(
            params.get("kind", "claims")
        )
        if kind is None:
            raise ValidationError({"kind": "Must be claims or pairs."})
        state = params.get("status", "review")
        if state not in {"review", "settled"}:
            raise ValidationError({"status": "Must be review or settled."})
        gold = params.get("gold")
        if gold is not None and gold not in {"true", "false", "1", "0"}:
            raise ValidationError({"gold": "Must be true or false."})
        for name in ("language", "outlet"):
            if len(params.get(name, "")) > 200 or "\x00" in params.get(name, ""):
                raise ValidationError({name: "Invalid value."})
        return review_queryset(
            project,
            kind=kind,
            status=state,
            language=params.get("language") or None,
            outlet=params.get("outlet") or None,
            gold=None if gold is None else gold in {"true", "1"},
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        items = list(page or [])
        by_item: dict[int, list[Label]] = {item.pk: [] for item in items}
        for lab in (
            Label.objects.filter(item__in=items)
            .select_related("annotator")
            .order_by("item_id", "created_at", "id")
        ):
            by_item[lab.item_id].append(lab)
        names = _names(request)
        data = [
            ReviewItemSerializer(item_payload(item, by_item[item.pk], names=names)).data
            for item in items
        ]
        return self.get_paginated_response(data)


def reviewable_item(request: Request, **lookup: Any) -> Item:
    item = get_object_or_404(
        Item.objects.select_related(
            "project", "claim__article", "pair__claim_a__article", "pair__claim_b__article"
        ),
        **lookup,
    )
    project_for(request.user, item.project.slug, REVIEW_ROLES)
    return item


class _Adjudicate(APIView):
    lookup = "claim_id"

    @extend_schema(
        request=AdjudicationRequestSerializer,
        responses={201: DecisionSerializer, 400: None, 404: None, 409: ConflictSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        item = reviewable_item(request, **{self.lookup: pk})
        body = AdjudicationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            decision = item_decide(
                item_id=item.pk,
                reviewer=request.user,
                labels=body.validated_data["labels"],
                note=body.validated_data["note"],
                version=body.validated_data["version"],
            )
        except Conflict as exc:
            return conflict_response(exc)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class ClaimAdjudication(_Adjudicate):
    """Final labels for a claim: `{"labels", "note", "version"}`; 409 when someone else
    decided first. A note is required when the labels override the annotators' majority."""

    lookup = "claim_id"


class PairAdjudication(_Adjudicate):
    """Final labels for a claim pair (family C fields)."""

    lookup = "pair_id"


class ItemReopen(APIView):
    @extend_schema(
        request=ReopenRequestSerializer,
        responses={201: DecisionSerializer, 400: None, 404: None, 409: ConflictSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        item = reviewable_item(request, pk=pk)
        body = ReopenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            decision = item_reopen(
                item_id=item.pk,
                reviewer=request.user,
                note=body.validated_data["note"],
                version=body.validated_data["version"],
            )
        except Conflict as exc:
            return conflict_response(exc)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class ItemDecisions(APIView):
    """The item's adjudication trail, oldest first; `gold` equals the newest entry's
    `after`."""

    @extend_schema(responses=TrailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        item = reviewable_item(request, pk=pk)
        body = {
            "item": item.pk,
            "version": item.version,
            "status": item.status,
            "gold": item.gold,
            "decisions": item_trail(item),
        }
        return Response(TrailSerializer(body).data)


class ItemDetail(APIView):
    """One item for review: its unit, every annotator's labels, the aggregate suggestion."""

    @extend_schema(parameters=[OpenApiParameter("names", bool)], responses=ReviewItemSerializer)
    def get(self, request: Request, pk: int) -> Response:
        item = reviewable_item(request, pk=pk)
        payload = item_payload(item, item_labels(item), names=_names(request))
        return Response(ReviewItemSerializer(payload).data)


class GoldItems(generics.ListAPIView):
    """Gold items of the project (reviewers and admins see them; admins set them)."""

    serializer_class = GoldItemSerializer

    def get_queryset(self) -> QuerySet[Item]:
        project = project_for(self.request.user, self.kwargs["slug"], REVIEW_ROLES)
        check_page_size(self.request)
        unknown = [k for k in self.request.query_params if k not in {"cursor", "page_size"}]
        if unknown:
            raise ValidationError({k: "Unknown filter." for k in unknown[:20]})
        return Item.objects.filter(project=project, is_gold=True)

    @extend_schema(
        request=GoldItemRequestSerializer, responses={200: GoldItemSerializer, 400: None}
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug, ADMIN_ROLES)
        body = GoldItemRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = Item.objects.filter(project=project, pk=body.validated_data["item"]).first()
        if item is None:
            raise Http404("No such item in this project.")
        item = gold_item_set(item=item, expected=body.validated_data["expected"], user=request.user)
        return Response(GoldItemSerializer(item).data)


urlpatterns = [
    path("projects/<slug:slug>/review-queue/", ReviewQueue.as_view(), name="api-review-queue"),
    path("projects/<slug:slug>/gold-items/", GoldItems.as_view(), name="api-gold-items"),
    path(
        "claims/<int:pk>/adjudication/",
        ClaimAdjudication.as_view(),
        name="api-claim-adjudication",
    ),
    path("pairs/<int:pk>/adjudication/", PairAdjudication.as_view(), name="api-pair-adjudication"),
    path("items/<int:pk>/", ItemDetail.as_view(), name="api-review-item"),
    path("items/<int:pk>/decisions/", ItemDecisions.as_view(), name="api-item-decisions"),
    path("items/<int:pk>/reopen/", ItemReopen.as_view(), name="api-item-reopen"),
]
