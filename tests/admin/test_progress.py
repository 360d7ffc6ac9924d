"""Progress page: states, throughput, labels per day, stuck leases with release/reassign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment, Item, Label
from annotations.services.labels import label_submit
from annotations.services.progress import day_chart
from annotations.services.queue import item_lease_next
from tests.queue.helpers import GOOD_LABELS, make_annotator, make_claims

pytestmark = pytest.mark.django_db


def _label(project, user, key, seconds, now=None):
    lease = item_lease_next(project=project, user=user, now=now)
    label, _ = label_submit(
        assignment=lease, user=user, values=GOOD_LABELS, idempotency_key=key, seconds=seconds
    )
    return label


def test_states_throughput_and_median(client_for, project, admin, django_assert_max_num_queries):
    make_claims(project, 6)
    a, b = make_annotator("pa", project), make_annotator("pb", project)
    for i, s in enumerate([10, 20, 60]):
        _label(project, a, f"a{i}", s)
    _label(project, b, "b0", 5)
    item_lease_next(project=project, user=b)  # one more item in progress, leased
    client = client_for(admin)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("progress", args=[project.slug]))
    assert response.status_code == 200
    claims = response.context["claims"]
    # overlap 2: items 1 labelled by a and b -> review; a's items 2,3 have 1 label; b leases #2.
    assert claims["total"] == 6
    assert claims["review"] == 1
    assert claims["in_progress"] == 2
    assert claims["queued"] == 3
    rows = {r["username"]: r for r in response.context["throughput"]}
    assert rows["pa"]["total"] == 3 and rows["pa"]["last_hour"] == 3
    assert rows["pa"]["median_seconds"] == pytest.approx(20)
    assert rows["pa"]["per_hour"] == pytest.approx(3600 * 3 / 90)
    assert rows["pb"]["median_seconds"] == pytest.approx(5)
    chart = response.context["chart"]
    assert chart["total"] == 4 and chart["bars"][-1]["n"] == 4
    body = response.content.decode()
    assert "<svg" in body and "style=" not in body and "<script>" not in body


def test_stats_are_cached_and_fresh_recomputes(client_for, project, admin):
    make_claims(project, 2)
    a = make_annotator("ca", project)
    client = client_for(admin)
    url = reverse("progress", args=[project.slug])
    assert client.get(url).context["claims"]["in_progress"] == 0
    _label(project, a, "c0", 3)
    assert client.get(url).context["claims"]["in_progress"] == 0  # cached figures
    assert client.get(url, {"fresh": "1"}).context["claims"]["in_progress"] == 1


def test_stale_figures_are_refreshed_by_the_background_task(client_for, project, admin):
    """Figures older than STATS_SECONDS start a refresh (the Celery task; without a broker it
    runs at once) instead of being recomputed inside the request."""
    from django.core.cache import cache

    from annotations.services.progress import STATS_SECONDS, progress_stats_compute

    make_claims(project, 2)
    a = make_annotator("sr", project)
    stats = progress_stats_compute(project)
    _label(project, a, "s0", 3)
    stats["as_of"] = timezone.now() - timedelta(seconds=STATS_SECONDS + 5)
    cache.set(f"progress-stats:{project.pk}", stats)
    response = client_for(admin).get(reverse("progress", args=[project.slug]))
    assert response.context["claims"]["in_progress"] == 1
    assert response.context["as_of"] > stats["as_of"]


def test_day_chart_scales_to_the_busiest_day():
    today = timezone.localdate()
    chart = day_chart([{"day": today, "n": 0}, {"day": today, "n": 5}, {"day": today, "n": 10}])
    heights = [b["h"] for b in chart["bars"]]
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1])
    assert chart["bars"][2]["y"] == chart["pad"]


def test_stuck_leases_listed_released_and_reassigned(client_for, project, admin):
    make_claims(project, 4)
    a, b, c = (make_annotator(n, project) for n in ("sa", "sb", "sc"))
    long_ago = timezone.now() - timedelta(hours=3)
    old = item_lease_next(project=project, user=a, now=long_ago)  # expired long ago
    fresh = item_lease_next(project=project, user=b)  # just leased: not stuck
    client = client_for(admin)
    url = reverse("progress", args=[project.slug])
    leases = client.get(url).context["leases"]
    assert [x.pk for x in leases.object_list] == [old.pk]
    # With a 0-minute threshold clamp (minimum 1 minute) the fresh lease still is not listed.
    assert fresh.pk not in [x.pk for x in client.get(url, {"minutes": "1"}).context["leases"]]

    before = Item.objects.get(pk=old.item_id).n_leased
    # Reassign the stuck lease to c: a's lease released, c holds the same item.
    response = client.post(
        reverse("lease-reassign", args=[project.slug, old.pk]), {"username": "sc"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.state == Assignment.State.RELEASED
    moved = Assignment.objects.get(item=old.item, annotator=c)
    assert moved.state == Assignment.State.LEASED and moved.expires_at > timezone.now()
    item = Item.objects.get(pk=old.item_id)
    assert item.n_leased == before  # the slot moved; nothing over-assigned

    # Release b's lease: the slot is freed.
    client.post(reverse("lease-release", args=[project.slug, fresh.pk]))
    fresh.refresh_from_db()
    assert fresh.state == Assignment.State.RELEASED
    assert Item.objects.get(pk=fresh.item_id).n_leased == before - 1
    # Releasing twice is a clear message, not an error page.
    response = client.post(reverse("lease-release", args=[project.slug, fresh.pk]), follow=True)
    assert response.status_code == 200 and "already released" in response.content.decode()


def test_reassign_refuses_non_annotators_and_previous_holders(client_for, project, admin, reviewer):
    make_claims(project, 2)
    a, b = make_annotator("ra", project), make_annotator("rb", project)
    lease_b = item_lease_next(project=project, user=b)
    label_submit(assignment=lease_b, user=b, values=GOOD_LABELS, idempotency_key="rb1")
    lease_a = item_lease_next(project=project, user=a)  # same item (overlap 2)
    assert lease_a.item_id == lease_b.item_id
    client = client_for(admin)
    for username in (reviewer.username, "rb", "nobody"):
        client.post(
            reverse("lease-reassign", args=[project.slug, lease_a.pk]), {"username": username}
        )
        lease_a.refresh_from_db()
        assert lease_a.state == Assignment.State.LEASED
    assert Label.objects.filter(item_id=lease_a.item_id).count() == 1


def test_lease_actions_are_scoped_to_the_project(
    client_for, project, other_project, outsider, admin
):
    make_claims(other_project, 1)
    stranger = make_annotator("st", other_project)
    lease = item_lease_next(project=other_project, user=stranger)
    # An admin of `project` cannot release a lease of `other_project` through `project`.
    response = client_for(admin).post(reverse("lease-release", args=[project.slug, lease.pk]))
    assert response.status_code == 404
    lease.refresh_from_db()
    assert lease.state == Assignment.State.LEASED
    assert (
        client_for(admin).get(reverse("lease-release", args=[project.slug, lease.pk])).status_code
        == 405
    )


def test_leases_fragment_for_htmx(client_for, project, admin):
    make_claims(project, 1)
    item_lease_next(
        project=project, user=make_annotator("fx", project), now=timezone.now() - timedelta(days=1)
    )
    response = client_for(admin).get(
        reverse("progress", args=[project.slug]), {"fragment": "leases"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" not in body and "fx" in body and "expired" in body
