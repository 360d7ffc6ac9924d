"""The SQL-built JSONL path (exports/fast.py) writes exactly the bytes of the reference path,
including the awkward values: floats Python prints differently from PostgreSQL, timestamps with
microseconds, control characters, unsorted nested keys, missing decisions, old schema versions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import JSONField, Value

from annotations.models import (
    Article,
    Claim,
    ClaimPair,
    Decision,
    Document,
    EventCluster,
    Item,
    Label,
    Outlet,
    SchemaVersion,
)
from annotations.services.exports import (
    ExportContext,
    JsonlWriter,
    claim_records,
    export_snapshot,
    export_stream,
)
from annotations.services.exports import fast as fast_path
from annotations.services.splits import _compute
from tests.exports.helpers import FACT, T0, decide, label

pytestmark = pytest.mark.postgres


def both(project, **kwargs):
    fast = b"".join(export_stream(project=project, **kwargs))
    slow = b"".join(export_stream(project=project, fast=False, **kwargs))
    return fast, slow


def awkward(world):
    """Edit the world so that every branch of the SQL formatting is used."""
    items, claims, users = world.items, world.claims, world.users
    odd_seconds = [None, 5.0, 1e-07, 1.5e15, 123456.789, float("inf"), -0.0, 1e16, 0.1]
    for n, row in enumerate(Label.objects.filter(item__project=world.project).order_by("pk")):
        Label.objects.filter(pk=row.pk).update(
            seconds=odd_seconds[n % len(odd_seconds)],
            created_at=T0 + dt.timedelta(seconds=n, microseconds=(n * 137) % 3 * 250_001),
        )
    Claim.objects.filter(pk=claims[0].pk).update(
        text='Quote "x" \\ back\tslash\nnew \x01\x1f line \u2028 é 😀', language=""
    )
    # An older schema version, a label recorded against it, values with unsorted keys.
    old = SchemaVersion.objects.create(
        project=world.project, version=0, schema={"claim": {"fields": []}}
    )
    Label.objects.filter(item=items[4]).update(
        schema_version=old,
        values={"z": 1, "a": {"y": [2.50, 1e20], "b": None}, "verifiability": "opinion"},
    )
    # Settled without any decision; a decision with null changed fields and a newline note.
    label(items[3], users["b"], FACT, at=T0 + dt.timedelta(hours=1), seconds=None)
    Item.objects.filter(pk=items[3].pk).update(status="settled", gold=None)
    Decision.objects.filter(item=items[2]).update(
        changed_fields=Value(None, JSONField()), note="line one\nline two", overrides_majority=True
    )
    Item.objects.filter(pk=items[0].pk).update(aggregate={"b": 0.5, "a": [1, 2.0, "x"]})
    # Cells that CSV must neutralise (= + - @ tab CR first) or quote (quote, comma, CR, LF).
    Item.objects.filter(pk=items[2].pk).update(aggregate=-0.5)
    Claim.objects.filter(pk=claims[1].pk).update(text='-5, "minus"\r\nfive')
    Claim.objects.filter(pk=claims[4].pk).update(text="\tindented, twice")
    EventCluster.objects.filter(pk=world.cluster.pk).update(key='+ev,"1"')
    article = claims[1].article
    Article.objects.filter(pk=article.pk).update(title='@title, "x"\nnext', outlet_name="=raw")
    Outlet.objects.filter(pk=article.outlet_id).update(name='-Registry "name"', country="\rX")
    Document.objects.filter(pk=article.document_id).update(name='doc, "1".txt')
    decide(items[4], users["reviewer"], {"verifiability": "opinion", "a": 1}, changed=["x"])


def test_fast_path_is_used_inside_the_snapshot(world):
    assert not fast_path.usable()  # outside the REPEATABLE READ snapshot
    with export_snapshot():
        assert fast_path.usable()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("include", ["labelled", "settled"])
def test_same_bytes_as_the_reference_path(world, include, fmt):
    fast, slow = both(world.project, include=include, fmt=fmt)
    assert fast == slow and fast
    awkward(world)
    for chunk_size in (1, 3, 2000):
        fast, slow = both(world.project, include=include, fmt=fmt, chunk_size=chunk_size)
        assert fast == slow and fast
    if fmt == "csv":  # the awkward cells are there, neutralised and quoted
        for cell in (b'"\'-5, ""minus""\r\nfive"', b"'=raw", b'"\'+ev,""1"""', b"'-0.5"):
            assert cell in fast, cell


def test_same_bytes_with_a_dataset_version_and_the_same_stats(world):
    awkward(world)
    with export_snapshot():
        fast_ctx = ExportContext.build(world.project, version=7)
        lines = [line for chunk in fast_path.claim_lines(fast_ctx, "labelled") for line in chunk]
        slow_ctx = ExportContext.build(world.project, version=7)
        from annotations.services.exports import JsonlWriter

        writer = JsonlWriter("claims")
        slow = b"".join(writer.write(r) for r in claim_records(slow_ctx, "labelled"))
    assert ("\n".join(lines) + "\n").encode() == slow
    assert fast_ctx.stats == slow_ctx.stats
    assert '"dataset_version":7' in lines[0]


