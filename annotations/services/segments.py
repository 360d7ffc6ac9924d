"""Admins' fixes of sentence boundaries before annotation starts: split a claim, merge a claim
with the next one. Offsets stay exact (``document.text[c.start:c.end] == c.text``), positions
stay dense, every fix is logged (SegmentFix), and queue items follow the claims.

A fix is refused once a claim's item has a label or an active lease: the unit an annotator saw
must not change under them. The item rows are locked while checking, so a lease cannot slip in.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from ..ingest.likelihood import claim_likelihood
from ..models import Assignment, Claim, Item, Label, SegmentFix
from .imports import suggestion_for, suggestion_registry
from .items import items_create_for_claims


class SegmentFixError(ValueError):
    """The fix cannot be made (bad offset, labelled item, no next claim)."""


def _lock_and_check(claims: list[Claim]) -> None:
    items = list(
        Item.objects.select_for_update().filter(claim__in=[c.pk for c in claims]).order_by("pk")
    )
    ids = [i.pk for i in items]
    if any(i.n_done or i.n_leased for i in items):
        raise SegmentFixError("Annotation has started on this claim; its boundaries are fixed.")
    if Label.objects.filter(item__in=ids).exists():
        raise SegmentFixError("This claim already has labels; its boundaries are fixed.")
    if Assignment.objects.filter(item__in=ids, state=Assignment.State.LEASED).exists():
        raise SegmentFixError("This claim is leased to an annotator; try again later.")


def _shift_positions(article_id: int, after: int, delta: int) -> None:
    """Move claims with position > after by delta without tripping the unique constraint."""
    rows = Claim.objects.filter(article_id=article_id, position__gt=after)
    top = Claim.objects.filter(article_id=article_id).order_by("-position").first()
    if top is None:
        return
    lift = top.position + 10
    rows.update(position=F("position") + lift)
    Claim.objects.filter(article_id=article_id, position__gt=after + lift).update(
        position=F("position") - lift + delta
    )


def _refresh(claim: Claim, text: str, registry: dict[str, str], suggest: Any) -> None:
    claim.text = text[claim.start : claim.end]
    claim.claim_likelihood = claim_likelihood(claim.text, claim.unit_kind, claim.unit_defect)
    if claim.suggestion is not None or suggest is not None:
        claim.suggestion = suggestion_for(suggest, claim.text, claim.language, registry)


def _suggest_fn(claim: Claim) -> Any:
    from .imports import _suggester

    return _suggester() if claim.suggestion is not None else None


def claim_split(*, claim: Claim, offset: int, user: Any) -> tuple[Claim, Claim]:
    """Split ``claim`` at ``offset`` (a position in the document text, strictly inside the
    claim); whitespace around the split point goes to neither part. Returns both parts."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update().select_related("article__document").get(pk=claim.pk)
        )
        text = claim.article.document.text
        if not claim.start < offset < claim.end:
            raise SegmentFixError("The split point must lie inside the claim.")
        first_end = offset
        while first_end > claim.start and text[first_end - 1].isspace():
            first_end -= 1
        second_start = offset
        while second_start < claim.end and text[second_start].isspace():
            second_start += 1
        if first_end <= claim.start or second_start >= claim.end:
            raise SegmentFixError("Both parts of a split must hold text.")
        _lock_and_check([claim])
        _shift_positions(claim.article_id, claim.position, 1)
        second = Claim(
            project_id=claim.project_id,
            article_id=claim.article_id,
            position=claim.position + 1,
            start=second_start,
            end=claim.end,
            language=claim.language,
            unit_kind=claim.unit_kind,
            unit_defect=claim.unit_defect,
        )
        claim.end = first_end
        suggest = _suggest_fn(claim)
        registry = suggestion_registry(claim.project) if suggest else {}
        _refresh(claim, text, registry, suggest)
        second.suggestion = claim.suggestion
        _refresh(second, text, registry, suggest)
        claim.save(update_fields=["end", "text", "claim_likelihood", "suggestion"])
        second.save()
        items_create_for_claims(project=claim.project, claims=[second])
        SegmentFix.objects.create(
            article_id=claim.article_id, action=SegmentFix.Action.SPLIT, offset=offset, user=user
        )
    return claim, second


def claim_merge(*, claim: Claim, user: Any) -> Claim:
    """Merge ``claim`` with the next claim of its article; the merged claim keeps this claim's
    id, kind and item, and the next claim (with its untouched item) is removed."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update().select_related("article__document").get(pk=claim.pk)
        )
        nxt = (
            Claim.objects.select_for_update()
            .filter(article_id=claim.article_id, position__gt=claim.position)
            .order_by("position")
            .first()
        )
        if nxt is None:
            raise SegmentFixError("This is the last claim of its article; nothing to merge.")
        _lock_and_check([claim, nxt])
        text = claim.article.document.text
        claim.end = nxt.end
        if claim.unit_defect == Claim.UnitDefect.GLUED and nxt.unit_defect == "none":
            claim.unit_defect = Claim.UnitDefect.NONE
        suggest = _suggest_fn(claim)
        registry = suggestion_registry(claim.project) if suggest else {}
        _refresh(claim, text, registry, suggest)
        position = nxt.position
        nxt.delete()
        _shift_positions(claim.article_id, position, -1)
        claim.save(update_fields=["end", "text", "claim_likelihood", "suggestion", "unit_defect"])
        SegmentFix.objects.create(
            article_id=claim.article_id,
            action=SegmentFix.Action.MERGE,
            offset=claim.start,
            user=user,
        )
    return claim
