"""The labelled probe set: same-event groups over the sample page.

``tests/data/pairing/probe.json`` lists the sample's articles (title line, outlet,
language, date), the same-event groups (exact sentence texts), sentences that are
related but undecided for a group ("unsure": left out of both recall and training), and
explicit negative pairs. Arabic sentences marked ``"synthetic": true`` were translated
from English sentences of the sample by the probe's author, because the sample's two
Arabic columns cover few of its events; each synthetic sentence sits in an "Arabic
edition" article of the same outlet as its English source, so the different-outlet rule
keeps it from being paired with its own source and it is measured only against other
outlets' reports.

The pool is every sentence of the sample (split here with a simple rule, independent of
the ingest pipeline) plus the synthetic sentences. Claim ids are ``"<article>.<n>"``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from annotations.pairing.candidates import ClaimInfo

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "pairing"
PROBE_PATH = DATA_DIR / "probe.json"
SAMPLE_PATH = DATA_DIR / "sample.txt"

_ABBREVIATIONS = ("U.S", "Mr", "Dr", "Gen", "No", "var", "A.M", "P.M", "e.g", "i.e", "vs", "St")
_SPLIT = re.compile(r"(?<=[.!?؟])[\"”’]?\s+(?=[\"“‘«(\[]?[A-Z0-9\u0600-\u06ff–-])")


def split_sentences(paragraph: str) -> list[str]:
    """A simple sentence splitter (good enough for the probe; not the ingest splitter)."""
    paragraph = " ".join(paragraph.split())
    if not paragraph:
        return []
    pieces: list[str] = []
    start = 0
    for m in _SPLIT.finditer(paragraph):
        head = paragraph[start : m.start()].rstrip()
        if any(head.endswith(a + ".") for a in _ABBREVIATIONS):
            continue
        piece = paragraph[start : m.end()].strip()
        if piece:
            pieces.append(piece)
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


@dataclass
class Probe:
    pool: list[ClaimInfo]
    events: dict[str, list[str]]  # event id -> claim ids
    event_of: dict[str, str]  # claim id -> event id
    unsure: dict[str, set[str]]  # event id -> claim ids left out for that event
    negative_pairs: list[tuple[str, str]]
    synthetic: set[str]
    articles: dict[str, dict[str, Any]]
    by_id: dict[str, ClaimInfo] = field(default_factory=dict)

    def label(self, a: str, b: str) -> int | None:
        """1 same event, 0 not, None when undecided (a or b unsure for the other's event)."""
        ea, eb = self.event_of.get(a), self.event_of.get(b)
        if ea is not None and eb is not None:
            return int(ea == eb)
        for event, other in ((ea, b), (eb, a)):
            if event is not None and other in self.unsure.get(event, set()):
                return None
        return 0 if (ea is not None or eb is not None) else None

    def partners(self, claim_id: str) -> set[str]:
        """Same-event claims of other outlet groups (the pairs recall is measured on)."""
        from annotations.pairing.features import group_key

        event = self.event_of.get(claim_id)
        if event is None:
            return set()
        own = group_key(self.by_id[claim_id])
        return {c for c in self.events[event] if group_key(self.by_id[c]) != own}


def _articles(sample: str, articles: list[dict[str, Any]]) -> dict[str, list[str]]:
    lines = [" ".join(line.split()) for line in sample.splitlines() if line.strip()]
    starts: list[int] = []
    pos = 0
    for art in articles:
        title = " ".join(art["title"].split())
        while pos < len(lines) and lines[pos] != title:
            pos += 1
        if pos == len(lines):
            raise ValueError(f"article title not found in order: {art['title']!r}")
        starts.append(pos)
        pos += 1
    bounds = [*starts[1:], len(lines)]
    return {
        art["id"]: [s for line in lines[a:b] for s in split_sentences(line)]
        for art, a, b in zip(articles, starts, bounds, strict=True)
    }


_EMBEDDINGS: dict[str, np.ndarray] = {}


def _with_embeddings(pool: list[ClaimInfo]) -> list[ClaimInfo]:
    """The pool with sentence vectors attached (computed once per process and text)."""
    from dataclasses import replace

    from annotations.pairing import encoder

    missing = sorted({c.text for c in pool if c.text not in _EMBEDDINGS})
    if missing:
        _EMBEDDINGS.update(zip(missing, encoder.encode(missing), strict=True))
    return [replace(c, embedding=_EMBEDDINGS[c.text]) for c in pool]


def load_probe(
    probe_path: Path | None = None, sample_path: Path | None = None, embed: bool = True
) -> Probe:
    """The pool of claims and the labels; raises if a probe text is not a pool sentence.

    With ``embed`` the claims carry their sentence vectors (memoised per process, so the
    quality test and :func:`~annotations.pairing.calibration.fit_calibration` encode once).
    """
    spec = json.loads((probe_path or PROBE_PATH).read_text(encoding="utf-8"))
    sample = (sample_path or SAMPLE_PATH).read_text(encoding="utf-8")
    articles = {a["id"]: a for a in spec["articles"]}
    sentences = _articles(sample, spec["articles"])
    pool: list[ClaimInfo] = []
    lookup: dict[tuple[str, str], str] = {}

    def add(article_id: str, text: str) -> str:
        art = articles[article_id]
        cid = f"{article_id}.{sum(1 for c in pool if c.article_id == article_id):03d}"
        published = date.fromisoformat(art["published"]) if art.get("published") else None
        pool.append(ClaimInfo(cid, article_id, art.get("outlet"), art["language"], text, published))
        lookup.setdefault((article_id, text), cid)
        return cid

    for article_id, texts in sentences.items():
        for text in texts:
            add(article_id, text)
    synthetic: set[str] = set()
    for art in spec.get("synthetic_articles", []):
        articles[art["id"]] = art
    events: dict[str, list[str]] = {}
    event_of: dict[str, str] = {}
    unsure: dict[str, set[str]] = {}

    def resolve(ref: dict[str, Any]) -> str:
        key = (ref["article"], ref["text"])
        if ref.get("synthetic"):
            if key not in lookup:
                synthetic.add(add(*key))
            return lookup[key]
        if key not in lookup:
            raise ValueError(f"probe text is not a sentence of {ref['article']}: {ref['text']!r}")
        return lookup[key]

    for event in spec["events"]:
        members = [resolve(ref) for ref in event["claims"]]
        events[event["id"]] = members
        for cid in members:
            if cid in event_of:
                raise ValueError(f"{cid} is in two events")
            event_of[cid] = event["id"]
        unsure[event["id"]] = {resolve(ref) for ref in event.get("unsure", [])}
    negatives = [(resolve(n["a"]), resolve(n["b"])) for n in spec.get("negatives", [])]
    if embed:
        pool = _with_embeddings(pool)
    probe = Probe(pool, events, event_of, unsure, negatives, synthetic, articles)
    probe.by_id = {str(c.id): c for c in pool}
    return probe


@dataclass
class Figures:
    """Recall of true partners among each probe claim's ranked list, and precision."""

    hits: int = 0
    possible: int = 0
    per_event: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.hits / self.possible if self.possible else float("nan")


def recall_at_k(
    probe: Probe,
    lists: dict[Any, list[Any]],
    k: int = 10,
    cross_language: bool | None = None,
    synthetic: bool | None = None,
    condensed: bool = True,
) -> Figures:
    """Per-claim recall@k of true partners.

    For a probe claim with partner set P (same event, other outlet group), the claim
    contributes ``|top-k ∩ P|`` hits out of ``min(|P|, k)`` possible. ``condensed``
    removes the claim's "unsure" sentences from its list before the cut (they are neither
    right nor wrong). ``cross_language=True`` measures other-language retrieval: both P
    and the ranked list are restricted to claims in the other language before the cut
    (``False``: same language). ``synthetic`` keeps only pairs that involve (True) or do
    not involve (False) a synthetic claim.
    """
    figures = Figures()
    for cid, event in sorted(probe.event_of.items()):
        lang = probe.by_id[cid].language

        def keep(other: str, cid: str = cid, lang: str = lang) -> bool:
            other_language = probe.by_id[other].language != lang
            if cross_language is not None and other_language != cross_language:
                return False
            if synthetic is not None:
                involves = cid in probe.synthetic or other in probe.synthetic
                if involves != synthetic:
                    return False
            return True

        partners = {p for p in probe.partners(cid) if keep(p)}
        if not partners:
            continue
        ranked = [c.b for c in lists.get(cid, []) if keep(c.b)]
        if condensed:
            ranked = [b for b in ranked if b not in probe.unsure[event]]
        hits = len(partners & set(ranked[:k]))
        possible = min(len(partners), k)
        figures.hits += hits
        figures.possible += possible
        h, p = figures.per_event.get(event, (0, 0))
        figures.per_event[event] = (h + hits, p + possible)
    return figures


def pair_recall(
    probe: Probe, pairs: list[Any], cross_language: bool | None = None
) -> tuple[float, int, int]:
    """Share of true same-event pairs (different outlet groups) present in ``pairs``."""
    found = {frozenset((p.a, p.b)) for p in pairs}
    true = total = 0
    for members in probe.events.values():
        for x in members:
            for y in probe.partners(x):
                if x >= y:
                    continue
                cross = probe.by_id[x].language != probe.by_id[y].language
                if cross_language is not None and cross != cross_language:
                    continue
                total += 1
                true += frozenset((x, y)) in found
    return (true / total if total else float("nan")), true, total


def precision_at(probe: Probe, pairs: list[Any], threshold: float) -> tuple[float, int, int]:
    """Precision of proposed pairs at ``threshold`` among pairs with a known label.

    Returns ``(precision, true, judged)``: a pair is judged when both claims are labelled
    (in an event, or one in an event and the other unlabelled = different event) and
    neither is unsure for the other's event.
    """
    true = judged = 0
    for p in pairs:
        if p.score < threshold:
            continue
        label = probe.label(p.a, p.b)
        if label is None:
            continue
        judged += 1
        true += label
    return (true / judged if judged else float("nan")), true, judged
