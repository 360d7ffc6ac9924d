"""The label schema is data. Everything about a label payload — which fields exist, which are
required, which values are allowed, when a field applies — is read from the schema document,
so an admin can add a field or a choice without code."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FIELD_TYPES = {"bool", "single", "multi", "ordinal", "span", "text"}
KINDS = ("claim", "pair")


class SchemaError(ValueError):
    """The schema document itself is malformed."""


@cache
def _default_schema_text() -> str:
    return (Path(__file__).with_name("default.json")).read_text(encoding="utf-8")


def default_schema() -> dict[str, Any]:
    return json.loads(_default_schema_text())


def default_guidelines() -> str:
    return (Path(__file__).with_name("guidelines.md")).read_text(encoding="utf-8")


def check_schema(schema: Any) -> dict[str, Any]:
    """Validate a schema document and return it; raise SchemaError with a clear message."""
    if not isinstance(schema, dict):
        raise SchemaError("The schema must be a JSON object.")
    for kind in KINDS:
        block = schema.get(kind)
        if not isinstance(block, dict) or not isinstance(block.get("fields"), list):
            raise SchemaError(f"The schema needs a '{kind}' object with a 'fields' list.")
        names: set[str] = set()
        for i, field in enumerate(block["fields"]):
            where = f"{kind}.fields[{i}]"
            if not isinstance(field, dict):
                raise SchemaError(f"{where} must be an object.")
            name = field.get("name")
            if not isinstance(name, str) or not name.isidentifier():
                raise SchemaError(f"{where}: 'name' must be an identifier.")
            if name in names:
                raise SchemaError(f"{where}: duplicate field '{name}'.")
            names.add(name)
            ftype = field.get("type")
            if ftype not in FIELD_TYPES:
                raise SchemaError(f"{where}: type must be one of {sorted(FIELD_TYPES)}.")
            if ftype in {"bool", "single", "multi", "ordinal"}:
                choices = field.get("choices")
                if not isinstance(choices, list) or not choices:
                    raise SchemaError(f"{where}: '{name}' needs a non-empty 'choices' list.")
                values = [c.get("value") if isinstance(c, dict) else None for c in choices]
                if any(v is None for v in values) or len({json.dumps(v) for v in values}) != len(
                    values
                ):
                    raise SchemaError(f"{where}: choices need distinct, non-null 'value's.")
            when = field.get("when")
            if when is not None and (
                not isinstance(when, dict) or when.get("field") not in names - {name}
            ):
                raise SchemaError(f"{where}: 'when' must name a field defined before '{name}'.")
        required = [f["name"] for f in block["fields"] if f.get("required")]
        if not required:
            raise SchemaError(f"The '{kind}' schema needs at least one required field.")
    return schema


@dataclass(frozen=True)
class ValidationResult:
    values: dict[str, Any]
    errors: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        return not self.errors


def _echo(value: Any) -> str:
    """User text quoted back in an error: short, and encodable (a lone surrogate or NUL would
    break the JSON response)."""
    text = str(value)[:64]
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _condition_holds(when: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    if not when:
        return True
    current = values.get(when["field"])
    if "equals" in when:
        return bool(current == when["equals"])
    if "in" in when:
        return current in when["in"]
    return current is not None


def fields_of(schema: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(schema[kind]["fields"])


def validate_labels(
    payload: Any, schema: dict[str, Any], kind: str, *, text_length: int | None = None
) -> ValidationResult:
    """Check a label payload against the schema. Fields whose condition does not hold are
    dropped; unknown fields, wrong types and missing required fields are errors."""
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        return ValidationResult({}, {"labels": ["Labels must be a JSON object."]})
    fields = fields_of(schema, kind)
    known = {f["name"] for f in fields}
    for name in payload:
        if name not in known:
            errors.setdefault(_echo(name), []).append("Unknown field for this schema.")
    clean: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        if not _condition_holds(field.get("when"), clean):
            continue
        value = payload.get(name)
        if value is None or (
            value == [] and field["type"] == "multi" and not field.get("required")
        ):
            if field.get("required") or (field.get("required_when") and field.get("when")):
                errors.setdefault(name, []).append("This field is required.")
            elif value == []:
                clean[name] = []
            continue
        problem = _check_value(field, value, text_length)
        if problem:
            errors.setdefault(name, []).append(problem)
        else:
            clean[name] = copy.deepcopy(value)
    return ValidationResult(clean, errors)


def _check_value(field: dict[str, Any], value: Any, text_length: int | None) -> str | None:
    ftype = field["type"]
    allowed = [c["value"] for c in field.get("choices", [])]
    if ftype == "bool":
        if not isinstance(value, bool):
            return "Must be true or false."
        return None if value in allowed else "Not an allowed value."
    if ftype == "single":
        if isinstance(value, bool) or value not in allowed:
            return f"Must be one of: {', '.join(map(str, allowed))}."
        return None
    if ftype == "ordinal":
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            return f"Must be one of: {', '.join(map(str, allowed))}."
        return None
    if ftype == "multi":
        if not isinstance(value, list) or any(isinstance(v, (list, dict)) for v in value):
            return "Must be a list of choices."
        if len(set(map(str, value))) != len(value):
            return "Choices must not repeat."
        bad = [v for v in value if v not in allowed]
        return f"Not allowed: {', '.join(map(_echo, bad))}." if bad else None
    if ftype == "span":
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            return "A span is [start, end] with integer character offsets."
        start, end = value
        if start < 0 or end <= start:
            return "A span needs 0 <= start < end."
        if text_length is not None and end > text_length:
            return f"The span ends after the unit's text ({text_length} characters)."
        return None
    if ftype == "text":
        if not isinstance(value, str) or len(value) > 2000:
            return "Must be a string of at most 2000 characters."
        return None
    return "Unsupported field type."
