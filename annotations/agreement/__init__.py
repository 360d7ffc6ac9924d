"""Agreement and aggregation for the label schema: pure functions over arrays and plain
records, no Django (label-schema.md, "Agreement and aggregation").

Public API
----------
Alpha (``alpha.py``): :func:`krippendorff_alpha`, :func:`alpha_ci`, :func:`set_distance`,
:class:`AlphaResult`, :class:`FieldAlpha` (unit types computed once; subsets, bootstrap).
Kappa (``kappa.py``): :func:`cohen_kappa`, :func:`pairwise_kappa`, :class:`KappaMatrix`.
Spans (``spans.py``): :func:`tokenize`, :func:`span_f1`, :func:`span_pairs_f1`,
:class:`SpanAgreement`.
Annotators (``annotators.py``): :func:`annotator_stats`.
Aggregation (``aggregation.py``): :func:`aggregate_field`, :func:`review_uncertainty`,
:func:`should_auto_settle`, :class:`FieldAggregate`.
Report (``report.py``, ``table.py``): :func:`agreement_report`, :func:`agreement_by_slice`,
:func:`review_queue`,
:class:`LabelTable`. Encoding (``encoding.py``): :func:`encode_values`.
Schema (``schema.py``): :func:`normalize_schema`, :func:`required_fields`,
``DEFAULT_CLAIM_SCHEMA``, ``DEFAULT_PAIR_SCHEMA``, ``MISSING_TOKENS``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aggregation import (
        FieldAggregate,
        aggregate_field,
        review_uncertainty,
    )
    from .alpha import (
        AlphaResult,
        FieldAlpha,
        alpha_ci,
        encode_values,
        krippendorff_alpha,
        set_distance,
    )
    from .annotators import annotator_stats
    from .kappa import KappaMatrix, cohen_kappa, pairwise_kappa
    from .report import agreement_by_slice, agreement_report, review_queue
    from .schema import (
        DEFAULT_CLAIM_SCHEMA,
        DEFAULT_PAIR_SCHEMA,
        MISSING_TOKENS,
        FieldSpec,
        Gate,
        normalize_schema,
        required_fields,
    )
    from .settle import should_auto_settle
    from .spans import SpanAgreement, span_f1, span_pairs_f1, tokenize
    from .table import LabelTable

# Loaded on first use (PEP 562): importing one light module of the package (settle.py) must
# not import numpy and pandas through every other one.
_WHERE = {
    "AlphaResult": "alpha",
    "DEFAULT_CLAIM_SCHEMA": "schema",
    "DEFAULT_PAIR_SCHEMA": "schema",
    "FieldAggregate": "aggregation",
    "FieldAlpha": "alpha",
    "FieldSpec": "schema",
    "Gate": "schema",
    "KappaMatrix": "kappa",
    "LabelTable": "table",
    "MISSING_TOKENS": "schema",
    "SpanAgreement": "spans",
    "aggregate_field": "aggregation",
    "agreement_by_slice": "report",
    "agreement_report": "report",
    "alpha_ci": "alpha",
    "annotator_stats": "annotators",
    "cohen_kappa": "kappa",
    "encode_values": "alpha",
    "krippendorff_alpha": "alpha",
    "normalize_schema": "schema",
    "pairwise_kappa": "kappa",
    "required_fields": "schema",
    "review_queue": "report",
    "review_uncertainty": "aggregation",
    "set_distance": "alpha",
    "should_auto_settle": "settle",
    "span_f1": "spans",
    "span_pairs_f1": "spans",
    "tokenize": "spans",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_CLAIM_SCHEMA",
    "DEFAULT_PAIR_SCHEMA",
    "MISSING_TOKENS",
    "AlphaResult",
    "FieldAggregate",
    "FieldAlpha",
    "FieldSpec",
    "Gate",
    "KappaMatrix",
    "LabelTable",
    "SpanAgreement",
    "aggregate_field",
    "agreement_by_slice",
    "agreement_report",
    "alpha_ci",
    "annotator_stats",
    "cohen_kappa",
    "encode_values",
    "krippendorff_alpha",
    "normalize_schema",
    "pairwise_kappa",
    "required_fields",
    "review_queue",
    "review_uncertainty",
    "set_distance",
    "should_auto_settle",
    "span_f1",
    "span_pairs_f1",
    "tokenize",
]
