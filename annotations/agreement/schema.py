"""Field descriptions for the agreement code: which level of measurement, which gate, which
answers count as missing.

Two schema shapes are accepted, so callers can pass whatever they hold:

* the short form, ``{field: {"type", "choices", "gate"?, "required"?, "missing"?, "level"?}}``;
* the project's schema document (``annotations/schema/default.json``): ``{"claim": {"fields":
  [...]}, "pair": {...}}`` or one ``{"fields": [...]}`` block, with ``"when"`` as the gate and
  choices as ``[{"value": ...}]``.

Types map to levels: ``single`` and ``bool`` are nominal, ``ordinal`` is ordinal, ``multi``
uses the MASI set distance (``"level": "jaccard"`` switches to Jaccard), ``interval`` /
``number`` are interval, ``span`` fields get span F1 instead of alpha, ``text`` is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Answers that are labels in the form but count as missing for agreement; their rate is
#: reported per field ("cannot_judge" for verifiability, "n/a" for source_named and
#: commitment, "unsure" for same_event).
MISSING_TOKENS: frozenset[str] = frozenset({"cannot_judge", "n/a", "unsure"})

_LEVEL_OF_TYPE = {
    "single": "nominal",
    "bool": "nominal",
    "ordinal": "ordinal",
    "multi": "masi",
    "interval": "interval",
    "number": "interval",
    "span": None,
    "text": None,
}
ALPHA_LEVELS = ("nominal", "ordinal", "interval", "masi", "jaccard")


@dataclass(frozen=True)
class Gate:
    """``field`` must equal ``equals`` (or be one of ``one_of``; or, with neither, be
    present) for the gated field to apply to an annotator's labels."""

    field: str
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    has_equals: bool = False

    def holds(self, value: Any) -> bool:
        if value is None:
            return False
        if self.has_equals:
            if isinstance(self.equals, bool):  # 1 is not True here
                return isinstance(value, bool) and value is self.equals
            return bool(value == self.equals)
        if self.one_of is not None:
            return value in self.one_of
        return True

    def to_dict(self) -> dict[str, Any]:
        if self.has_equals:
            return {"field": self.field, "equals": self.equals}
        if self.one_of is not None:
            return {"field": self.field, "in": list(self.one_of)}
        return {"field": self.field}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    choices: tuple[Any, ...] = ()
    gate: Gate | None = None
    required: bool = False
    missing: frozenset[str] = MISSING_TOKENS
    level: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_alpha(self) -> bool:
        return self.level in ALPHA_LEVELS

    @property
    def is_nominal_like(self) -> bool:
        """Fields with one categorical answer: kappa, confusion and aggregation apply."""
        return self.type in ("single", "bool", "ordinal")

    @property
    def value_domain(self) -> list[Any] | None:
        """Ordered choices for ordinal fields (abstention tokens removed)."""
        if self.level != "ordinal" or not self.choices:
            return None
        return [c for c in self.choices if not (isinstance(c, str) and c in self.missing)]


def _gate_from(raw: Any) -> Gate | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping) or "field" not in raw:
        raise ValueError(f"A gate needs a 'field': {raw!r}")
    if "equals" in raw:
        return Gate(field=str(raw["field"]), equals=raw["equals"], has_equals=True)
    if "in" in raw:
        return Gate(field=str(raw["field"]), one_of=tuple(raw["in"]))
    return Gate(field=str(raw["field"]))


def _choice_values(raw: Iterable[Any] | None) -> tuple[Any, ...]:
    out = []
    for c in raw or ():
        out.append(c.get("value") if isinstance(c, Mapping) else c)
    return tuple(out)


