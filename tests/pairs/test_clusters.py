"""Event clusters from stored pairs (no encoder): stable keys, manual merge/split respected,
new claims join a manual cluster only through strong pairs."""

from __future__ import annotations

import pytest

from annotations.models import Claim, ClaimPair, EventCluster
from annotations.models.pairs import ClusterEdit
from annotations.services.pairs import (
    ClusterEditError,
    cluster_split,
    clusters_merge,
    clusters_refresh,
)

from .helpers import make_article

pytestmark = pytest.mark.django_db


def claims(project, n, outlet):
    return make_article(project, outlet, [f"Sentence {outlet} {k}." for k in range(n)])


def link(project, a, b, score=0.9):
    lo, hi = sorted([a.pk, b.pk])
    ClaimPair.objects.create(
        project=project, claim_a_id=lo, claim_b_id=hi, method="both", score=score
    )


def membership(project):
    return dict(Claim.objects.filter(project=project, cluster__isnull=False).values_list(
        "pk", "cluster__key"
    ))  # fmt: skip


def test_clusters_keys_stable_and_manual_edits_respected(project, admin):
    x = claims(project, 4, "X")
    y = claims(project, 4, "Y")
    link(project, x[0], y[0])
    link(project, x[1], y[1])
    link(project, x[2], y[2], 0.2)  # weak: no cluster
    clusters_refresh(project=project)
    assert membership(project) == {
        x[0].pk: f"e{x[0].pk}", y[0].pk: f"e{x[0].pk}",
        x[1].pk: f"e{x[1].pk}", y[1].pk: f"e{x[1].pk}",
    }  # fmt: skip
    first = EventCluster.objects.get(key=f"e{x[0].pk}")

    # A later claim joining keeps the key (and the row).
    z = claims(project, 3, "Z")
    link(project, x[0], z[0])
    link(project, y[0], z[0])
    clusters_refresh(project=project, new_claims=[c.pk for c in z])
    assert EventCluster.objects.get(key=f"e{x[0].pk}").pk == first.pk
    assert membership(project)[z[0].pk] == f"e{x[0].pk}"

    # Merge the two events: one manual cluster; a recompute does not undo it.
    second = EventCluster.objects.get(key=f"e{x[1].pk}")
    merged = clusters_merge(project=project, cluster_ids=[first.pk, second.pk], user=admin)
    assert merged.pk == first.pk and merged.manual  # the larger keeps its key
    assert not EventCluster.objects.filter(pk=second.pk).exists()
    after_merge = membership(project)
    assert set(after_merge.values()) == {merged.key}
    clusters_refresh(project=project)
    assert membership(project) == after_merge

    # Split y[1] and x[1] out: a new manual cluster; a recompute keeps both parts.
    new = cluster_split(cluster=merged, claim_ids=[x[1].pk, y[1].pk], user=admin)
    assert new.manual and new.key == f"s{x[1].pk}"
    after_split = membership(project)
    assert after_split[x[1].pk] == after_split[y[1].pk] == new.key
    clusters_refresh(project=project)
    assert membership(project) == after_split
    # Even though x[1]~y[1] is strong and x[0]~x[1] is now strong too, the split stands.
    link(project, x[0], x[1], 0.95)
    clusters_refresh(project=project)
    assert membership(project) == after_split

    # A new claim strongly paired into a manual cluster joins it; a weak one does not.
    w = claims(project, 2, "W")
    link(project, w[0], x[1], 0.9)
    link(project, w[0], y[1], 0.8)
    link(project, w[1], x[0], 0.3)
    clusters_refresh(project=project, new_claims=[c.pk for c in w])
    now = membership(project)
    assert now[w[0].pk] == new.key
    assert w[1].pk not in now
    assert {k: v for k, v in now.items() if k != w[0].pk} == after_split

    # Old claims are not pulled into manual clusters by later pairs.
    link(project, x[1], x[3], 0.99)
    clusters_refresh(project=project)
    assert x[3].pk not in membership(project)

    edits = list(ClusterEdit.objects.filter(project=project).order_by("created_at"))
    assert [e.action for e in edits] == ["merge", "split"]
    assert edits[1].claims == sorted([x[1].pk, y[1].pk]) and edits[1].user == admin


def test_merge_and_split_refuse_bad_input(project, other_project, admin):
    x = claims(project, 2, "X")
    y = claims(project, 2, "Y")
    link(project, x[0], y[0])
    link(project, x[1], y[1])
    clusters_refresh(project=project)
    a, _b = EventCluster.objects.filter(project=project).order_by("pk")
    with pytest.raises(ClusterEditError):
        clusters_merge(project=project, cluster_ids=[a.pk], user=admin)
    foreign = EventCluster.objects.create(project=other_project, key="e1")
    with pytest.raises(ClusterEditError):
        clusters_merge(project=project, cluster_ids=[a.pk, foreign.pk], user=admin)
    with pytest.raises(ClusterEditError):
        cluster_split(cluster=a, claim_ids=[x[1].pk], user=admin)  # not a member
    with pytest.raises(ClusterEditError):
        cluster_split(cluster=a, claim_ids=[x[0].pk, y[0].pk], user=admin)  # all members
    assert not EventCluster.objects.filter(manual=True).exists()
    assert not ClusterEdit.objects.exists()
