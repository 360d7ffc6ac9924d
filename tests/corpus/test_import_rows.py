"""The claim and item rows an import COPYs equal what the ORM paths would write."""

from __future__ import annotations

import pytest

from annotations.ingest import segment_text
from annotations.models import Claim, Item, Project
from annotations.services.imports import import_file
from annotations.services.items import items_create_for_claims

from .helpers import SAMPLE

pytestmark = pytest.mark.django_db

ITEM_FIELDS = ("claim_id", "kind", "k", "n_done", "n_leased", "status", "order_key", "is_gold")


@pytest.mark.parametrize("order, rule", [("random", "likely"), ("article", "all")])
def test_imported_items_equal_items_create_for_claims(project, order, rule):
    Project.objects.filter(pk=project.pk).update(
        queue_order=order, queue_filter=rule, likelihood_threshold=0.45, overlap=3
    )
    project.refresh_from_db()
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    items = Item.objects.filter(project=project)
    imported = sorted(items.values_list(*ITEM_FIELDS))
    statuses = {row[5] for row in imported}
    assert len(imported) == Claim.objects.filter(project=project).count() > 400
    assert statuses == ({"open", "excluded"} if rule == "likely" else {"open"})
    items.delete()
    items_create_for_claims(project=project, claims=Claim.objects.filter(project=project))
    assert sorted(items.values_list(*ITEM_FIELDS)) == imported


def test_imported_claims_are_the_pipeline_units(project):
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    text = SAMPLE.read_bytes().decode("utf-8-sig")
    expected = [
        (u.start, u.end, text[u.start : u.end], u.language, u.unit_kind, u.unit_defect,
         u.claim_likelihood, None)
        for a in segment_text(text)
        for u in a.sentences
    ]  # fmt: skip
    stored = list(
        Claim.objects.filter(project=project)
        .order_by("article__position", "position")
        .values_list(
            "start", "end", "text", "language", "unit_kind", "unit_defect",
            "claim_likelihood", "suggestion",
        )
    )  # fmt: skip
    assert stored == expected
