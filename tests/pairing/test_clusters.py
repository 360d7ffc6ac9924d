"""Event clusters: chaining safeguard, stable keys, merge and split helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.pairing.candidates import CandidatePair
from annotations.pairing.clusters import (
    build_clusters,
    memberships,
    merge_clusters,
    split_cluster,
)


def pair(a: int, b: int, score: float) -> CandidatePair:
    return CandidatePair(a, b, score, "both", {})


def test_a_clique_becomes_one_cluster_keyed_by_its_smallest_id() -> None:
    pairs = [pair(a, b, 0.9) for a in (4, 7, 9) for b in (4, 7, 9) if a < b]
    (cluster,) = build_clusters(pairs)
    assert cluster.key == 4 and cluster.members == (4, 7, 9)
    assert cluster.mean_score == pytest.approx(0.9)


def test_a_chain_of_strong_pairs_with_weak_cross_pairs_does_not_become_one_event() -> None:
    chain = [pair(i, i + 1, 0.9) for i in range(1, 12)]
    cross = [pair(i, i + 2, 0.1) for i in range(1, 11)]
    clusters = build_clusters(chain + cross)
    assert max(len(c.members) for c in clusters) <= 3
    # single linkage would have made one cluster of 12
    assert len(build_clusters(chain)) >= 1


def test_a_long_pure_chain_stops_growing() -> None:
    clusters = build_clusters([pair(i, i + 1, 0.95) for i in range(1, 40)])
    assert max(len(c.members) for c in clusters) < 10


def test_pairs_below_threshold_do_not_link() -> None:
    assert build_clusters([pair(1, 2, 0.3)], threshold=0.6) == []


def test_string_ids_and_duplicate_pairs() -> None:
    clusters = build_clusters(
        [CandidatePair("b", "a", 0.7, "tfidf"), CandidatePair("a", "b", 0.9, "encoder")]
    )
    assert clusters[0].key == "a" and clusters[0].mean_score == pytest.approx(0.9)


def test_keys_are_stable_when_larger_ids_join() -> None:
    before = memberships(build_clusters([pair(3, 5, 0.9)]))
    after = memberships(build_clusters([pair(3, 5, 0.9), pair(5, 8, 0.9), pair(3, 8, 0.9)]))
    assert before[3] == after[3] == after[8] == 3


def test_merge_clusters() -> None:
    members = {1: 1, 2: 1, 5: 5, 6: 5, 9: 9, 10: 9}
    merged = merge_clusters(members, [5, 9])
    assert merged == {1: 1, 2: 1, 5: 5, 6: 5, 9: 5, 10: 5}
    assert members == {1: 1, 2: 1, 5: 5, 6: 5, 9: 9, 10: 9}  # input untouched
    # a member id names its cluster; an unknown id is a lone claim pulled in
    assert merge_clusters(members, [2, 0]) == {0: 0, 1: 0, 2: 0, 5: 5, 6: 5, 9: 9, 10: 9}


def test_split_cluster() -> None:
    members = {1: 1, 2: 1, 3: 1, 4: 1, 7: 7, 8: 7}
    assert split_cluster(members, 1, [[3, 4]]) == {1: 1, 2: 1, 3: 3, 4: 3, 7: 7, 8: 7}
    # a part left with one claim leaves the clustering
    assert split_cluster(members, 1, [[2, 3, 4]]) == {2: 2, 3: 2, 4: 2, 7: 7, 8: 7}
    with pytest.raises(ValueError):
        split_cluster(members, 2, [[1]])
    with pytest.raises(ValueError):
        split_cluster(members, 1, [[7]])
    with pytest.raises(ValueError):
        split_cluster(members, 1, [[2], [2, 3]])


def test_split_then_merge_restores_the_cluster() -> None:
    members = {1: 1, 2: 1, 3: 1, 4: 1}
    split = split_cluster(members, 1, [[3, 4]])
    assert merge_clusters(split, [1, 3]) == members


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.floats(0, 1)), max_size=120))
def test_clusters_are_disjoint_and_keyed_by_minimum(edges: list[tuple[int, int, float]]) -> None:
    clusters = build_clusters([pair(a, b, s) for a, b, s in edges if a != b])
    seen: set[int] = set()
    for c in clusters:
        assert len(c.members) >= 2
        assert c.key == min(c.members)
        assert not seen & set(c.members)
        seen |= set(c.members)
