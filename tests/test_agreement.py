"""Agreement figures: equal to the reference implementations (krippendorff, scikit-learn,
crowd-kit) and to Krippendorff's published worked examples; the report's shape and rules.

Pure numpy/pandas — no Django, no database."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from annotations.agreement import (
    FieldAlpha,
    aggregate_field,
    agreement_by_slice,
    agreement_report,
    alpha_ci,
    annotator_stats,
    cohen_kappa,
    krippendorff_alpha,
    normalize_schema,
    pairwise_kappa,
    review_queue,
    set_distance,
    should_auto_settle,
    span_f1,
    tokenize,
)
from annotations.agreement.aggregation import (
    aggregate_codes,
    ds_posteriors,
    ds_tensors,
    mace_posteriors,
)
from annotations.agreement.spans import _token_starts

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 observers × 12 units, values 1–5, missing cells.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
# Section A: two observers, binary data, ten units.
K2011_BINARY = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
# The krippendorff package's own docstring example (3 coders × 15 units).
KPKG = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(data: np.ndarray, level: str) -> float:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError:
        return float("nan")


# --------------------------------------------------------------------------- alpha


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_2011_worked_example(level: str, published: float) -> None:
    res = krippendorff_alpha(np.array(K2011), level)
    assert round(res.alpha, 3) == published
    assert res.alpha == pytest.approx(_reference(np.array(K2011), level), abs=1e-9)
    assert res.n_items == 11  # unit 12 has a single value: not pairable, not padded
    assert res.n_values == 40


def test_krippendorff_2011_binary_example() -> None:
    res = krippendorff_alpha(K2011_BINARY)
    assert res.alpha == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)  # 0.095
    assert round(res.alpha, 3) == 0.095


def test_package_docstring_example() -> None:
    assert krippendorff_alpha(np.array(KPKG)).alpha == pytest.approx(0.691358, abs=1e-6)
    assert krippendorff_alpha(np.array(KPKG), "interval").alpha == pytest.approx(0.810845, abs=1e-6)


def test_object_input_with_none_equals_nan_input() -> None:
    as_none = [
        [None if isinstance(v, float) and math.isnan(v) else int(v) for v in row] for row in K2011
    ]
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(as_none, level).alpha == pytest.approx(
            krippendorff_alpha(np.array(K2011), level).alpha, abs=1e-12
        )


@st.composite
def reliability(draw: st.DrawFn) -> np.ndarray:
    coders = draw(st.integers(2, 5))
    units = draw(st.integers(1, 30))
    values = draw(
        st.lists(
            st.sampled_from([0.0, 1.0, 2.5, 4.0, 10.0]),
            min_size=coders * units,
            max_size=coders * units,
        )
    )
    missing = draw(st.lists(st.booleans(), min_size=coders * units, max_size=coders * units))
    arr = np.array(values).reshape(coders, units)
    arr[np.array(missing).reshape(coders, units)] = NAN
    return arr


@FAST
@given(reliability(), st.sampled_from(["nominal", "ordinal", "interval"]))
def test_alpha_equals_krippendorff_package(data: np.ndarray, level: str) -> None:
    ref = _reference(data, level)
    assume(math.isfinite(ref))
    res = krippendorff_alpha(data, level)
    assert res.alpha == pytest.approx(ref, abs=1e-9)
    m = (~np.isnan(data)).sum(axis=0)
    assert res.n_items == int((m >= 2).sum())
    assert res.n_values == int(m[m >= 2].sum())
    assert res.missing_rate == pytest.approx(np.isnan(data).mean())


@FAST
@given(
    reliability(),
    st.sampled_from(["nominal", "ordinal", "interval"]),
    st.lists(st.integers(0, 4), min_size=1, max_size=30),
)
def test_weighted_types_equal_repeated_units(data: np.ndarray, level: str, reps: list[int]) -> None:
    """The bootstrap's weights over unit types give the alpha of the resampled matrix."""
    reps = (reps * 30)[: data.shape[1]]
    counts = np.array(reps)
    resampled = np.repeat(data, counts, axis=1)
    ref = _reference(resampled, level)
    assume(math.isfinite(ref))
    uniq, codes = np.unique(data[~np.isnan(data)], return_inverse=True)
    coded = np.full(data.shape, -1)
    coded[~np.isnan(data)] = codes
    fa = FieldAlpha(coded, level, len(uniq), numeric=uniq)
    w = np.zeros(fa.K)
    np.add.at(w, fa.unit_type[fa.unit_type >= 0], counts[fa.unit_type >= 0])
    assume(w.sum() > 0)
    assert fa.alphas(w)[0] == pytest.approx(ref, abs=1e-9)


