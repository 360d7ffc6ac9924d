"""Splits: grouped by event (or article), stratified, deterministic."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.models import Claim, EventCluster, Item
from annotations.services.exports import export_stream
from annotations.services.splits import SPLITS, assign_groups, group_key, split_assign


def _rows(n_groups: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    rows = []
    for g in range(n_groups):
        key = ("cluster", g) if g % 3 else ("article", g)
        for _ in range(rng.randint(1, 3)):
            rows.append(
                (key, rng.choice(["en", "ar"]), rng.choice(["SANA", "BBC", ""]), rng.randint(1, 9))
            )
    return rows


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 300), st.integers(0, 10_000), st.integers(0, 5))
def test_every_group_is_in_exactly_one_split_and_sizes_add_up(n_groups, data_seed, seed):
    rows = _rows(n_groups, data_seed)
    result = assign_groups(rows, seed=seed)
    assert set(result.by_group) == {row[0] for row in rows}
    assert set(result.by_group.values()) <= set(SPLITS)
    assert sum(result.sizes.values()) == sum(row[3] for row in rows)


def test_same_data_same_split_and_order_does_not_matter():
    rows = _rows(200, 1)
    first = assign_groups(rows, seed=7)
    shuffled = list(rows)
    random.Random(3).shuffle(shuffled)
    assert assign_groups(shuffled, seed=7).by_group == first.by_group
    assert assign_groups(rows, seed=8).by_group != first.by_group


def test_stratified_shares_are_close_to_target():
    # 600 single-claim groups in two strata: each stratum splits about 80/10/10.
    rows = [(("article", i), "en" if i % 2 else "ar", "X", 1) for i in range(600)]
    result = assign_groups(rows, seed=0)
    for language in ("en", "ar"):
        counts = {s: 0 for s in SPLITS}
        for (_, i), split in result.by_group.items():
            if ("en" if i % 2 else "ar") == language:
                counts[split] += 1
        assert counts == {"train": 240, "dev": 30, "test": 30}


def test_no_event_crosses_splits_in_an_export(world):
    project = world.project
    # Many clusters over the existing articles so that all three splits are used.
    articles = [world.claims[0].article, world.claims[4].article]
    for n in range(60):
        cluster = EventCluster.objects.create(project=project, key=f"ev-{n}")
        for side, article in enumerate(articles):
            claim = Claim.objects.create(
                project=project,
                article=article,
                position=100 + 2 * n + side,
                start=0,
                end=5,
                text=f"unit {n}",
                language=article.language,
                cluster=cluster,
            )
            Item.objects.create(project=project, kind="claim", claim=claim)
    assignment = split_assign(project=project)
    by_cluster: dict[str, set[str]] = {}
    for claim in Claim.objects.filter(project=project):
        split = assignment.split_of(claim.cluster_id, claim.article_id)
        assert split in SPLITS
        if claim.cluster_id:
            by_cluster.setdefault(claim.cluster_id, set()).add(split)
    assert all(len(splits) == 1 for splits in by_cluster.values())
    assert {s for splits in by_cluster.values() for s in splits} == set(SPLITS)
    # Records carry the same split as the assignment.
    for line in b"".join(export_stream(project=project)).decode().splitlines():
        record = json.loads(line)
        claim = Claim.objects.get(pk=record["claim_id"])
        assert record["split"] == assignment.by_group[group_key(claim.cluster_id, claim.article_id)]


def test_unclustered_claims_stay_with_their_article(world):
    assignment = split_assign(project=world.project)
    headline, formula = world.claims[0], world.claims[2]
    assert headline.cluster_id is None and formula.cluster_id is None
    assert assignment.split_of(None, headline.article_id) == assignment.split_of(
        None, formula.article_id
    )


def test_equal_ranks_fall_back_to_the_group_order(monkeypatch):
    from annotations.services import splits

    keys = [("cluster", 3), ("article", 9), ("article", 2), ("cluster", 1)]
    assert splits._ranked(4, keys) == sorted(keys, key=lambda k: (splits._rank(4, k), k))
    monkeypatch.setattr(splits, "_rank", lambda seed, key: b"\x00" * 8)
    assert splits._ranked(4, keys) == sorted(keys)
