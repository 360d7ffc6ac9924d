"""An export taken while annotators keep working is consistent with itself (PostgreSQL:
one REPEATABLE READ, READ ONLY transaction owned by the stream)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from annotations.models import Item
from annotations.services.exports import export_stream
from tests.exports.helpers import FACT, OPINION, T0, decide, label


def in_other_connection(fn):
    errors = []

    def run():
        try:
            fn()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not errors, errors


@pytest.mark.postgres
def test_export_reflects_the_snapshot_at_its_start(world):
    before = [json.loads(x) for x in b"".join(export_stream(project=world.project)).splitlines()]
    stream = export_stream(project=world.project, chunk_size=1)
    first_half = [next(stream), next(stream)]
    assert connection.in_atomic_block  # the stream holds its transaction
    items = world.items

    def annotate_and_decide():
        label(items[4], world.users["b"], OPINION, at=T0)  # a later record gains a label
        decide(items[4], world.users["reviewer"], OPINION)  # ... and a gold
        label(items[3], world.users["a"], FACT, at=T0)  # an unlabelled item gains one
        Item.objects.filter(pk=items[2].pk).update(aggregate={"changed": 1.0})

    in_other_connection(annotate_and_decide)
    # This connection is inside the snapshot: it still sees the item as it was.
    assert Item.objects.get(pk=items[4].pk).status == "open"
    rest = list(stream)
    assert not connection.in_atomic_block  # closed at the end
    during = [json.loads(x) for x in b"".join(first_half + rest).splitlines()]
    assert during == before
    after = [json.loads(x) for x in b"".join(export_stream(project=world.project)).splitlines()]
    assert len(after) == len(before) + 1
    assert next(r for r in after if r["item_id"] == items[4].pk)["gold"] == OPINION


@pytest.mark.postgres
def test_closing_the_stream_early_ends_the_transaction(world, client_for):
    response = client_for(world.users["reviewer"]).get("/api/v1/projects/alpha/export/")
    chunks = iter(response.streaming_content)
    next(chunks)
    assert connection.in_atomic_block
    response.close()  # what the server does when the client goes away
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:  # the connection is usable (not stuck read-only)
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone()[0] == "read committed"
    Item.objects.filter(pk=world.items[0].pk).update(uncertainty=0.5)


@pytest.mark.postgres
def test_the_snapshot_is_repeatable_read_and_read_only(world):
    seen = {}
    stream = export_stream(project=world.project, chunk_size=1)
    next(stream)
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        seen["isolation"] = cursor.fetchone()[0]
        cursor.execute("SHOW transaction_read_only")
        seen["read_only"] = cursor.fetchone()[0]
    stream.close()
    assert seen == {"isolation": "repeatable read", "read_only": "on"}
