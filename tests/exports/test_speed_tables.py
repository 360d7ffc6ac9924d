"""The export's stored lookups (migration 0003_export_speed): pseudonyms kept by triggers on
the label and decision tables, and the split cache keyed by the SplitInputChange log."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Min

from annotations.models import (
    Article,
    Claim,
    Decision,
    EventCluster,
    Item,
    Label,
    Project,
    Pseudonym,
)
from annotations.services import splits
from annotations.services.exports import (
    annotator_pseudonyms,
    export_snapshot,
    export_stream,
    reviewer_pseudonyms,
)
from tests.exports.helpers import FACT, OPINION, T0, decide, label
from tests.factories import make_user

# --- pseudonyms -------------------------------------------------------------------------------


def first_label_order(project: Project) -> list[int]:
    """The pseudonym order as it was computed before the table: an aggregate over labels."""
    rows = (
        Label.objects.filter(item__project=project)
        .values("annotator_id")
        .annotate(first=Min("created_at"))
        .order_by("first", "annotator_id")
    )
    return [row["annotator_id"] for row in rows]


def test_triggers_exist_on_this_database(db):
    """SQLite drops a table's triggers when Django rebuilds it: a later migration that alters
    the label or decision table must create them again (see 0003_export_speed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    expected = {
        f"annotations_{table}_pseudonym_{event}"
        for table in ("label", "decision")
        for event in ("insert", "update")
    }
    if connection.vendor == "postgresql":
        expected |= {f"annotations_claim_split_{e}" for e in ("insert", "delete", "update")}
        expected.add("annotations_article_split_update")
    assert expected <= names


def test_pseudonyms_follow_the_first_label_in_the_project(world, other_project):
    project, users, items = world.project, world.users, world.items
    assert list(annotator_pseudonyms(project)) == first_label_order(project)
    assert annotator_pseudonyms(project) == {
        users["a"].pk: "a1",
        users["b"].pk: "a2",
        users["c"].pk: "a3",
    }
    # A newcomer labels: a4. A label moved before everyone else's renumbers, as the aggregate
    # over labels would.
    dan = make_user("dan_annotator", "annotator", project)
    row = label(items[3], dan, FACT, at=T0 + dt.timedelta(days=3))
    assert annotator_pseudonyms(project)[dan.pk] == "a4"
    Label.objects.filter(pk=row.pk).update(created_at=T0 - dt.timedelta(days=1))
    assert annotator_pseudonyms(project)[dan.pk] == "a1"
    assert list(annotator_pseudonyms(project)) == first_label_order(project)
    # Labels in another project give pseudonyms there only.
    assert annotator_pseudonyms(other_project) == {}
    assert Pseudonym.objects.filter(project=other_project).count() == 0


def test_pseudonyms_stay_when_labels_are_removed(world):
    project, users = world.project, world.users
    before = annotator_pseudonyms(project)
    Label.objects.filter(annotator=users["a"]).delete()
    assert annotator_pseudonyms(project) == before  # no renumbering of a2, a3


def test_bulk_inserted_labels_get_pseudonyms(world):
    """Rows written without the ORM's create (bulk_create: one statement for many rows)."""
    project, items = world.project, world.items
    eve = make_user("eve_annotator", "annotator", project)
    fay = make_user("fay_annotator", "annotator", project)
    source = list(Label.objects.filter(item__in=[items[0], items[1]]).order_by("pk")[:2])
    from annotations.models import Assignment

    rows = []
    for n, (user, old) in enumerate(((eve, source[0]), (fay, source[1]))):
        assignment = Assignment.objects.create(
            item=old.item,
            annotator=user,
            state="submitted",
            leased_at=T0,
            expires_at=T0 + dt.timedelta(minutes=10),
        )
        rows.append(
            Label(
                item=old.item,
                annotator=user,
                assignment=assignment,
                schema_version=old.schema_version,
                values=OPINION,
                created_at=T0 + dt.timedelta(days=2, minutes=n),
            )
        )
    Label.objects.bulk_create(rows)
    names = annotator_pseudonyms(project)
    assert (names[eve.pk], names[fay.pk]) == ("a4", "a5")


def test_reviewer_pseudonyms_come_from_decisions_with_a_reviewer(world):
    project, users, items = world.project, world.users, world.items
    assert reviewer_pseudonyms(project) == {users["reviewer"].pk: "r1"}
    second = make_user("rex_reviewer", "reviewer", project)
    decide(items[4], second, FACT, at=T0 - dt.timedelta(days=1))
    assert reviewer_pseudonyms(project) == {second.pk: "r1", users["reviewer"].pk: "r2"}
    decide(items[0], None, FACT, action="auto_settle")
    assert len(reviewer_pseudonyms(project)) == 2
    assert Decision.objects.filter(item__project=project, reviewer__isnull=True).exists()


# --- the split cache (PostgreSQL) -------------------------------------------------------------


def in_snapshot(fn):
    with export_snapshot():
        return fn()


def cache_key(project: Project) -> str | None:
    return in_snapshot(lambda: splits._cache_key(project))


def many_groups(world, n: int = 40, first: int = 0) -> list[Claim]:
    """Enough groups in one stratum that moving claims changes the assignment."""
    project, article = world.project, world.claims[1].article
    claims = []
    for i in range(first, first + n):
        claim = Claim.objects.create(
            project=project,
            article=article,
            position=300 + i,
            start=0,
            end=4,
            text=f"unit {i}",
            language="en",
            cluster=EventCluster.objects.create(project=project, key=f"c-{i}"),
        )
        Item.objects.create(project=project, kind="claim", claim=claim)
        claims.append(claim)
    return claims


@pytest.mark.postgres
def test_every_change_of_a_split_input_changes_the_key(world):
    project = Project.objects.get(pk=world.project.pk)
    claims = many_groups(world)
    key = cache_key(project)
    assert key is not None

    def changed(step) -> bool:
        nonlocal key
        step()
        new = cache_key(project)
        moved, key = new != key, new
        return moved

    cluster = EventCluster.objects.create(project=project, key="new")
    assert changed(lambda: Claim.objects.filter(pk=claims[0].pk).update(cluster=cluster))
    assert changed(lambda: Claim.objects.filter(pk=claims[1].pk).update(cluster=None))
    assert changed(lambda: Claim.objects.filter(pk=claims[2].pk).update(language="ar"))
    assert changed(lambda: claims[3].delete())
    assert changed(
        lambda: Article.objects.filter(pk=claims[4].article_id).update(outlet_name="Other")
    )
    assert changed(lambda: EventCluster.objects.filter(pk=cluster.pk).delete())  # SET NULL
    assert changed(lambda: many_groups(world, 1, first=100))
    # What splits do not depend on leaves the key (and the cache) alone.
    assert not changed(lambda: Claim.objects.filter(pk=claims[5].pk).update(claim_likelihood=0.9))
    assert not changed(lambda: Claim.objects.filter(pk=claims[5].pk).update(language="en"))
    assert not changed(lambda: Article.objects.filter(pk=claims[5].article_id).update(title="T"))
    assert not changed(lambda: label(world.items[3], world.users["a"], FACT, at=T0))
    # The seed is part of the key.
    project.seed += 1
    assert cache_key(project) != key


@pytest.mark.postgres
def test_the_cache_never_answers_for_other_inputs(world):
    project = Project.objects.get(pk=world.project.pk)
    claims = many_groups(world)
    first = in_snapshot(lambda: splits.split_assign(project=project))
    assert cache.get(cache_key(project)) is not None
    assert in_snapshot(lambda: splits.split_assign(project=project)).by_group == first.by_group
    # Move half the clusters' claims into one cluster: the assignment changes, and the export
    # shows the new one.
    merged = claims[0].cluster
    Claim.objects.filter(pk__in=[c.pk for c in claims[: len(claims) // 2]]).update(cluster=merged)
    second = in_snapshot(lambda: splits.split_assign(project=project))
    assert second.by_group == splits._compute(project).by_group
    assert second.by_group != first.by_group
    records = [json.loads(x) for x in b"".join(export_stream(project=project)).splitlines()]
    assert records  # the export runs with the new assignment
    for record in records:
        claim = Claim.objects.get(pk=record["claim_id"])
        assert record["split"] == second.split_of(claim.cluster_id, claim.article_id)


@pytest.mark.postgres
def test_no_cache_outside_a_clean_snapshot(world):
    project = world.project
    assert splits._cache_key(project) is None  # autocommit: no snapshot
    with export_snapshot(read_only=False):
        assert splits._cache_key(project) is not None
        Claim.objects.filter(pk=world.claims[0].pk).update(language="ar")
        assert splits._cache_key(project) is None  # it sees its own uncommitted writes
        connection.set_rollback(True)


@pytest.mark.postgres
def test_a_concurrent_commit_is_seen_by_the_next_snapshot_only(world):
    """The key is read in the export's snapshot: a change committed meanwhile is not in it."""
    project = world.project
    with export_snapshot():
        key = splits._cache_key(project)

        def move():
            try:
                Claim.objects.filter(pk=world.claims[0].pk).update(language="ar")
            finally:
                connection.close()

        thread = threading.Thread(target=move)
        thread.start()
        thread.join(30)
        assert splits._cache_key(project) == key
    assert cache_key(project) != key


@pytest.mark.postgres
def test_grouped_query_picks_the_stratum_as_assign_groups_does(world):
    """PostgreSQL counts per group and picks its stratum in SQL; the result equals
    assign_groups over the raw (group, language, outlet, count) votes, ties included."""
    project, article_en = world.project, world.claims[1].article
    article_ar = world.claims[4].article
    Article.objects.filter(pk=article_ar.pk).update(outlet_name="Ä outlet")
    for i in range(30):
        cluster = EventCluster.objects.create(project=project, key=f"t-{i}")
        # Ties between languages and between outlets, non-ASCII names, unclustered claims.
        for j, (article, language) in enumerate(
            [(article_en, "en"), (article_ar, "ar"), (article_en, "ar"), (article_ar, "")][
                : 2 + i % 3
            ]
        ):
            Claim.objects.create(
                project=project,
                article=article,
                position=1000 + 10 * i + j,
                start=0,
                end=3,
                text="x",
                language=language if i % 2 else "zz",
                cluster=cluster if i % 5 else None,
            )
    rows = (
        Claim.objects.filter(project=project)
        .values_list("cluster_id", "article_id", "language", "article__outlet_name")
        .order_by()
    )
    votes: dict[tuple, int] = {}
    for cluster_id, article_id, language, outlet in rows:
        vote = (splits.group_key(cluster_id, article_id), language, outlet)
        votes[vote] = votes.get(vote, 0) + 1
    expected = splits.assign_groups([(*vote, n) for vote, n in votes.items()], seed=project.seed)
    computed = splits._compute(project)
    assert computed.by_group == expected.by_group
    assert computed.sizes == expected.sizes
