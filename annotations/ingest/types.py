"""Value types of the ingest pipeline.

All offsets are ``[start, end)`` positions in the decoded text of one
:class:`SourceDoc` (Python ``str`` indices), so ``doc.text[u.start:u.end]`` is
the unit's text.  Units never carry surrounding whitespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

# label-schema.md section 0
UNIT_KINDS: Final = (
    "body",
    "headline",
    "subheading",
    "caption",
    "byline",
    "dateline",
    "boilerplate",
    "cross_link",
    "list_item",
    "quote_continuation",
)
UNIT_DEFECTS: Final = ("none", "artifact", "truncated", "fragment", "glued")

# Units that carry the article's own propositions: these are the claim
# candidates, and the content hash is computed over them.
CLAIM_KINDS: Final = frozenset({"body", "quote_continuation", "list_item"})

FORMATS: Final = ("text", "html", "jsonl")


class SentenceUnit(NamedTuple):
    """One labelling unit: a sentence of a body paragraph, or a whole short line
    (headline, byline, caption, boilerplate...).  ``unit_kind`` and
    ``unit_defect`` take the values of ``UNIT_KINDS`` / ``UNIT_DEFECTS``;
    ``claim_likelihood`` is a cheap prior in [0, 1] (see likelihood.py).

    A named tuple, not a dataclass: a large import makes hundreds of thousands of
    them, and a tuple is several times cheaper to build."""

    start: int
    end: int
    language: str
    unit_kind: str
    unit_defect: str
    claim_likelihood: float


class ParagraphUnit(NamedTuple):
    """One paragraph (a line, or a block of hard-wrapped lines) of an article;
    ``unit_kind`` is the kind shared by its sentences (a named tuple, like SentenceUnit)."""

    start: int
    end: int
    unit_kind: str
    language: str


@dataclass(frozen=True, slots=True)
class ArticleUnit:
    """One article of a page.

    ``start``/``end`` cover everything attributed to the article (title,
    metadata lines, body, trailing boilerplate); ``title_start``/``title_end``
    locate the title line (both equal ``start`` and ``title`` is ``""`` when the
    article has no title).  ``published`` is an ISO date ``yyyy-mm-dd`` or None;
    ``language`` is an ISO 639-1 code (``und`` when undetermined).
    ``content_hash`` is the sha256 of the normalised claim-bearing text (see
    ``articles.content_hash``): the same article stored twice, or reposted
    inside another page, hashes equal.
    """

    start: int
    end: int
    title: str
    title_start: int
    title_end: int
    outlet: str | None
    byline: str | None
    published: str | None
    language: str
    content_hash: str
    sentences: list[SentenceUnit] = field(default_factory=list)
    paragraphs: list[ParagraphUnit] = field(default_factory=list)
    dateline: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """One decoded document (a plain-text or HTML file, or one JSONL record):
    ``text`` is what every offset of its articles refers to."""

    name: str
    text: str
    articles: list[ArticleUnit]
    format: str
