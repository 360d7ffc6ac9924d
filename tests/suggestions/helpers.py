"""Synthetic adjudicated data for the suggestion tests: claims whose wording decides their
verifiability, settled with a gold label as a reviewer would leave them."""

from __future__ import annotations

from itertools import count
from typing import Any

from django.utils import timezone

from annotations.models import Item, Project
from annotations.services.items import items_create_for_claims
from tests.queue.helpers import make_article

_n = count(1)

TOWNS = ["Khan Shaykhun", "Idlib", "Hama", "Aleppo", "Latakia", "Daraa", "Homs", "Raqqa"]
TEMPLATES = {
    "checkable_fact": "Troops killed {k} fighters in {town} on Tuesday, the count shows {j}.",
    "opinion": "It is a shameful and dangerous game that {town} keeps playing, truly awful {j}.",
    "prediction": "The army will probably attack {town} next month and may win soon {j}.",
}


def sentence(label: str) -> str:
    n = next(_n)
    return TEMPLATES[label].format(k=n % 40 + 2, j=n, town=TOWNS[n % len(TOWNS)])


def make_open_items(project: Project, labels: list[str]) -> list[Item]:
    """Open claim items whose texts follow the templates of `labels` (one article per 5)."""
    claims = []
    for start in range(0, len(labels), 5):
        claims += make_article(project, [sentence(lab) for lab in labels[start : start + 5]])
    items_create_for_claims(project=project, claims=claims)
    return list(Item.objects.filter(claim__in=claims).order_by("id"))


def settle(items: list[Item], labels: list[str], **extra: Any) -> list[Item]:
    """Mark items settled with a gold verifiability (what item_decide leaves on the row)."""
    now = timezone.now()
    for item, label in zip(items, labels, strict=True):
        item.status = Item.Status.SETTLED
        item.gold = {"is_attributed": False, "verifiability": label, **extra}
        item.settled_at = now
        item.save(update_fields=["status", "gold", "settled_at"])
    return items


def adjudicated(project: Project, per_class: int) -> list[Item]:
    labels = [lab for lab in TEMPLATES for _ in range(per_class)]
    return settle(make_open_items(project, labels), labels)
