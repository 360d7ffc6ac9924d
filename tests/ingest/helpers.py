"""Shared helpers for the ingest tests: data files, the sample page, boundary F1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotations.ingest.types import ArticleUnit

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "ingest"
SAMPLE_NAME = "000_cff28bc277b8956d.txt"
SAMPLE_CANDIDATES = (
    ROOT / "data" / "seed" / SAMPLE_NAME,
    ROOT.parent / "shared" / "seed" / SAMPLE_NAME,
)


def sample_path() -> Path:
    for path in SAMPLE_CANDIDATES:
        if path.is_file():
            return path
    raise FileNotFoundError(f"sample page {SAMPLE_NAME} not found in {SAMPLE_CANDIDATES}")


def sample_text() -> str:
    return sample_path().read_text(encoding="utf-8")


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def line_span(text: str, line: int) -> tuple[int, int]:
    """[start, end) of a 1-based line, without its newline."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    return start, len(text) if end < 0 else end


def spans_of(paragraph: str, sentences: list[str], base: int = 0) -> list[tuple[int, int]]:
    """Offsets of gold sentence strings found in order in ``paragraph``."""
    spans = []
    pos = 0
    for sentence in sentences:
        at = paragraph.index(sentence, pos)
        assert not paragraph[pos:at].strip(), f"gold skips text: {paragraph[pos:at]!r}"
        spans.append((base + at, base + at + len(sentence)))
        pos = at + len(sentence)
    assert not paragraph[pos:].strip(), f"gold misses the end: {paragraph[pos:]!r}"
    return spans


def prf(gold: set[Any], predicted: set[Any]) -> tuple[float, float, float]:
    tp = len(gold & predicted)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def check_invariants(text: str, articles: list[ArticleUnit]) -> None:
    """Offsets round-trip; units sorted, disjoint, stripped, inside their article."""
    previous_end = 0
    for article in articles:
        assert 0 <= article.start <= article.end <= len(text)
        assert article.start >= previous_end, "articles overlap or are out of order"
        previous_end = article.end
        assert text[article.title_start : article.title_end] == article.title
        assert article.start <= article.title_start <= article.title_end <= article.end
        last = article.start
        for unit in article.sentences:
            piece = text[unit.start : unit.end]
            assert unit.start < unit.end, unit
            assert piece == piece.strip(), f"unit has surrounding whitespace: {piece!r}"
            assert unit.start >= last, "units overlap or are out of order"
            assert article.start <= unit.start and unit.end <= article.end
            assert 0.0 <= unit.claim_likelihood <= 1.0
            last = unit.end
        for para in article.paragraphs:
            assert article.start <= para.start < para.end <= article.end
            assert text[para.start : para.end] == text[para.start : para.end].strip()
    covered = {i for a in articles for u in a.sentences for i in range(u.start, u.end)}
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert i in covered, f"character {i} ({ch!r}) belongs to no unit"
