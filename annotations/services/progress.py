"""The progress page's figures (computed in the background, kept in the cache), and admin
actions on running leases: release, and reassign to a chosen annotator.

Reassign semantics (kept simple on purpose): the current lease is released exactly as
``queue.lease_release`` does, and in the same transaction, under the item's row lock, the freed
slot is leased to the chosen annotator with a fresh lease of the project's length. The chosen
user must be an annotator of the project who has never had this item (one row per item and
annotator, ever); the per-user cap of active leases does not apply to an admin's decision. The
item then appears first on the chosen annotator's annotate page (their oldest active lease).
Nothing else is pinned: when that lease expires, the slot goes back to the queue as usual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ..models import Assignment, Item, Membership, Project, Role
from ..selectors import annotator_throughput, item_progress, labels_per_day
from . import queue

STATS_SECONDS = 60  # figures older than this are refreshed in the background
CHART_W, CHART_H, CHART_PAD = 720, 180, 28


class ReassignError(Exception):
    """The lease cannot be given to that user."""


def lease_for_project(*, project: Project, lease_id: int) -> Assignment | None:
    return (
        Assignment.objects.select_related("item", "annotator")
        .filter(pk=lease_id, item__project=project)
        .first()
    )


def lease_reassign(
    *,
    assignment: Assignment,
    to_user: Any,
    by: Any,
    now: datetime | None = None,
) -> Assignment:
    """Release `assignment` and lease its item to `to_user` in one transaction."""
    now = now or timezone.now()
    project = assignment.item.project
    if to_user.pk == assignment.annotator_id:
        raise ReassignError("The lease already belongs to this user.")
    if not Membership.objects.filter(project=project, user=to_user, role=Role.ANNOTATOR).exists():
        raise ReassignError("Only an annotator of this project can receive the item.")
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=assignment.item_id)
        if Assignment.objects.filter(item=item, annotator=to_user).exists():
            raise ReassignError(f"{to_user.get_username()} already had this item.")
        queue.lease_release(assignment=assignment, by=by, now=now)
        item.refresh_from_db()
        if item.n_done + item.n_leased >= item.k:
            raise ReassignError("The item has no free slot.")  # rolls back the release
        return queue._take(project=project, user=to_user, item=item, now=now)


def day_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the labels-per-day bar chart, computed here so the template draws plain
    SVG attributes (no inline style, no script)."""
    peak = max((d["n"] for d in days), default=0) or 1
    inner_w = CHART_W - 2 * CHART_PAD
    inner_h = CHART_H - 2 * CHART_PAD
    step = inner_w / max(len(days), 1)
    bars = []
    for i, d in enumerate(days):
        h = inner_h * d["n"] / peak
        bars.append(
            {
                "x": round(CHART_PAD + i * step + 1, 1),
                "y": round(CHART_PAD + inner_h - h, 1),
                "w": round(max(step - 2, 1), 1),
                "h": round(h, 1),
                "day": d["day"],
                "n": d["n"],
                "label": i % 5 == 0 or i == len(days) - 1,
                "tx": round(CHART_PAD + i * step + step / 2, 1),
            }
        )
    return {
        "w": CHART_W,
        "h": CHART_H,
        "pad": CHART_PAD,
        "base": CHART_H - CHART_PAD,
        "right": CHART_W - CHART_PAD,
        "peak": peak if any(d["n"] for d in days) else 0,
        "bars": bars,
        "total": sum(d["n"] for d in days),
    }


STATS_KEEP_SECONDS = 24 * 3600  # the last figures are shown while newer ones are computed


def _stats_key(project: Any) -> str:
    return f"progress-stats:{project.pk}"


def progress_stats_compute(project: Any) -> dict[str, Any]:
    """The aggregate figures: full scans of the project's items and labels (seconds at 1M
    claims), so they run in a Celery task and are kept in the cache for the page."""
    now = timezone.now()
    stats = {
        "as_of": now,
        "claims": item_progress(project, "claim"),
        "pairs": item_progress(project, "pair"),
        "throughput": annotator_throughput(project, now),
        "chart": day_chart(labels_per_day(project, now)),
    }
    cache.set(_stats_key(project), stats, STATS_KEEP_SECONDS)
    return stats


def progress_stats(project: Any, *, fresh: bool = False) -> dict[str, Any] | None:
    """The last figures computed (None before the first), stale-while-revalidate: figures
    older than STATS_SECONDS, or `fresh`, start one refresh in the background (at most one per
    STATS_SECONDS per project unless `fresh`) and the page shows what it has meanwhile. Without
    a broker (embedded mode, tests) the task runs at once and the page shows its result."""
    from ..tasks import progress_stats_refresh

    key = _stats_key(project)
    stats = cache.get(key)
    stale = stats is None or (timezone.now() - stats["as_of"]).total_seconds() > STATS_SECONDS
    if fresh or (stale and cache.add(f"{key}:refreshing", 1, STATS_SECONDS)):
        progress_stats_refresh.delay(project.pk)
        stats = cache.get(key)
    return stats
