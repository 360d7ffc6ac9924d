"""Filtering on explicit fields only: an unknown parameter, a `__` lookup or an ordering that
is not listed is a 400, never silently passed to the ORM."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

RESERVED = {"cursor", "page_size", "format", "q", "ordering", "limit"}
MAX_ID = 2**63 - 1


def parse_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: "Must be an integer."}) from None
    if number < 0 or number > MAX_ID:
        raise ValidationError({name: "Out of range."})
    return number


def apply_filters(
    request: Request,
    queryset: QuerySet[Any],
    *,
    fields: dict[str, tuple[str, type]],
    orderings: dict[str, str] | None = None,
    extra: set[str] | frozenset[str] = frozenset(),
) -> QuerySet[Any]:
    """`fields` maps a query parameter to (ORM lookup, type); only those are accepted."""
    params = request.query_params
    unknown = [k for k in params if k not in fields and k not in RESERVED and k not in extra]
    if unknown:
        raise ValidationError({k: "Unknown filter." for k in unknown[:20]})
    for name, (lookup, kind) in fields.items():
        if name not in params:
            continue
        raw = params.get(name, "")
        value: Any
        if kind is int:
            value = parse_int(raw, name)
        elif kind is bool:
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValidationError({name: "Must be true or false."})
            value = raw.lower() in {"true", "1"}
        else:
            if len(raw) > 200 or "\x00" in raw:
                raise ValidationError({name: "Invalid value."})
            value = raw
        queryset = queryset.filter(**{lookup: value})
    ordering = params.get("ordering")
    if ordering:
        allowed = orderings or {}
        key = ordering.lstrip("-")
        if key not in allowed:
            raise ValidationError({"ordering": f"Allowed: {', '.join(sorted(allowed)) or 'none'}."})
        queryset = queryset.order_by(("-" if ordering.startswith("-") else "") + allowed[key])
    return queryset


def check_page_size(request: Request, maximum: int = 500) -> None:
    raw = request.query_params.get("page_size")
    if raw is not None:
        size = parse_int(raw, "page_size")
        if size < 1 or size > maximum:
            raise ValidationError({"page_size": f"Must be between 1 and {maximum}."})
