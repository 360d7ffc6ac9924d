"""Tables of the workbench, one module per feature; import from here."""

from .core import Job, Membership, Project, Role, SchemaVersion
from .corpus import Article, ArticleProvenance, Claim, Document, NamedSource, Outlet, SegmentFix
from .exports import (
    AgreementReport,
    DatasetVersion,
    Pseudonym,
    SplitInputChange,
    SuggestionModel,
)
from .pairs import ClaimEmbedding, ClaimPair, EventCluster
from .queue import Assignment, Decision, Item, Label, LabelRevision

__all__ = [
    "AgreementReport",
    "Article",
    "ArticleProvenance",
    "Assignment",
    "Claim",
    "ClaimEmbedding",
    "ClaimPair",
    "DatasetVersion",
    "Decision",
    "Document",
    "EventCluster",
    "Item",
    "Job",
    "Label",
    "LabelRevision",
    "Membership",
    "NamedSource",
    "Outlet",
    "Project",
    "Pseudonym",
    "Role",
    "SchemaVersion",
    "SegmentFix",
    "SplitInputChange",
    "SuggestionModel",
]