def test_full_agreement_is_one() -> None:
    same = [["a", "b", "c", None, "a"], ["a", "b", "c", "d", "a"], ["a", None, "c", "d", "a"]]
    assert krippendorff_alpha(same).alpha == 1.0
    only_one = [["x", "x", None], ["x", "x", "x"]]  # one category: degenerate, defined as 1.0
    res = krippendorff_alpha(only_one)
    assert res.alpha == 1.0 and res.n_items == 2
    assert krippendorff_alpha([[3, 3], [3, 3]], "interval").alpha == 1.0
    assert krippendorff_alpha([[["a", "b"], []], [["b", "a"], []]], "masi").alpha == 1.0
    assert krippendorff_alpha(only_one, confidence=0.95).ci == (1.0, 1.0)


def test_no_pairable_unit_gives_none() -> None:
    res = krippendorff_alpha([["a", None], [None, "b"]])
    assert res.alpha is None and res.n_items == 0


def test_missing_is_never_padded() -> None:
    base = np.array(K2011)
    extra = np.hstack([base, np.array([[1.0], [NAN], [NAN], [NAN]]), np.full((4, 3), NAN)])
    for level in ("nominal", "ordinal", "interval"):
        a, b = krippendorff_alpha(base, level), krippendorff_alpha(extra, level)
        assert a.alpha == pytest.approx(b.alpha, abs=1e-12)
        assert a.n_items == b.n_items
        assert b.missing_rate > a.missing_rate


def test_abstentions_are_missing_and_reported() -> None:
    with_tokens = [
        ["fact", "opinion", "cannot_judge", "fact"],
        ["fact", "n/a", "opinion", "fact"],
        ["fact", "opinion", "opinion", None],
    ]
    with_none = [[None if v in ("cannot_judge", "n/a") else v for v in row] for row in with_tokens]
    a, b = krippendorff_alpha(with_tokens), krippendorff_alpha(with_none)
    assert a.alpha == b.alpha and a.n_items == b.n_items
    assert a.abstentions == {"cannot_judge": 1, "n/a": 1}
    assert a.missing_rate == pytest.approx(3 / 12)
    assert a.abstain_rate == pytest.approx(2 / 11)


def test_ordinal_string_domain() -> None:
    words = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    data = [
        [None if isinstance(v, float) and math.isnan(v) else words[int(v)] for v in row]
        for row in K2011
    ]
    res = krippendorff_alpha(data, "ordinal", value_domain=list(words.values()))
    assert round(res.alpha, 3) == 0.815


# --------------------------------------------------------------------------- bootstrap


def _noisy(n: int, seed: int, p: float = 0.75) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n)
    data = np.where(rng.random((3, n)) < p, truth, rng.integers(0, 4, (3, n))).astype(float)
    data[rng.random((3, n)) < 0.1] = NAN
    return data


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_bootstrap_ci_contains_estimate_and_narrows(level: str) -> None:
    small = krippendorff_alpha(_noisy(150, 1), level, confidence=0.95, seed=3)
    large = krippendorff_alpha(_noisy(6000, 1), level, confidence=0.95, seed=3)
    for res in (small, large):
        assert res.ci is not None
        assert res.ci[0] <= res.alpha <= res.ci[1]
    assert (large.ci[1] - large.ci[0]) < (small.ci[1] - small.ci[0]) / 3
    again = krippendorff_alpha(_noisy(150, 1), level, confidence=0.95, seed=3)
    assert again.ci == small.ci  # fixed seed: reproducible
    assert alpha_ci(_noisy(150, 1), level, seed=3) == small.ci


