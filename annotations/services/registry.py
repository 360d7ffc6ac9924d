"""Edits to the registry of outlets and named sources. Affiliation is recorded here, by admins,
and never in annotators' labels."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..models import NamedSource, Outlet

OUTLET_FIELDS = frozenset({"name", "country", "kind", "affiliation", "reviewed"})
SOURCE_FIELDS = frozenset({"name", "source_type", "affiliation", "country", "reviewed"})


def _apply(obj: Any, allowed: frozenset[str], changes: dict[str, Any]) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    changed = []
    for key, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def outlet_update(*, outlet: Outlet, **changes: Any) -> Outlet:
    """Change an outlet's name, country, kind, affiliation or reviewed flag. The matching key
    stays as found at import, so later imports still find this outlet."""
    with transaction.atomic():
        locked = Outlet.objects.select_for_update().get(pk=outlet.pk)
        changed = _apply(locked, OUTLET_FIELDS, changes)
        if changed:
            locked.full_clean(exclude=["project"])
            locked.save(update_fields=changed)
    return locked


def named_source_update(*, source: NamedSource, **changes: Any) -> NamedSource:
    """Change a named source's name, type, affiliation, country or reviewed flag."""
    with transaction.atomic():
        locked = NamedSource.objects.select_for_update().get(pk=source.pk)
        changed = _apply(locked, SOURCE_FIELDS, changes)
        if changed:
            locked.full_clean(exclude=["project"])
            locked.save(update_fields=changed)
    return locked
