"""Train/dev/test splits, grouped so that no event crosses splits.

Grouping: a claim that belongs to an event cluster is grouped with every other claim of that
cluster; a claim without a cluster is grouped with the other unclustered claims of its article
(sentences of one article share context and wording, so keeping them together also prevents
near-duplicate leakage). Groups are never split.

Stratification: each group falls in one stratum, the (language, outlet) pair that most of its
claims have. Within a stratum, groups are taken in a pseudo-random order fixed by the project's
seed, and each goes to the split furthest below its target share of the stratum's claims.

The assignment is computed over all claims of the project, labelled or not, so a claim's split
is the same in every export kind and `include` choice, and it does not move as labelling
progresses. It is deterministic: the same rows and seed give the same split. New claims (a new
import or new clusters) can move groups between versions; the changelog of a version reports
records whose split changed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count

from ..models import Claim, Project

SPLITS = ("train", "dev", "test")
DEFAULT_SHARES = (0.8, 0.1, 0.1)

GroupKey = tuple[str, int]


def group_key(cluster_id: int | None, article_id: int) -> GroupKey:
    """The split group of a claim: its event cluster, else its article."""
    return ("cluster", cluster_id) if cluster_id is not None else ("article", article_id)


def _rank(seed: int, key: GroupKey) -> bytes:
    return hashlib.blake2b(f"{seed}:{key[0]}:{key[1]}".encode(), digest_size=8).digest()


@dataclass
class SplitAssignment:
    """Which split each group is in, with the claim counts behind it."""

    by_group: dict[GroupKey, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))

    def split_of(self, cluster_id: int | None, article_id: int) -> str | None:
        return self.by_group.get(group_key(cluster_id, article_id))


def assign_groups(
    rows: Iterable[tuple[GroupKey, str, str, int]],
    *,
    seed: int,
    shares: tuple[float, float, float] = DEFAULT_SHARES,
) -> SplitAssignment:
    """Assign groups to splits. `rows` are (group key, language, outlet, number of claims);
    a group may appear in several rows (one per language/outlet it contains).

    Pure function: no database, so it can be tested on its own."""
    if len(shares) != len(SPLITS) or abs(sum(shares) - 1.0) > 1e-9 or min(shares) < 0:
        raise ValueError("shares must be three non-negative numbers summing to 1")
    sizes: dict[GroupKey, int] = defaultdict(int)
    strata_votes: dict[GroupKey, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for key, language, outlet, count in rows:
        sizes[key] += count
        strata_votes[key][(language or "", outlet or "")] += count
    strata: dict[tuple[str, str], list[GroupKey]] = defaultdict(list)
    for key, votes in strata_votes.items():
        # The stratum most of the group's claims belong to; ties go to the smallest name.
        stratum = min(votes, key=lambda s: (-votes[s], s))
        strata[stratum].append(key)
    result = SplitAssignment()
    for stratum in sorted(strata):
        groups = sorted(strata[stratum], key=lambda k: (_rank(seed, k), k))
        total = sum(sizes[k] for k in groups)
        filled = [0, 0, 0]
        for key in groups:
            # The split with the largest deficit against its target; ties go to train first.
            deficits = [shares[i] * total - filled[i] for i in range(3)]
            best = max(range(3), key=lambda i: (deficits[i], -i))
            filled[best] += sizes[key]
            result.by_group[key] = SPLITS[best]
            result.sizes[SPLITS[best]] += sizes[key]
    return result


def split_assign(*, project: Project) -> SplitAssignment:
    """The split of every claim group of the project (one aggregate query)."""
    rows = (
        Claim.objects.filter(project=project)
        .values_list("cluster_id", "article_id", "language", "article__outlet_name")
        .annotate(n=Count("id"))
        .order_by()
    )
    return assign_groups(
        (
            (group_key(cluster_id, article_id), language, outlet, n)
            for cluster_id, article_id, language, outlet, n in rows.iterator(chunk_size=5000)
        ),
        seed=project.seed,
    )