def test_bootstrap_matches_naive_resampling() -> None:
    """Both draw paths (multinomial over unit types, unit indices) agree with resampling
    columns of the matrix and calling the krippendorff package."""
    data = _noisy(400, 5)
    m = (~np.isnan(data)).sum(axis=0)
    pairable = data[:, m >= 2]
    rng = np.random.default_rng(0)
    naive = [
        krippendorff.alpha(
            pairable[:, rng.integers(0, pairable.shape[1], pairable.shape[1])],
            level_of_measurement="nominal",
        )
        for _ in range(400)
    ]
    fast = krippendorff_alpha(data, confidence=0.90, n_boot=2000, seed=1).ci
    lo, hi = np.quantile(naive, [0.05, 0.95])
    assert fast[0] == pytest.approx(lo, abs=0.02)
    assert fast[1] == pytest.approx(hi, abs=0.02)
    uniq, codes = np.unique(data[~np.isnan(data)], return_inverse=True)
    coded = np.full(data.shape, -1)
    coded[~np.isnan(data)] = codes
    fa = FieldAlpha(coded, "interval", len(uniq), numeric=uniq)  # many types: index path
    draws = fa.draws(fa.freq(), 2000, seed=2)
    naive_i = [
        krippendorff.alpha(pairable[:, rng.integers(0, pairable.shape[1], pairable.shape[1])])
        for _ in range(400)
    ]
    assert np.mean(draws) == pytest.approx(np.mean(naive_i), abs=0.01)
    assert np.std(draws) == pytest.approx(np.std(naive_i), rel=0.15)


# --------------------------------------------------------------------------- sets


def test_set_distances_by_hand() -> None:
    assert set_distance([], []) == 0.0
    assert set_distance([], ["a"]) == 1.0
    assert set_distance(["a"], ["a", "b"]) == pytest.approx(1 - 0.5 * 2 / 3)
    assert set_distance(["a", "b"], ["b", "c"]) == pytest.approx(1 - (1 / 3) * (1 / 3))
    assert set_distance(["a"], ["b"]) == 1.0
    assert set_distance(["a", "b"], ["b", "a"]) == 0.0
    assert set_distance(["a"], ["a", "b"], "jaccard") == pytest.approx(0.5)


def _brute_alpha(matrix: list[list], dist) -> float:
    units = [[v for v in col if v is not None] for col in zip(*matrix, strict=True)]
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    d_o = sum(dist(a, b) / (len(u) - 1) for u in units for a, b in itertools.permutations(u, 2))
    d_e = sum(dist(a, b) for a, b in itertools.permutations(values, 2)) / (n - 1)
    return 1 - d_o / d_e


@pytest.mark.parametrize("kind", ["masi", "jaccard"])
def test_set_alpha_equals_brute_force(kind: str) -> None:
    matrix = [
        [["event"], ["event", "numerical"], [], ["law_rule"], ["event"], None],
        [["event"], ["numerical"], [], ["law_rule", "event"], ["numerical"], ["event"]],
        [None, ["event", "numerical"], ["event"], ["law_rule"], ["event"], None],
    ]
    res = krippendorff_alpha(matrix, kind)
    ref = _brute_alpha(matrix, lambda a, b: set_distance(a, b, kind))
    assert res.alpha == pytest.approx(ref, abs=1e-12)
    assert res.n_items == 5
    worse = [row[:] for row in matrix]
    worse[1][0] = ["causal_responsibility"]
    assert krippendorff_alpha(worse, kind).alpha < res.alpha


# --------------------------------------------------------------------------- kappa


@FAST
@given(
    st.integers(2, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n, max_size=n),
            st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n, max_size=n),
        )
    )
)
def test_kappa_equals_sklearn(pair: tuple[list, list]) -> None:
    a, b = pair
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    assume(both)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = cohen_kappa_score([x for x, _ in both], [y for _, y in both])
    assume(math.isfinite(ref))
    assert cohen_kappa(a, b) == pytest.approx(ref, abs=1e-9)