@pytest.mark.parametrize("article_limit", [20000, 1])
def test_many_items_across_chunks(world, monkeypatch, article_limit):
    """Enough items that the cursor is fetched in several chunks and articles are reused (or,
    with a tiny article cache, fetched again after each reset)."""
    from annotations.services.exports.records import _ArticleCache

    monkeypatch.setattr(_ArticleCache, "LIMIT", article_limit)
    article = world.claims[1].article
    reviewer = world.users["reviewer"]
    for n in range(30):
        claim = Claim.objects.create(
            project=world.project,
            article=article,
            position=200 + n,
            start=0,
            end=3,
            text=f"unit {n} «{n}»",
            language="en",
        )
        item = Item.objects.create(project=world.project, kind="claim", claim=claim, k=3)
        for m, who in enumerate(("a", "b", "c")[: 1 + n % 3]):
            label(
                item,
                world.users[who],
                {"verifiability": ["opinion", "checkable_fact"][(n + m) % 2], "is_attributed": m},
                at=T0 + dt.timedelta(minutes=n, seconds=m),
                seconds=n + m / 4,
            )
        if n % 4 == 0:
            decide(item, reviewer if n % 8 else None, FACT, action="decide")
    fast, slow = both(world.project, chunk_size=7)
    assert fast == slow
    assert len(fast.splitlines()) == 34
    for fmt in ("csv", "parquet"):
        fast, slow = both(world.project, chunk_size=7, fmt=fmt)
        assert fast == slow
    with connection.cursor() as cursor:  # the snapshot ended with the stream
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone()[0] == "read committed"


def test_context_of_the_fast_path_is_the_same(world):
    """build_context (own settings, a cached split assignment on the second call) gives what
    ExportContext.build gives."""
    awkward(world)
    with export_snapshot():
        fast_path.build_context(world.project, 3)
        parallel = fast_path.build_context(world.project, 3)
        plain = ExportContext.build(world.project, 3)
    assert parallel.annotators == plain.annotators and len(plain.annotators) == 3
    assert parallel.reviewers == plain.reviewers
    assert parallel.splits.by_group == plain.splits.by_group and plain.splits.by_group
    assert plain.splits.by_group == _compute(world.project).by_group
    assert (parallel.schema_versions, parallel.field_types) == (
        plain.schema_versions,
        plain.field_types,
    )


def awkward_pairs(world):
    """Pairs over the awkward claims: odd scores (NaN, infinities, exponents), features with
    unsorted keys and nested values, with and without event clusters, labelled by several
    annotators, settled or not, with CSV cells to neutralise."""
    awkward(world)
    project, claims, users = world.project, world.claims, world.users
    other = EventCluster.objects.create(project=project, key="=other")
    Claim.objects.filter(pk=claims[3].pk).update(cluster=other)
    scores = [float("nan"), float("inf"), 1e-07, 0.5, -2.0, 1e16, 0.30000000000000004]
    features = [
        {"z": 1, "a": {"y": [2.5, 1e20], "b": None}},
        "-a JSON string",
        {"cosine": 0.87, "date_gap_days": 2},
        {},
        {"note": '=cmd, "quoted"\n'},
        {"n": -1},
        {"list": [3, 2, 1]},
    ]
    pair_values = {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]}
    n = 0
    for i, a in enumerate(claims):
        for b in claims[i + 1 :]:
            if n >= len(scores) or (a.pk + b.pk) % 2:
                continue
            pair = ClaimPair.objects.create(
                project=project,
                claim_a=a,
                claim_b=b,
                method="-method" if n % 3 == 0 else "embedding",
                score=scores[n],
                features=features[n],
                cluster=other if n % 2 else None,
            )
            item = Item.objects.create(project=project, kind="pair", pair=pair, k=3)
            for m, who in enumerate(("a", "b", "c")[: n % 4]):
                label(item, users[who], pair_values, at=T0 + dt.timedelta(hours=n, minutes=m))
            if n % 3 == 1:
                decide(item, users["reviewer"] if n % 2 else None, pair_values, changed=["x"])
            n += 1
    assert n >= 5


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("include", ["labelled", "settled"])
def test_pairs_same_bytes_as_the_reference_path(world, include, fmt, monkeypatch):
    from annotations.services.exports import fast_pairs

    used = []
    real = fast_pairs.pair_rows
    monkeypatch.setattr(fast_pairs, "pair_rows", lambda *a, **k: used.append(1) or real(*a, **k))
    fast, slow = both(world.project, kind="pairs", include=include, fmt=fmt)
    assert fast == slow and fast and used
    awkward_pairs(world)
    for chunk_size in (1, 3, 2000):
        fast, slow = both(
            world.project, kind="pairs", include=include, fmt=fmt, chunk_size=chunk_size
        )
        assert fast == slow and fast


def test_pairs_same_stats_with_a_dataset_version(world):
    from annotations.services.exports import fast_pairs, pair_records

    awkward_pairs(world)
    with export_snapshot():
        fast_ctx = fast_path.build_context(world.project, version=4)
        rows = [row for chunk in fast_pairs.pair_rows(fast_ctx, "labelled") for row in chunk]
        slow_ctx = ExportContext.build(world.project, version=4)
        records = [r for chunk in pair_records(slow_ctx, "labelled") for r in chunk]
    assert fast_ctx.stats == slow_ctx.stats and fast_ctx.stats["pairs:split"]
    assert [fast_pairs.jsonl_line(row) for row in rows] == [
        JsonlWriter("pairs").write([r]).decode().rstrip("\n") for r in records
    ]
