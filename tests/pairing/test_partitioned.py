"""Partitioned retrieval (k-means cells): equals the full scan when every cell is visited,
lists independent of the batch of queries, never within an outlet group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from annotations.pairing import partitioned
from annotations.pairing.features import PreparedPool, group_key, prepare_pool
from annotations.pairing.probe import load_probe
from annotations.pairing.retrieval import FLAG_COMBINED, retrieve_pairs


@pytest.fixture(scope="module")
def pool() -> PreparedPool:
    return prepare_pool(load_probe().pool)


def by_text(pool: PreparedPool, i: np.ndarray, j: np.ndarray, flags: np.ndarray) -> set[Any]:
    """Pairs as (query, candidate's text, proposed by the combined score).

    A text repeated in the pool ("Related Videos", a headline repeated in its article)
    has equal scores up to float rounding, and which copy makes a cut is arbitrary.
    """
    text = np.unique([c.text for c in pool.claims], return_inverse=True)[1]
    return pair_set(i, text[j], flags & FLAG_COMBINED)


def pair_set(i: np.ndarray, j: np.ndarray, flags: np.ndarray) -> set[Any]:
    return set(zip(i.tolist(), j.tolist(), flags.tolist(), strict=True))


def test_visiting_every_cell_equals_the_full_scan(
    pool: PreparedPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitioned, "PROBES", 10_000)
    queries = np.arange(pool.n)
    full = retrieve_pairs(pool, queries, 30, 10, mode="compressed")
    cells = retrieve_pairs(pool, queries, 30, 10, mode="partitioned")
    got = by_text(pool, cells[0], cells[1], cells[4])
    want = by_text(pool, full[0], full[1], full[4])
    assert len(got ^ want) <= 0.001 * len(want)


def test_a_query_gets_the_same_candidates_whatever_it_is_searched_with(
    pool: PreparedPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitioned, "PROBES", 4)
    monkeypatch.setattr(partitioned, "QUERY_CHUNK", 64)
    everything = retrieve_pairs(pool, np.arange(pool.n), 30, 10, mode="partitioned")
    some = np.arange(3, pool.n, 7)
    alone = retrieve_pairs(pool, some, 30, 10, mode="partitioned")
    keep = np.isin(everything[0], some)
    assert by_text(pool, alone[0], alone[1], alone[4]) == by_text(
        pool, everything[0][keep], everything[1][keep], everything[4][keep]
    )


def test_never_within_an_outlet_group(pool: PreparedPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitioned, "PROBES", 3)
    i, j, _, _, _ = retrieve_pairs(pool, np.arange(pool.n), 30, 10, mode="partitioned")
    assert len(i)
    keys = [group_key(c) for c in pool.claims]
    assert all(keys[a] != keys[b] for a, b in zip(i.tolist(), j.tolist(), strict=True))


def test_kmeans_is_deterministic_and_covers_every_claim(pool: PreparedPool) -> None:
    rng = np.random.default_rng(0)
    vectors = partitioned._unit(rng.normal(size=(500, 16)).astype(np.float32))
    np.testing.assert_array_equal(partitioned.kmeans(vectors, 20), partitioned.kmeans(vectors, 20))
    part = partitioned.partition(pool.emb, pool.ctx_emb)
    members = np.sort(np.concatenate(part.members))
    np.testing.assert_array_equal(members, np.arange(pool.n))
    assert len(part.centroids) == round(np.sqrt(pool.n))