def test_pairwise_kappa_matrix() -> None:
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 3, 80)
    rows = []
    for acc in (0.9, 0.8, 0.5, 0.9):
        row = [
            int(t) if r < acc else int(rng.integers(0, 3))
            for t, r in zip(truth, rng.random(80), strict=True)
        ]
        rows.append([v if rng.random() > 0.2 else None for v in row])
    rows[3] = [None] * 75 + rows[3][75:]  # annotator 3 shares only 5 items
    km = pairwise_kappa(rows, annotators=["a", "b", "c", "d"], min_overlap=10)
    for i, j in itertools.combinations(range(3), 2):
        keep = [k for k in range(80) if rows[i][k] is not None and rows[j][k] is not None]
        ref = cohen_kappa_score([rows[i][k] for k in keep], [rows[j][k] for k in keep])
        assert km.matrix[i, j] == pytest.approx(ref, abs=1e-9)
        assert km.matrix[j, i] == km.matrix[i, j]
        assert km.overlap[i, j] == len(keep)
    assert np.isnan(km.matrix[0, 3]) and km.overlap[0, 3] < 10
    assert km.matrix[0, 0] == 1.0
    assert json.dumps(km.to_dict(), allow_nan=False)


def test_kappa_single_shared_category_is_one() -> None:
    assert cohen_kappa(["x", "x", "x"], ["x", "x", "x"]) == 1.0


# --------------------------------------------------------------------------- spans


ALPHABET = "وفبلقاسمنيه abc12 ,.،؛!\u064e\u0640"


@FAST
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_vectorised_tokenizer_equals_reference(text: str) -> None:
    starts, nonspace = _token_starts(text)
    ids = np.cumsum(starts) - 1
    groups: dict[int, list[int]] = {}
    for p in np.flatnonzero(nonspace):
        groups.setdefault(int(ids[p]), []).append(int(p))
    assert [(g[0], g[-1] + 1) for g in groups.values()] == tokenize(text)


def test_tokenize_splits_arabic_proclitics() -> None:
    text = "وقال المتحدث باسم الوزارة، وبالتالي بل"
    tokens = [text[a:b] for a, b in tokenize(text)]
    assert tokens == ["و", "قال", "المتحدث", "ب", "اسم", "الوزارة", "،", "و", "ب", "التالي", "بل"]


def test_span_f1_hand_cases() -> None:
    text = "وقال المتحدث باسم الوزارة إن الهجوم فشل"
    # identical spans
    res = span_f1([[[5, 25]], [[5, 25]]], texts=[text])
    assert (res.exact_f1, res.token_f1) == (1.0, 1.0)
    # the proclitic و in or out of the cue: one token of two differs
    res = span_f1([[[0, 4]], [[1, 4]]], texts=[text])
    assert res.exact_f1 == 0.0
    assert res.token_f1 == pytest.approx(2 * 1 / (2 + 1))
    # a span against an empty span: a miss; two empties: no evidence either way
    res = span_f1([[[5, 12], []], [[], []]], texts=[text, text])
    assert res.exact_f1 == 0.0 and res.token_f1 == 0.0
    assert res.pairs == 2 and res.pairs_with_span == 1 and res.presence_agreement == 0.5
    res = span_f1([[[]], [[]]], texts=[text])
    assert res.exact_f1 is None and res.token_f1 is None and res.presence_agreement == 1.0
    # partial overlap in English, a span cutting a word covers the whole word
    en = "The ministry of defence said"
    res = span_f1([[[0, 12]], [[4, 23]]], texts=[en])  # {The, ministry} vs {ministry, of, defence}
    assert res.token_f1 == pytest.approx(2 * 1 / (2 + 3))
    res = span_f1([[[0, 6]], [[0, 12]]], texts=[en])  # "The mi" touches "ministry"
    assert res.token_f1 == 1.0 and res.exact_f1 == 0.0
    # no text: characters stand in
    res = span_f1([[[0, 4]], [[2, 6]]])
    assert res.token_basis == "characters"
    assert res.token_f1 == pytest.approx(2 * 2 / 8)
    # None = annotator did not label the item: no pair
    assert span_f1([[[0, 4]], [None]]).pairs == 0


