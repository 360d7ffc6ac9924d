"""pairs_compute on a small hand-built corpus: pairs only across outlets, stored once,
vectors stored once, incremental runs pair only new claims, queue items for strong pairs."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.models import Claim, ClaimEmbedding, ClaimPair, EventCluster, Item
from annotations.services.pairs import LIKELIHOOD_FLOOR, pairing_settings, pairs_compute

from .helpers import CONVOY_EN_A, KHAN_EN_B, make_article, make_corpus

pytestmark = pytest.mark.django_db


def pair_rows(project):
    return set(ClaimPair.objects.filter(project=project).values_list("claim_a_id", "claim_b_id"))


def test_pairs_cross_outlets_and_are_stored_once(project):
    corpus = make_corpus(project)
    eligible = {c.pk for key in ("a1", "a2", "b", "c") for c in corpus[key]}
    first = pairs_compute(project=project)
    assert first["mode"] == "full"
    assert first["eligible_claims"] == first["embedded"] == len(eligible) == 8
    assert first["pairs_added"] == first["pairs_total"] > 0

    pairs = list(
        ClaimPair.objects.filter(project=project).select_related(
            "claim_a__article", "claim_b__article"
        )
    )
    for p in pairs:
        assert p.claim_a_id < p.claim_b_id
        assert p.claim_a.article_id != p.claim_b.article_id
        assert p.claim_a.article.outlet_id != p.claim_b.article.outlet_id
        assert {p.claim_a_id, p.claim_b_id} <= eligible  # caption and unlikely units never
        assert 0.0 <= p.score <= 1.0 and p.method in {"tfidf", "encoder", "both"}
        assert "encoder" in p.features
    # English <-> Arabic pairs are proposed too.
    assert any({p.claim_a.language, p.claim_b.language} == {"en", "ar"} for p in pairs)

    # Vectors: one per eligible claim, none for the others.
    stored = set(ClaimEmbedding.objects.values_list("claim_id", flat=True))
    assert stored == eligible
    assert all(e.paired_at is not None for e in ClaimEmbedding.objects.all())

    # Queue items exactly for the pairs at or above the project's threshold.
    threshold = pairing_settings(project).threshold
    strong = set(
        ClaimPair.objects.filter(project=project, score__gte=threshold).values_list("pk", flat=True)
    )
    assert strong and first["items_added"] == len(strong)
    assert set(Item.objects.filter(kind="pair").values_list("pair_id", flat=True)) == strong

    # Re-running computes no vector and adds no pair, item or cluster.
    before = (pair_rows(project), Item.objects.count(), EventCluster.objects.count())
    second = pairs_compute(project=project)
    assert second["mode"] == "incremental"
    assert second["embedded"] == second["pairs_added"] == second["items_added"] == 0
    assert ClaimEmbedding.objects.count() == 8
    assert (pair_rows(project), Item.objects.count(), EventCluster.objects.count()) == before

    # A full run re-ranks everything but still adds nothing.
    full = pairs_compute(project=project, incremental=False)
    assert full["mode"] == "full" and full["embedded"] == 0 and full["pairs_added"] == 0
    assert pair_rows(project) == before[0]


def test_incremental_run_pairs_only_the_new_article(project):
    make_corpus(project)
    pairs_compute(project=project)
    old_pairs = pair_rows(project)
    vectors_before = dict(ClaimEmbedding.objects.values_list("claim_id", "vector"))

    new = make_article(
        project,
        "Zeta Daily",
        [KHAN_EN_B.replace("Wednesday", "Wednesday evening"), CONVOY_EN_A + " Reporters saw it."],
    )
    new_ids = {c.pk for c in new}
    summary = pairs_compute(project=project)
    assert summary["mode"] == "incremental"
    assert summary["embedded"] == 2 and summary["paired_claims"] == 2
    added = pair_rows(project) - old_pairs
    assert summary["pairs_added"] == len(added) > 0
    assert all(a in new_ids or b in new_ids for a, b in added)
    assert old_pairs <= pair_rows(project)
    # Old vectors were not recomputed (bytes unchanged), new ones stored once.
    after = dict(ClaimEmbedding.objects.values_list("claim_id", "vector"))
    assert all(bytes(after[k]) == bytes(v) for k, v in vectors_before.items())
    assert set(after) == set(vectors_before) | new_ids


def test_clusters_and_pair_links_are_consistent(project):
    make_corpus(project)
    summary = pairs_compute(project=project)
    clusters = list(EventCluster.objects.filter(project=project))
    assert summary["clusters"] == len(clusters) > 0
    for cluster in clusters:
        members = list(cluster.claims.values_list("pk", flat=True))
        assert len(members) >= 2
        assert cluster.key == f"e{min(members)}" and not cluster.manual
        assert cluster.title
    of = dict(Claim.objects.filter(cluster__isnull=False).values_list("pk", "cluster_id"))
    assert summary["clustered_claims"] == len(of)
    for p in ClaimPair.objects.filter(project=project):
        same = of.get(p.claim_a_id) is not None and of.get(p.claim_a_id) == of.get(p.claim_b_id)
        assert p.cluster_id == (of[p.claim_a_id] if same else None)


def test_pair_items_are_leasable_through_the_queue_api(project, annotator):
    make_corpus(project)
    pairs_compute(project=project)
    client = APIClient()
    client.force_authenticate(annotator)
    response = client.post(
        f"/api/v1/projects/{project.slug}/leases/", {"kind": "pair"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    pair = ClaimPair.objects.get(pk=body["pair"]["id"])
    assert pair.score >= pairing_settings(project).threshold
    assert {body["pair"]["a"]["id"], body["pair"]["b"]["id"]} == {pair.claim_a_id, pair.claim_b_id}


def test_pair_command_prints_json_summary(project):
    make_corpus(project)
    out = StringIO()
    call_command("pair", project.slug, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["project"] == project.slug
    assert summary["pairs_total"] == ClaimPair.objects.filter(project=project).count() > 0
    assert summary["clusters"] == EventCluster.objects.filter(project=project).count()
    for key in ("mode", "eligible_claims", "embedded", "pairs_added", "items_added", "seconds"):
        assert key in summary


def test_eligibility_floor_is_documented_value(project):
    # The floor the README documents; a caption above it is still not paired (kind rule).
    assert LIKELIHOOD_FLOOR == 0.3