def _spec(name: str, raw: Mapping[str, Any]) -> FieldSpec:
    ftype = str(raw.get("type", "single"))
    if ftype not in _LEVEL_OF_TYPE:
        raise ValueError(f"Unknown field type {ftype!r} for {name!r}")
    level = raw.get("level", _LEVEL_OF_TYPE[ftype])
    if level is not None and level not in ALPHA_LEVELS:
        raise ValueError(f"Unknown level {level!r} for {name!r}")
    missing = raw.get("missing")
    known = {"type", "choices", "gate", "when", "required", "missing", "level", "name"}
    return FieldSpec(
        name=name,
        type=ftype,
        choices=_choice_values(raw.get("choices")),
        gate=_gate_from(raw.get("gate", raw.get("when"))),
        required=bool(raw.get("required", False)),
        missing=MISSING_TOKENS if missing is None else frozenset(missing),
        level=level,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def normalize_schema(schema: Any = None, kind: str = "claim") -> list[FieldSpec]:
    """Return the fields of ``schema`` (any accepted shape; ``None`` = the default schema of
    ``kind``) as :class:`FieldSpec`, gate fields before the fields they gate."""
    if schema is None:
        schema = DEFAULT_PAIR_SCHEMA if kind == "pair" else DEFAULT_CLAIM_SCHEMA
    if isinstance(schema, Mapping) and kind in schema and isinstance(schema[kind], Mapping):
        schema = schema[kind]
    if isinstance(schema, Mapping) and isinstance(schema.get("fields"), (list, tuple)):
        specs = [_spec(str(f["name"]), f) for f in schema["fields"]]
    elif isinstance(schema, Mapping) and isinstance(schema.get("fields"), Mapping):
        specs = [_spec(str(k), v) for k, v in schema["fields"].items()]
    elif isinstance(schema, Mapping):
        specs = [_spec(str(k), v) for k, v in schema.items() if isinstance(v, Mapping)]
    else:
        raise ValueError("A schema is a mapping of field name to description.")
    names = {s.name for s in specs}
    for s in specs:
        if s.gate is not None and s.gate.field not in names:
            raise ValueError(f"{s.name!r} is gated on unknown field {s.gate.field!r}")
    # order: gate fields first (stable), cycles rejected
    ordered: list[FieldSpec] = []
    placed: set[str] = set()
    pending = list(specs)
    while pending:
        progressed = False
        for s in list(pending):
            if s.gate is None or s.gate.field in placed:
                ordered.append(s)
                placed.add(s.name)
                pending.remove(s)
                progressed = True
        if not progressed:
            raise ValueError(f"Gate cycle among {[s.name for s in pending]}")
    return ordered


def required_fields(schema: Any = None, kind: str = "claim") -> list[str]:
    return [s.name for s in normalize_schema(schema, kind) if s.required]


def _choices(*values: Any) -> list[Any]:
    return list(values)


_IS_ATTR = {"field": "is_attributed", "equals": True}
_LOADED = {"field": "loaded_language", "equals": True}

#: label-schema.md families A and B in the short form.
DEFAULT_CLAIM_SCHEMA: dict[str, dict[str, Any]] = {
    "is_attributed": {"type": "bool", "choices": [True, False], "required": True},
    "source_span": {"type": "span", "gate": _IS_ATTR},
    "cue_span": {"type": "span", "gate": _IS_ATTR},
    "frame_outside_unit": {"type": "bool", "choices": [True, False], "gate": _IS_ATTR},
    "source_type": {
        "type": "single",
        "gate": _IS_ATTR,
        "choices": _choices(
            "author",
            "official_domestic",
            "official_foreign",
            "state_media",
            "armed_group",
            "intl_org",
            "monitor_ngo",
            "other_media",
            "expert",
            "witness_local",
            "individual",
            "document",
            "social_media",
            "unnamed_vague",
            "unknown",
        ),
    },
    "source_named": {"type": "single", "choices": ["yes", "no", "n/a"], "gate": _IS_ATTR},
    "commitment": {
        "type": "single",
        "choices": ["asserts", "denies", "hedged", "uncommitted", "n/a"],
    },
    "author_stance": {
        "type": "single",
        "choices": ["neutral", "distancing", "endorsing"],
        "gate": _IS_ATTR,
    },
    "hedge_span": {"type": "span"},
    "verifiability": {
        "type": "single",
        "required": True,
        "choices": ["checkable_fact", "prediction", "opinion", "rhetoric_nonclaim", "cannot_judge"],
    },
    "speech_act_checkable": {"type": "bool", "choices": [True, False]},
    "claim_types": {
        "type": "multi",
        "gate": {"field": "verifiability", "equals": "checkable_fact"},
        "choices": [
            "event",
            "numerical",
            "causal_responsibility",
            "law_rule",
            "attribute_identity",
        ],
    },
    "loaded_language": {"type": "bool", "choices": [True, False]},
    "loaded_span": {"type": "span", "gate": _LOADED},
    "loaded_by": {"type": "single", "choices": ["author", "source"], "gate": _LOADED},
    "check_worthiness": {"type": "ordinal", "choices": [1, 2, 3, 4, 5]},
}

#: label-schema.md family C (pairs of units).
DEFAULT_PAIR_SCHEMA: dict[str, dict[str, Any]] = {
    "same_event": {"type": "single", "choices": ["same", "different", "unsure"], "required": True},
    "relation": {
        "type": "single",
        "choices": ["agree", "disagree", "discuss"],
        "gate": {"field": "same_event", "equals": "same"},
    },
    "conflict_aspects": {
        "type": "multi",
        "choices": [
            "occurrence",
            "agent",
            "target",
            "casualty_number",
            "location",
            "time",
            "method",
        ],
        "gate": {"field": "relation", "equals": "disagree"},
    },
}