# --------------------------------------------------------------------------- aggregation


def _crowd(n_items: int, seed: int, k: int = 3):
    """Seven workers, three per item; worker 0 is bad: mostly answers the *next* label."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    workers = np.argsort(rng.random((n_items, 7)), axis=1)[:, :3].ravel()
    item = np.repeat(np.arange(n_items), 3)
    acc = np.array([0.0, 0.8, 0.8, 0.75, 0.8, 0.85, 0.75])
    noise = rng.integers(0, k, item.size)
    label = np.where(rng.random(item.size) < acc[workers], truth[item], noise)
    shifted = (truth[item] + 1) % k
    label = np.where(workers == 0, np.where(rng.random(item.size) < 0.8, shifted, noise), label)
    return item, workers, label, truth


@pytest.mark.parametrize("fit_items", [5000, 600])
def test_ds_and_mace_recover_truth_with_a_bad_annotator(fit_items: int) -> None:
    item, worker, label, truth = _crowd(1500, 0)
    agg = aggregate_codes(
        item, worker, label, 1500, ["a", "b", "c"], fit_items=fit_items, ds_iter=10, mace_iter=5
    )
    assert agg.fit_items == min(1500, fit_items)
    mv = (agg.majority == truth).mean()
    ds = (agg.ds == truth).mean()
    mace = (agg.mace == truth).mean()
    assert mv < 0.91
    assert ds >= 0.94 and ds >= mv + 0.03  # DS learns the bad worker's confusion
    assert mace >= 0.9 and mace >= mv
    assert np.all((agg.ds_posterior > 0.3) & (agg.ds_posterior <= 1))
    # low posteriors flag the wrong answers
    wrong = agg.ds != truth
    assert agg.ds_posterior[wrong].mean() < agg.ds_posterior[~wrong].mean()


@pytest.mark.filterwarnings("ignore:.*(inplace|copy) keyword.*")
def test_posterior_formulas_equal_crowdkit() -> None:
    from crowdkit.aggregation import MACE, DawidSkene

    item, worker, label, _ = _crowd(800, 2)
    df = pd.DataFrame({"task": item, "worker": worker, "label": label})
    ds = DawidSkene(n_iter=10).fit(df)
    log_prior, errors = ds_tensors(ds.priors_, ds.errors_, 7, 3)
    mine = ds_posteriors(item, worker, label, 800, log_prior, errors)
    ref = DawidSkene._e_step(df, ds.priors_.copy(), ds.errors_).sort_index()[[0, 1, 2]]
    np.testing.assert_allclose(mine, ref.to_numpy(), atol=1e-9)
    m = MACE(n_restarts=1, n_iter=5, random_state=0).fit(df)
    w_names = np.asarray(pd.factorize(df["worker"])[1])
    l_names = np.asarray(m.probas_.columns)
    spam, theta = np.zeros((7, 2)), np.ones((7, 3))
    spam[w_names] = m.spamming_
    theta[w_names[:, None], l_names[None, :]] = m.thetas_
    mine = mace_posteriors(item, worker, label, 800, 3, spam, theta)
    np.testing.assert_allclose(mine, m.probas_.sort_index()[[0, 1, 2]].to_numpy(), atol=1e-9)


def test_aggregate_field_with_ids_and_labels() -> None:
    item, worker, label, truth = _crowd(900, 5)
    names = np.array(["fact", "opinion", "prediction"])
    items, agg = aggregate_field(
        [f"c{i}" for i in item], [f"w{w}" for w in worker], list(names[label]), seed=1
    )
    assert items[:2] == ["c0", "c1"] and len(items) == 900
    ds_names = np.array([agg.labels[c] for c in agg.ds])
    assert (ds_names == names[truth]).mean() > 0.9
    first = agg.item(0)
    assert first is not None and first["ds"] in names and 0 < first["ds_posterior"] <= 1
    assert sum(first["votes"].values()) == 3


def test_review_queue_puts_conflicts_first() -> None:
    records = []
    for i in range(120):
        for a in ("w1", "w2", "w3"):
            records.append(
                {
                    "item": i,
                    "annotator": a,
                    "labels": {"is_attributed": True, "verifiability": "opinion"},
                }
            )
    # item 7: the two reliable annotators disagree with each other, the third abstains
    for r in records:
        if r["item"] == 7:
            r["labels"]["verifiability"] = {
                "w1": "opinion",
                "w2": "prediction",
                "w3": "cannot_judge",
            }[r["annotator"]]
    queue = review_queue(records, limit=3)
    assert queue[0]["item"] == 7
    assert queue[0]["uncertainty"] > queue[1]["uncertainty"]
    fields = queue[0]["fields"]["verifiability"]
    assert fields["tie"] and fields["votes"] == {"opinion": 1, "prediction": 1}


def test_should_auto_settle() -> None:
    a = {
        "is_attributed": True,
        "verifiability": "checkable_fact",
        "claim_types": ["event", "numerical"],
    }
    b = dict(a, claim_types=["numerical", "event"])
    assert should_auto_settle([a, b], allow=True)
    assert should_auto_settle([a, b], allow=True, required=["claim_types"])
    assert not should_auto_settle([a, b], allow=False)
    assert not should_auto_settle([a], allow=True)
    assert not should_auto_settle([a, dict(a, verifiability="opinion")], allow=True)
    assert not should_auto_settle([a, {"is_attributed": True}], allow=True)
    assert not should_auto_settle([a, dict(a, is_attributed=1)], allow=True)  # 1 is not True


# --------------------------------------------------------------------------- annotators


def test_annotator_stats() -> None:
    items, anns, secs, verif = [], [], [], []
    rng = np.random.default_rng(1)
    truth = rng.choice(["fact", "opinion", "prediction"], 200)
    for i in range(200):
        for a in ("good1", "good2", "bad"):
            items.append(i)
            anns.append(a)
            secs.append(10.0 if a != "bad" else 3.0 + i % 2)
            ok = rng.random() < (0.95 if a != "bad" else 0.3)
            verif.append(truth[i] if ok else rng.choice(["fact", "opinion", "prediction"]))
    gold_items = {i: {"verifiability": truth[i]} for i in range(0, 200, 4)}
    rows = {
        r["annotator"]: r
        for r in annotator_stats(anns, items, secs, {"verifiability": verif}, gold_items=gold_items)
    }
    assert rows["good1"]["items"] == 200 and rows["good1"]["median_seconds"] == 10.0
    assert rows["bad"]["median_seconds"] == 3.5
    assert rows["bad"]["peer_agreement"] < rows["good1"]["peer_agreement"]
    assert rows["bad"]["gold_items_agreement"] < 0.6 < rows["good2"]["gold_items_agreement"]
    assert rows["good1"]["gold_items_compared"] == 50
    assert rows["good1"]["gold_agreement"] is None


# --------------------------------------------------------------------------- report


def _records() -> list[dict]:
    rng = np.random.default_rng(3)
    out = []
    text = "وقال المتحدث باسم الوزارة إن الهجوم فشل"
    for i in range(240):
        attributed = bool(rng.random() < 0.6)
        verif = rng.choice(["checkable_fact", "opinion", "prediction"])
        for a in rng.permutation(["a1", "a2", "a3", "a4"])[:3]:
            flip = rng.random() < 0.1
            lab: dict = {
                "is_attributed": attributed != flip,
                "verifiability": "cannot_judge" if rng.random() < 0.05 else str(verif),
                "check_worthiness": int(rng.integers(2, 4)),
                "commitment": "asserts" if rng.random() < 0.9 else "n/a",
            }
            if lab["is_attributed"]:
                lab["source_type"] = "expert" if rng.random() < 0.8 else "official_domestic"
                lab["source_span"] = [5, 25] if rng.random() < 0.8 else [5, 12]
                lab["cue_span"] = [0, 4] if rng.random() < 0.5 else [1, 4]
            if lab["verifiability"] == "checkable_fact":
                lab["claim_types"] = ["event"] if rng.random() < 0.8 else ["event", "numerical"]
            out.append(
                {
                    "item": f"c{i}",
                    "annotator": str(a),
                    "labels": lab,
                    "seconds": float(rng.gamma(3, 5)),
                    "text": text,
                    "language": "ar" if i % 3 else "en",
                    "outlet": f"o{i % 4}",
                    "schema_version": "1",
                }
            )
    return out


def test_report_shape_and_json_safety() -> None:
    recs = _records()
    rep = agreement_report(recs, n_boot=300, gold={"c0": {"verifiability": "opinion"}})
    text = json.dumps(rep, allow_nan=False)
    assert "NaN" not in text
    assert set(rep) >= {
        "fields",
        "kappa",
        "spans",
        "annotators",
        "confusion",
        "slices",
        "aggregation",
        "review_queue",
        "meta",
    }
    v = rep["fields"]["verifiability"]
    assert set(v) >= {"alpha", "ci", "items", "missing_rate", "abstain_rates"}
    assert v["ci"][0] <= v["alpha"] <= v["ci"][1]
    assert v["abstain_rates"]["cannot_judge"] > 0
    assert rep["fields"]["source_type"]["coverage"] is not None
    assert "speech_act_checkable" in rep["fields"]  # nobody answered: alpha null, not an error
    assert rep["fields"]["speech_act_checkable"]["alpha"] is None
    assert set(rep["spans"]["source_span"]) >= {"exact_f1", "token_f1"}
    assert rep["spans"]["cue_span"]["token_basis"] == "tokens"
    assert sorted(rep["kappa"]["is_attributed"]["annotators"]) == ["a1", "a2", "a3", "a4"]
    assert len(rep["kappa"]["is_attributed"]["matrix"]) == 4
    conf = rep["confusion"]["verifiability"]
    assert set(conf["labels"]) == {"checkable_fact", "opinion", "prediction"}
    mat = np.array(conf["matrix"])
    assert (mat == mat.T).all()
    valid: dict[str, int] = {}
    for r in recs:
        if r["labels"]["verifiability"] != "cannot_judge":
            valid[r["item"]] = valid.get(r["item"], 0) + 1
    assert mat.sum() == sum(m * (m - 1) for m in valid.values())  # ordered pairs per item
    assert set(rep["slices"]) == {"language", "outlet", "schema_version"}
    assert set(rep["slices"]["language"]) == {"ar", "en"}
    assert len(rep["review_queue"]) == 50


def test_slices_by_record_key_and_by_mapping() -> None:
    recs = _records()
    by_lang = agreement_by_slice(recs, "language", n_boot=100)
    assert set(by_lang) == {"ar", "en"}
    assert by_lang["ar"]["items"] == 160 and by_lang["en"]["items"] == 80
    ar_only = [r for r in recs if r["language"] == "ar"]
    whole = agreement_report(ar_only, n_boot=0, aggregate=False, slice_keys=())
    for field, entry in by_lang["ar"]["fields"].items():
        assert entry["alpha"] == whole["fields"][field]["alpha"]
        assert entry["items"] == whole["fields"][field]["items"]
        assert entry["missing_rate"] == whole["fields"][field]["missing_rate"]
        assert entry.get("coverage") == whole["fields"][field].get("coverage")
    halves = agreement_by_slice(recs, {f"c{i}": i % 2 for i in range(240)}, n_boot=0)
    assert set(halves) == {"0", "1"} and halves["0"]["items"] == 120


def test_report_alpha_equals_matrix_alpha_and_gate_coverage() -> None:
    recs = _records()
    rep = agreement_report(recs, n_boot=0, aggregate=False, slice_keys=())
    items = sorted({r["item"] for r in recs})
    anns = ["a1", "a2", "a3", "a4"]
    cell = {(r["item"], r["annotator"]): r["labels"] for r in recs}
    for field in ("verifiability", "is_attributed", "check_worthiness"):
        matrix = [[cell.get((i, a), {}).get(field) for i in items] for a in anns]
        level = "ordinal" if field == "check_worthiness" else "nominal"
        ref = krippendorff_alpha(matrix, level).alpha
        assert rep["fields"][field]["alpha"] == pytest.approx(ref, abs=1e-6)
    # source_type: only annotators for whom is_attributed holds, units with ≥ 2 of them
    gated = [
        [
            (
                cell.get((i, a), {}).get("source_type")
                if cell.get((i, a), {}).get("is_attributed") is True
                else None
            )
            for i in items
        ]
        for a in anns
    ]
    ref = krippendorff_alpha(gated)
    assert rep["fields"]["source_type"]["alpha"] == pytest.approx(ref.alpha, abs=1e-6)
    assert rep["fields"]["source_type"]["items"] == ref.n_items
    holds = [
        sum(1 for a in anns if cell.get((i, a), {}).get("is_attributed") is True) for i in items
    ]
    assert rep["fields"]["source_type"]["coverage"] == pytest.approx(
        sum(h >= 2 for h in holds) / len(items), abs=1e-6
    )


def test_report_accepts_project_schema_document_and_pair_gates() -> None:
    doc = {
        "pair": {
            "fields": [
                {
                    "name": "same_event",
                    "type": "single",
                    "required": True,
                    "choices": [{"value": "same"}, {"value": "different"}, {"value": "unsure"}],
                },
                {
                    "name": "relation",
                    "type": "single",
                    "when": {"field": "same_event", "equals": "same"},
                    "choices": [{"value": "agree"}, {"value": "disagree"}, {"value": "discuss"}],
                },
                {
                    "name": "conflict_aspects",
                    "type": "multi",
                    "when": {"field": "relation", "equals": "disagree"},
                    "choices": [{"value": "time"}, {"value": "agent"}],
                },
            ]
        }
    }
    recs = []
    for i in range(30):
        for a, se, rel in (
            ("x", "same", "disagree"),
            ("y", "same", "disagree"),
            ("z", "unsure" if i % 2 else "different", "disagree"),
        ):
            recs.append(
                {
                    "item": i,
                    "annotator": a,
                    "labels": {"same_event": se, "relation": rel, "conflict_aspects": ["time"]},
                }
            )
    rep = agreement_report(recs, doc, kind="pair", n_boot=100, aggregate=False)
    f = rep["fields"]
    assert f["same_event"]["abstain_rates"]["unsure"] == pytest.approx(0.5 / 3, abs=1e-6)
    # z's relation and aspects never count: its same_event is never "same"
    assert f["relation"]["items"] == 30 and f["relation"]["alpha"] == 1.0
    assert f["conflict_aspects"]["items"] == 30 and f["conflict_aspects"]["coverage"] == 1.0
    assert f["conflict_aspects"]["level"] == "masi"
    assert json.dumps(rep, allow_nan=False)


def test_duplicate_records_keep_the_last() -> None:
    recs = [
        {"item": 1, "annotator": "a", "labels": {"verifiability": "opinion"}},
        {"item": 1, "annotator": "b", "labels": {"verifiability": "fact"}},
        {"item": 1, "annotator": "b", "labels": {"verifiability": "opinion"}},
    ]
    rep = agreement_report(recs, n_boot=0, aggregate=False, slice_keys=())
    assert rep["meta"]["duplicates_dropped"] == 1
    assert rep["fields"]["verifiability"]["alpha"] == 1.0


def test_schema_normalisation() -> None:
    specs = normalize_schema(
        {"b": {"type": "single", "gate": {"field": "a", "equals": "x"}}, "a": {"type": "single"}}
    )
    assert [s.name for s in specs] == ["a", "b"]
    with pytest.raises(ValueError):
        normalize_schema(
            {
                "a": {"type": "single", "gate": {"field": "b"}},
                "b": {"type": "single", "gate": {"field": "a"}},
            }
        )
    with pytest.raises(ValueError):
        normalize_schema({"a": {"type": "nonsense"}})
    levels = {s.name: s.level for s in normalize_schema()}
    assert levels["check_worthiness"] == "ordinal" and levels["claim_types"] == "masi"
    assert levels["source_span"] is None
