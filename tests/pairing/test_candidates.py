"""Candidate pairs: the different-outlet rule, ranking, incremental == full, output shape."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations.pairing.calibration import probability
from annotations.pairing.candidates import (
    ClaimInfo,
    all_candidates,
    candidates_for,
    incremental_candidates,
    ranked_candidates,
)
from annotations.pairing.features import MODEL_NAMES, group_key
from annotations.pairing.probe import load_probe

D = date(2019, 8, 23)


def claims_on_one_event() -> list[ClaimInfo]:
    return [
        ClaimInfo(1, "sf-1", "South Front", "en",
                  "On August 21, the Syrian Arab Army liberated the town of Khan Shaykhun.", D),
        ClaimInfo(2, "sf-1", "South Front", "en",
                  "The SAA liberated Khan Shaykhun and encircled militants in northern Hama.", D),
        ClaimInfo(3, "sf-2", "South Front", "en",
                  "South Front: the army liberated Khan Shaykhun on August 21.", D),
        ClaimInfo(4, "am-1", "Al-Masdar News", "en",
                  "On Thursday the High Command announced that Khan Sheikhoun was under the "
                  "army's control.", D),
        ClaimInfo(5, "blog-1", None, "en", "Khaan Shaykhoon is now completely liberated.", D),
        ClaimInfo(6, "blog-2", None, "en", "Khaan Shaykhoon, is now completely liberated!", D),
        ClaimInfo(7, "ar-1", "Al-Binaa", "ar", "أعلن الجيش السوري تحرير مدينة خان شيخون.", D),
        ClaimInfo(8, "x-1", "Reuters", "en",
                  "Oil prices jumped 19 percent after drone attacks on Saudi Aramco.", D),
    ]  # fmt: skip


def test_pairs_only_across_outlets_and_articles() -> None:
    claims = claims_on_one_event()
    by_id = {c.id: c for c in claims}
    pairs = all_candidates(claims, threshold=None)
    assert pairs
    for p in pairs:
        assert group_key(by_id[p.a]) != group_key(by_id[p.b])
        assert by_id[p.a].article_id != by_id[p.b].article_id
    keys = {frozenset((p.a, p.b)) for p in pairs}
    assert frozenset((1, 2)) not in keys and frozenset((1, 3)) not in keys  # one outlet
    assert frozenset((5, 6)) in keys  # outlet None: distinct per article


def test_ranked_lists_are_best_first_with_json_features() -> None:
    claims = claims_on_one_event()
    ranked = candidates_for(claims[0], claims, limit=3)
    assert 0 < len(ranked) <= 3
    assert all(p.a == 1 for p in ranked)
    assert [p.score for p in ranked] == sorted((p.score for p in ranked), reverse=True)
    assert {p.method for p in ranked} <= {"tfidf", "encoder", "both"}
    json.dumps([p.features for p in ranked])
    assert ranked[0].b in (4, 5, 6, 7)
    assert all(0.0 <= p.score <= 1.0 for p in ranked)


def test_english_claim_finds_its_arabic_counterpart() -> None:
    claims = claims_on_one_event()
    ranked = candidates_for(claims[3], claims, limit=5)
    assert 7 in [p.b for p in ranked]
    arabic = next(p for p in ranked if p.b == 7)
    assert arabic.features["tfidf"] == 0.0
    assert "xn$xn" in arabic.features["shared_names"]


def test_unrelated_claim_scores_low() -> None:
    claims = claims_on_one_event()
    ranked = {p.b: p.score for p in candidates_for(claims[0], claims, limit=10)}
    assert ranked.get(8, 0.0) < min(ranked[b] for b in (4, 5, 7))


def test_query_outside_the_pool_and_empty_pool() -> None:
    claims = claims_on_one_event()
    outsider = ClaimInfo(99, "new", "New Outlet", "en", "Khan Sheikhoun fell to the army.", D)
    assert candidates_for(outsider, claims, limit=2)
    assert candidates_for(outsider, [], limit=2) == []


def test_a_text_repeated_in_one_article_is_proposed_once() -> None:
    claims = claims_on_one_event()
    repeated = [ClaimInfo(100 + k, "am-2", "Al-Ahed", "en", "Al-Ahed News in Khan Sheikhoun: "
                          "This Is How the Terrorists Fled", D) for k in range(5)]  # fmt: skip
    ranked = candidates_for(claims[0], claims + repeated, limit=10)
    assert sum(p.b >= 100 for p in ranked) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", None]), st.integers(0, 5),
                  st.sampled_from(["en", "ar"])),
        min_size=2, max_size=30,
    )
)  # fmt: skip
def test_never_pairs_within_an_outlet_group(rows: list[tuple[str | None, int, str]]) -> None:
    rng = np.random.default_rng(len(rows))
    words = ["army", "Idlib", "Khan", "Hama", "strike", "convoy", "خان", "شيخون", "قصف"]
    claims = [
        ClaimInfo(k, f"{outlet}-{art}", outlet, lang, " ".join(rng.choice(words, 6)),
                  embedding=rng.normal(size=512).astype(np.float32))
        for k, (outlet, art, lang) in enumerate(rows)
    ]  # fmt: skip
    by_id = {c.id: c for c in claims}
    for p in all_candidates(claims, top_k=5, threshold=None):
        assert group_key(by_id[p.a]) != group_key(by_id[p.b])


@pytest.fixture(scope="module")
def probe_subset() -> tuple[list[ClaimInfo], list[ClaimInfo]]:
    probe = load_probe()
    late = [c for c in probe.pool if str(c.article_id) >= "a13"]
    new_articles = {"a21", "a22", "a23", "a24", "syn-E01"}
    existing = [c for c in late if c.article_id not in new_articles]
    new = [c for c in late if c.article_id in new_articles]
    return existing, new


def test_incremental_equals_full_on_the_new_part(
    probe_subset: tuple[list[ClaimInfo], list[ClaimInfo]],
) -> None:
    existing, new = probe_subset
    full = ranked_candidates(existing + new, existing + new, top_k=10)
    incremental = ranked_candidates(new, existing + new, top_k=10)
    assert set(incremental) == {c.id for c in new}
    for claim in new:
        got, want = incremental[claim.id], full[claim.id]
        assert [p.b for p in got] == [p.b for p in want]
        np.testing.assert_allclose([p.score for p in got], [p.score for p in want], atol=1e-5)
        assert [p.method for p in got] == [p.method for p in want]
    pairs = incremental_candidates(new, existing, top_k=10, threshold=0.3)
    expected = {frozenset((p.a, p.b)) for c in new for p in full[c.id] if p.score >= 0.3}
    assert {frozenset((p.a, p.b)) for p in pairs} == expected
    new_ids = {c.id for c in new}
    assert all(p.a in new_ids or p.b in new_ids for p in pairs)


def test_stored_features_reproduce_the_score(
    probe_subset: tuple[list[ClaimInfo], list[ClaimInfo]],
) -> None:
    """The features stored with a pair are the final model's inputs: its score follows."""
    existing, new = probe_subset
    pairs = all_candidates(existing + new, threshold=None)
    assert pairs
    x = np.asarray([[p.features[name] for name in MODEL_NAMES] for p in pairs])
    # features are stored rounded to 4 decimals
    np.testing.assert_allclose(probability(x), [p.score for p in pairs], atol=2e-3)
    assert {"neighbours", "expanded_encoder", "expanded_context"} <= set(pairs[0].features)
    assert any(p.features["neighbours"] > 0 for p in pairs)


def test_an_incremental_run_analyses_only_the_new_texts(
    probe_subset: tuple[list[ClaimInfo], list[ClaimInfo]],
) -> None:
    from annotations.pairing import ngrams

    existing, _ = probe_subset
    incremental_candidates(existing[:5], existing[5:])  # the pool's texts are memoised now
    before = ngrams.texts_analysed()
    new = [
        ClaimInfo("n1", "late-1", "Late Outlet", "en", "Khan Sheikhoun fell to the army today.", D),
        ClaimInfo("n2", "late-1", "Late Outlet", "en", "Militants fled toward Maarat al-Numan.", D),
    ]
    assert incremental_candidates(new, existing, threshold=None)
    assert ngrams.texts_analysed() - before == 2
