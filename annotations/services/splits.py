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
from typing import Any

from django.core.cache import cache
from django.db import connection

from ..models import Article, Claim, Project, SplitInputChange

SPLITS = ("train", "dev", "test")
DEFAULT_SHARES = (0.8, 0.1, 0.1)

GroupKey = tuple[str, int]


def group_key(cluster_id: int | None, article_id: int) -> GroupKey:
    """The split group of a claim: its event cluster, else its article."""
    return ("cluster", cluster_id) if cluster_id is not None else ("article", article_id)


def _rank(seed: int, key: GroupKey, _blake2b: Any = hashlib.blake2b) -> bytes:
    return _blake2b(f"{seed}:{key[0]}:{key[1]}".encode(), digest_size=8).digest()


def _ranked(seed: int, keys: list[GroupKey]) -> list[GroupKey]:
    """`keys` sorted by (rank, key). The 8-byte rank as a big-endian integer orders the same
    way and sorts much faster; equal ranks (about never) fall back to the full order."""
    ranks = {k: int.from_bytes(_rank(seed, k)) for k in keys}
    ordered = sorted(keys, key=ranks.__getitem__)
    previous = None
    for key in ordered:
        rank = ranks[key]
        if rank == previous:
            return sorted(keys, key=lambda k: (ranks[k], k))
        previous = rank
    return ordered


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
    sizes: dict[GroupKey, int] = {}
    votes: dict[tuple[GroupKey, str, str], int] = {}
    for key, language, outlet, count in rows:
        sizes[key] = sizes.get(key, 0) + count
        vote = (key, language or "", outlet or "")
        votes[vote] = votes.get(vote, 0) + count
    # The stratum most of the group's claims belong to; ties go to the smallest name.
    chosen: dict[GroupKey, tuple[int, tuple[str, str]]] = {}
    for (key, language, outlet), n in votes.items():
        candidate = (-n, (language, outlet))
        current = chosen.get(key)
        if current is None or candidate < current:
            chosen[key] = candidate
    strata: dict[tuple[str, str], list[GroupKey]] = defaultdict(list)
    for key, (_, stratum) in chosen.items():
        strata[stratum].append(key)
    result = SplitAssignment()
    by_group = result.by_group
    for stratum in sorted(strata):
        groups = _ranked(seed, strata[stratum])
        total = sum(sizes[k] for k in groups)
        t0, t1, t2 = shares[0] * total, shares[1] * total, shares[2] * total
        filled = [0, 0, 0]
        for key in groups:
            # The split with the largest deficit against its target; ties go to train first
            # (the first of equal deficits).
            d0, d1, d2 = t0 - filled[0], t1 - filled[1], t2 - filled[2]
            best = (2 if d2 > d1 else 1) if d1 > d0 else (2 if d2 > d0 else 0)
            filled[best] += sizes[key]
            by_group[key] = SPLITS[best]
        for i, name in enumerate(SPLITS):
            result.sizes[name] += filled[i]
    return result


def split_assign(*, project: Project) -> SplitAssignment:
    """The split of every claim group of the project.

    On PostgreSQL inside a snapshot that has written nothing (the export's), the assignment
    is cached under a key read in that snapshot: the project, its seed, and the number of
    SplitInputChange rows it sees (triggers add one per transaction that changes the claims,
    their clusters, articles or languages, or an article's outlet; rows are never deleted, and a
    later snapshot sees every row an earlier one saw, so an equal count means equal inputs).
    Anywhere else it is computed each time."""
    key = _cache_key(project)
    if key is not None:
        hit = cache.get(key)
        if isinstance(hit, SplitAssignment):
            return hit
    assignment = _compute(project)
    if key is not None:
        cache.set(key, assignment, CACHE_SECONDS)
    return assignment


CACHE_SECONDS = 7 * 86400


def _cache_key(project: Project) -> str | None:
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return None
    log = SplitInputChange._meta.db_table
    with connection.cursor() as cursor:
        sql = f"""
            SELECT current_setting('transaction_isolation'), txid_current_if_assigned(),
                   count(*), coalesce(max(id), 0)
            FROM {log} WHERE project_id = %s
        """  # noqa: S608 - table name from model metadata
        cursor.execute(sql, [project.pk])
        isolation, own_txid, count, last = cursor.fetchone()
    if isolation not in ("repeatable read", "serializable") or own_txid is not None:
        return None  # not one snapshot, or it sees its own uncommitted writes
    database = connection.settings_dict["NAME"]
    stamp = project.created_at.timestamp() if project.created_at else 0
    return f"splits:1:{database}:{project.pk}:{stamp}:{project.seed}:{count}:{last}"


def _compute(project: Project) -> SplitAssignment:
    claim = Claim._meta.db_table
    article = Article._meta.db_table
    if connection.vendor == "postgresql":
        # One row per group with its stratum already chosen as assign_groups chooses it (most
        # claims, ties to the smallest (language, outlet) in code point order): the claims are
        # counted per (article, cluster, language) by an index-only scan in group order.
        sql = f"""
            WITH g AS (
                SELECT article_id, cluster_id, language, count(*) AS n FROM {claim}
                WHERE project_id = %s GROUP BY article_id, cluster_id, language
            ), v AS (
                SELECT g.cluster_id AS cluster,
                       CASE WHEN g.cluster_id IS NULL THEN g.article_id END AS article,
                       coalesce(g.language, '') AS language,
                       coalesce(a.outlet_name, '') AS outlet, sum(g.n)::bigint AS n
                FROM g JOIN {article} a ON a.id = g.article_id
                GROUP BY 1, 2, 3, 4
            )
            SELECT DISTINCT ON (cluster, article) cluster, article, language, outlet,
                   (sum(n) OVER (PARTITION BY cluster, article))::bigint
            FROM v
            ORDER BY cluster, article, n DESC, language COLLATE "C", outlet COLLATE "C"
        """  # noqa: S608 - table names from model metadata
    else:
        # The claims counted per cluster, article and language, then given their article's
        # outlet; assign_groups takes the votes.
        sql = f"""
            SELECT g.cluster_id, g.article_id, g.language, a.outlet_name, g.n
            FROM (SELECT cluster_id, article_id, language, COUNT(*) AS n FROM {claim}
                  WHERE project_id = %s GROUP BY cluster_id, article_id, language) g
            JOIN {article} a ON a.id = g.article_id
        """  # noqa: S608 - table names from model metadata
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [project.pk])
        return assign_groups(
            (
                (group_key(cluster_id, article_id), language, outlet, n)
                for rows in iter(lambda: cursor.fetchmany(10_000), [])
                for cluster_id, article_id, language, outlet, n in rows
            ),
            seed=project.seed,
        )
