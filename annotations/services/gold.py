"""Gold items: an admin gives an item the labels it is expected to get. Gold items are mixed
into annotators' queues unannounced (the queue reads Item.is_gold; nothing annotator-facing
shows it), and each annotator's accuracy on them is reported on the agreement dashboard."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Item
from ..schema.validation import validate_labels
from .adjudication import item_kind_schema, item_text_length


def gold_item_set(*, item: Item, expected: dict[str, Any] | None, user: Any) -> Item:
    """Mark `item` as a gold item with `expected` labels (validated against the schema), or
    unmark it with expected=None."""
    with transaction.atomic():
        locked = (
            Item.objects.select_for_update(of=("self",))
            .select_related("project", "claim")
            .get(pk=item.pk)
        )
        if expected is None:
            locked.is_gold = False
            locked.gold_expected = None
        else:
            schema, kind = item_kind_schema(locked)
            result = validate_labels(expected, schema, kind, text_length=item_text_length(locked))
            if not result.ok:
                raise ValidationError(result.errors)
            locked.is_gold = True
            locked.gold_expected = result.values
        locked.save(update_fields=["is_gold", "gold_expected"])
    item.is_gold, item.gold_expected = locked.is_gold, locked.gold_expected
    return item
