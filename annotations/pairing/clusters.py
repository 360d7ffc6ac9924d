"""Event clusters over candidate pairs, and the pure helpers behind the admin actions.

:func:`build_clusters` links claims whose pair scores at least ``threshold`` (union-find),
then refines each connected component by average linkage so that a chain of strong pairs
(A~B, B~C, C~D with A, D unrelated) does not become one event:

* two groups merge only when the **mean score of all their observed pairs** (every pair
  given, also those below the threshold, which count as evidence against) reaches
  ``link_threshold``;
* and when they are joined by enough strong pairs: at least
  ``min_support * sqrt(|A| * |B|)``, so a pure chain stops growing after a few links;
* and when the merged group stays within ``max_size`` claims.

Groups merge best-first (highest mean first). Pairs never compared are unknown, not
zero: candidates are top-k lists, so most pairs of a real event are never scored.

A cluster's key is its smallest claim id, so keys stay put when later (larger) ids
join. Memberships are plain ``{claim id: cluster key}`` mappings; claims alone in their
cluster are left out. :func:`merge_clusters` and :func:`split_cluster` take and return
such mappings and never mutate their input.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotations.pairing.candidates import CandidatePair, ClaimId

#: Pair score at which claims link into clusters. Chosen on the probe set: at 0.6 the
#: claim pairs inside clusters are 88% same-event (70% at 0.5, where chains of loosely
#: related reports of one offensive merge; 84% at 0.7 with far fewer pairs clustered),
#: see tests/pairing/test_quality.py.
DEFAULT_CLUSTER_THRESHOLD = 0.6
DEFAULT_MIN_SUPPORT = 0.5
DEFAULT_MAX_SIZE = 1000


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


@dataclass(frozen=True, slots=True)
class Cluster:
    key: ClaimId  # smallest member id
    members: tuple[ClaimId, ...]  # sorted
    mean_score: float  # mean score of the observed pairs inside the cluster


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[ClaimId, ClaimId] = {}

    def find(self, x: ClaimId) -> ClaimId:
        parent = self.parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: ClaimId, b: ClaimId) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _agglomerate(
    members: list[ClaimId],
    scores: dict[tuple[ClaimId, ClaimId], float],
    threshold: float,
    link_threshold: float,
    min_support: float,
    max_size: int,
) -> list[list[ClaimId]]:
    """Average-linkage merging inside one connected component."""
    index = {m: k for k, m in enumerate(members)}
    groups: dict[int, list[ClaimId]] = {k: [m] for k, m in enumerate(members)}
    # link stats between live groups: (sum of scores, observed pairs, strong pairs)
    links: dict[int, dict[int, list[float]]] = {k: {} for k in groups}
    for (a, b), s in scores.items():
        ia, ib = index.get(a), index.get(b)
        if ia is None or ib is None:
            continue
        for x, y in ((ia, ib), (ib, ia)):
            stat = links[x].setdefault(y, [0.0, 0.0, 0.0])
            stat[0] += s
            stat[1] += 1
            stat[2] += s >= threshold
    heap: list[tuple[float, int, int]] = []

    def mean(x: int, y: int) -> float:
        total, observed, _ = links[x][y]
        return total / observed

    def push(x: int, y: int) -> None:
        heapq.heappush(heap, (-mean(x, y), min(x, y), max(x, y)))

    for x, neighbours in links.items():
        for y in neighbours:
            if x < y:
                push(x, y)
    next_id = len(members)
    while heap:
        neg_mean, x, y = heapq.heappop(heap)
        if x not in groups or y not in groups or y not in links[x] or -neg_mean != mean(x, y):
            continue  # a stale entry: one side was merged since
        if -neg_mean < link_threshold:
            break
        strong = links[x][y][2]
        size = len(groups[x]) + len(groups[y])
        if strong < min_support * math.sqrt(len(groups[x]) * len(groups[y])) or size > max_size:
            continue
        new = next_id
        next_id += 1
        groups[new] = groups.pop(x) + groups.pop(y)
        merged: dict[int, list[float]] = {}
        for old in (x, y):
            for z, stat in links.pop(old).items():
                if z in (x, y):
                    continue
                acc = merged.setdefault(z, [0.0, 0.0, 0.0])
                for k in range(3):
                    acc[k] += stat[k]
                del links[z][old]
        links[new] = merged
        for z, stat in merged.items():
            links[z][new] = list(stat)
            push(new, z)
    return list(groups.values())


def build_clusters(
    pairs: Iterable[CandidatePair],
    threshold: float = DEFAULT_CLUSTER_THRESHOLD,
    link_threshold: float | None = None,
    min_support: float = DEFAULT_MIN_SUPPORT,
    max_size: int = DEFAULT_MAX_SIZE,
) -> list[Cluster]:
    """Event clusters (2+ claims) from scored pairs; see the module docstring.

    Pass every scored pair (``all_candidates(..., threshold=None)``): pairs below
    ``threshold`` do not link but count in the average. ``link_threshold`` defaults to
    ``threshold``. Clusters come out largest first, then by key.
    """
    link_threshold = threshold if link_threshold is None else link_threshold
    scores: dict[tuple[ClaimId, ClaimId], float] = {}
    uf = _UnionFind()
    for p in pairs:
        a, b = (p.a, p.b) if _sort_key(p.a) <= _sort_key(p.b) else (p.b, p.a)
        if a == b:
            continue
        scores[(a, b)] = max(p.score, scores.get((a, b), float("-inf")))
    for (a, b), s in scores.items():
        if s >= threshold:
            uf.union(a, b)
    components: dict[ClaimId, list[ClaimId]] = {}
    for x in list(uf.parent):
        components.setdefault(uf.find(x), []).append(x)
    comp_scores: dict[ClaimId, dict[tuple[ClaimId, ClaimId], float]] = {}
    for (a, b), s in scores.items():
        if a in uf.parent and b in uf.parent and uf.find(a) == uf.find(b):
            comp_scores.setdefault(uf.find(a), {})[(a, b)] = s
    clusters = []
    for root, members in components.items():
        members.sort(key=_sort_key)
        inside = comp_scores.get(root, {})
        if len(members) <= 2:
            groups = [members]
        else:
            groups = _agglomerate(members, inside, threshold, link_threshold, min_support, max_size)
        for group in groups:
            if len(group) < 2:
                continue
            group = sorted(group, key=_sort_key)
            member_set = set(group)
            observed = [s for (a, b), s in inside.items() if a in member_set and b in member_set]
            mean = sum(observed) / len(observed) if observed else 0.0
            clusters.append(Cluster(group[0], tuple(group), round(mean, 6)))
    clusters.sort(key=lambda c: (-len(c.members), _sort_key(c.key)))
    return clusters


def memberships(clusters: Iterable[Cluster]) -> dict[ClaimId, ClaimId]:
    """``{claim id: cluster key}`` for every claim in a cluster."""
    return {m: c.key for c in clusters for m in c.members}


def _rekey(groups: Iterable[Iterable[ClaimId]]) -> dict[ClaimId, ClaimId]:
    out: dict[ClaimId, ClaimId] = {}
    for group in groups:
        members = sorted(set(group), key=_sort_key)
        if len(members) >= 2:
            out.update(dict.fromkeys(members, members[0]))
    return out


def _groups(memberships: Mapping[ClaimId, ClaimId]) -> dict[ClaimId, list[ClaimId]]:
    groups: dict[ClaimId, list[ClaimId]] = {}
    for claim, key in memberships.items():
        groups.setdefault(key, []).append(claim)
    return groups


def merge_clusters(
    memberships: Mapping[ClaimId, ClaimId], keys: Iterable[ClaimId]
) -> dict[ClaimId, ClaimId]:
    """Merge the clusters named by ``keys`` into one, keyed by its smallest claim id.

    A member's id stands for its cluster; an id found nowhere is a lone claim and joins
    the merged cluster, so an admin can also pull single claims into an event. Other
    clusters keep their keys; the input mapping is not modified.
    """
    groups = _groups(memberships)
    merged: list[ClaimId] = []
    for key in keys:
        if key not in groups and key in memberships:
            key = memberships[key]  # a member id names its cluster
        merged.extend(groups.pop(key, [key]))
    return _rekey([*groups.values(), merged])


def split_cluster(
    memberships: Mapping[ClaimId, ClaimId],
    key: ClaimId,
    groups: Sequence[Iterable[ClaimId]],
) -> dict[ClaimId, ClaimId]:
    """Split cluster ``key``: each of ``groups`` becomes its own cluster, the rest another.

    Every claim of ``groups`` must belong to the cluster and appear once. New clusters are
    keyed by their smallest id; a part left with one claim leaves the clustering. Raises
    ``ValueError`` on an unknown key, a foreign claim or a claim in two groups.
    """
    clusters = _groups(memberships)
    if key not in clusters:
        raise ValueError(f"no cluster with key {key!r}")
    members = set(clusters.pop(key))
    parts: list[list[ClaimId]] = []
    seen: set[ClaimId] = set()
    for group in groups:
        part = list(group)
        for claim in part:
            if claim not in members:
                raise ValueError(f"claim {claim!r} is not in cluster {key!r}")
            if claim in seen:
                raise ValueError(f"claim {claim!r} is in two groups")
            seen.add(claim)
        parts.append(part)
    parts.append([m for m in members if m not in seen])
    return _rekey([*clusters.values(), *parts])
