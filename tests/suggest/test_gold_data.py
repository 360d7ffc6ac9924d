"""Integrity of the hand-labelled sample (tests/data/suggest/attribution_gold.jsonl)."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from annotations.suggest.evaluate import load_gold

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [
    ROOT / "data/seed/000_cff28bc277b8956d.txt",
    ROOT.parent / "shared/seed/000_cff28bc277b8956d.txt",
]
SCHEMA = {
    "commitment": {"asserts", "denies", "hedged", "uncommitted", "n/a"},
    "verifiability": {"checkable_fact", "opinion", "prediction", "rhetoric_nonclaim"},
    "author_stance": {"neutral", "distancing", "endorsing"},
    "source_named": {"yes", "no", "n/a"},
    "source_type": {
        "author", "official_domestic", "official_foreign", "state_media", "armed_group",
        "intl_org", "monitor_ngo", "other_media", "expert", "witness_local", "individual",
        "document", "social_media", "unnamed_vague", "unknown",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return load_gold()


def test_sizes_and_split(gold: list[dict]) -> None:
    counts = collections.Counter((r["language"], r["split"]) for r in gold)
    assert counts["en", "dev"] + counts["en", "test"] >= 100
    assert counts["ar", "dev"] + counts["ar", "test"] >= 50
    for lang in ("en", "ar"):  # first half dev, second half test, in page order
        assert abs(counts[lang, "dev"] - counts[lang, "test"]) <= 1
        recs = [r for r in gold if r["language"] == lang]
        splits = [r["split"] for r in recs]
        assert splits == sorted(splits)  # all "dev" before all "test"
        starts = [r["page_span"][0] for r in recs]
        assert starts == sorted(starts)
    assert len({r["id"] for r in gold}) == len(gold)


def test_texts_are_exact_copies_from_the_sample_page(gold: list[dict]) -> None:
    seed = next((p for p in SEEDS if p.exists()), None)
    if seed is None:
        pytest.skip("sample page not found")
    page = seed.read_text(encoding="utf-8-sig")
    for r in gold:
        s, e = r["page_span"]
        assert page[s:e] == r["text"], r["id"]


def test_labels_follow_the_schema(gold: list[dict]) -> None:
    for r in gold:
        for field, allowed in SCHEMA.items():
            assert r[field] in allowed, (r["id"], field)
        for name in ("source_span", "cue_span", "hedge_span"):
            span = r[name]
            if span is not None:
                assert 0 <= span[0] < span[1] <= len(r["text"]), (r["id"], name)
        if r["is_attributed"]:
            assert r["source_type"] != "author", r["id"]
            if not r["frame_outside_unit"]:
                assert r["cue_span"] is not None, r["id"]
        else:
            assert r["source_type"] == "author" and r["source_named"] == "n/a", r["id"]
            assert r["cue_span"] is None and r["source_span"] is None, r["id"]
        if r["frame_outside_unit"]:
            assert r["cue_span"] is None and r["source_span"] is None, r["id"]
        if r["verifiability"] == "rhetoric_nonclaim":
            assert r["commitment"] == "n/a", r["id"]
        if r["language"] == "ar":  # spans exclude the proclitics و ف ب ل (before the article)
            for name in ("source_span", "cue_span"):
                if r[name]:
                    word = r["text"][r[name][0] : r[name][1]]
                    assert not (word[0] in "وفبل" and word[1:3] == "ال"), (r["id"], word)
