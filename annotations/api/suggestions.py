"""`GET /api/v1/claims/{id}/suggestions/`: the label suggestion for one claim.

Who may ask:
- reviewers and admins of the claim's project: any claim of it;
- annotators: only claims they currently hold a lease on or have labelled, and only when the
  project shows them suggestions (suggestions on, or "half" with this annotator in the
  suggested arm), so the A/B control arm cannot fetch what its form does not show. Otherwise
  403 with the reason;
- anyone else (outsiders, a claim id that does not exist): 404.

The body is rules plus, once trained, the project's model; neither reads any annotator's
labels for this claim, so it is blind by construction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Assignment, Claim, Item, Membership, Project
from ..permissions import ALL_ROLES, ANNOTATE_ROLES, project_for, role_in
from ..services.suggestions import claim_suggestion


class SuggestionSerializer(serializers.Serializer):
    labels = serializers.DictField(
        child=serializers.JSONField(), help_text="Label payload keyed by schema field."
    )
    confidence = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1), help_text="Per field, 0..1."
    )
    source = serializers.ChoiceField(choices=["rules", "model"])


def annotator_may_see(user: Any, claim: Claim, project: Project) -> None:
    """Raise PermissionDenied unless this annotator holds or labelled the claim and is shown
    suggestions in this project."""
    held = Assignment.objects.filter(
        item__claim=claim,
        item__kind=Item.Kind.CLAIM,
        annotator=user,
        state__in=[Assignment.State.LEASED, Assignment.State.SUBMITTED],
    ).exists()
    if not held:
        raise PermissionDenied(
            "Annotators see suggestions only for claims they hold a lease on or have labelled."
        )
    if project.suggestions == Project.Suggestions.OFF:
        raise PermissionDenied("Suggestions are off in this project.")
    if project.suggestions == Project.Suggestions.HALF:
        arm = (
            Membership.objects.filter(project=project, user=user)
            .values_list("suggestions_arm", flat=True)
            .first()
        )
        if not arm:
            raise PermissionDenied("Suggestions are not shown to you in this project.")


class ClaimSuggestions(APIView):
    """The suggested labels for a claim: the rule suggestion stored at ingest, with the
    verifiability replaced by the project's newest trained model when one exists."""

    @extend_schema(responses={200: SuggestionSerializer, 403: None, 404: None})
    def get(self, request: Request, pk: int) -> Response:
        claim = get_object_or_404(Claim.objects.select_related("project"), pk=pk)
        project = project_for(request.user, claim.project.slug, ALL_ROLES)
        if role_in(request.user, project) in ANNOTATE_ROLES:
            annotator_may_see(request.user, claim, project)
        body = claim_suggestion(claim=claim, project=project)
        return Response(SuggestionSerializer(body).data)


urlpatterns = [
    path("claims/<int:pk>/suggestions/", ClaimSuggestions.as_view(), name="api-claim-suggestions"),
]
