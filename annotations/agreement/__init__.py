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

from .aggregation import (
    FieldAggregate,
    aggregate_field,
    review_uncertainty,
    should_auto_settle,
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
from .spans import SpanAgreement, span_f1, span_pairs_f1, tokenize
from .table import LabelTable

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
