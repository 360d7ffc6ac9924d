"""The calibrated score: P(same event) from two small logistic models over pair features.

* The **first pass** (:data:`FIRST_COEFFICIENTS`, columns
  :data:`~annotations.pairing.features.FEATURE_NAMES`) scores a pair on its own features;
  retrieval ranks by its linear part, and its probabilities make the neighbour profiles
  (:mod:`annotations.pairing.neighbours`).
* The **final model** (:data:`COEFFICIENTS`, columns
  :data:`~annotations.pairing.features.MODEL_NAMES`: the same plus ``neighbours``,
  ``expanded_encoder`` and ``expanded_context``) gives the stored score.

Both were fitted by :func:`fit_calibration` on the labelled probe set
(``tests/data/pairing/probe.json`` over the sample page, see
:mod:`annotations.pairing.probe`). Training pairs are the candidates retrieved for every
probe claim (before the top-k cut, so the models see the distribution they are applied
to): positive when both claims belong to the same probe event, negative when the other
claim belongs to another event or to no event, left out when the other claim is marked
"unsure" for that event. Explicit negative pairs of the probe are added. Each model is an
L2-regularised logistic regression (C=1); its output is a probability on the probe
distribution, which is what :data:`~annotations.pairing.candidates.DEFAULT_THRESHOLD` is
chosen on.

Retrieval ranks by the first-pass weights, so that fit depends on its own output: the
shipped first-pass constants are a fixed point up to a two-cycle (re-fitting moves them
by at most 0.008). The final model is fitted on the pairs and profiles the shipped first
pass gives, so re-fitting reproduces it exactly. ``tests/pairing/test_quality.py``
checks both.

What the weights say. First pass: the sentence vector (encoder) and shared rare names
carry most of the evidence; a claim's context (its neighbouring sentences,
``context_encoder``) and its article's names help with sentences that say "the town" or
"the convoy"; the article centroid gets a negative weight once context and names are in
(it mostly says "same topic", which the other terms already count); dates more than 30
days apart weigh strongly against. Final model: the expanded context vector takes over
most of the sentence and context vectors' weight (a claim's neighbourhood says more about
its event than the sentence alone), shared neighbours add to it, names and dates keep
their say. Numbers and length ratio hardly matter on this probe set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotations.pairing.features import FEATURE_NAMES, MODEL_NAMES

# First pass (columns FEATURE_NAMES), fitted by fit_calibration() on probe.json.
FIRST_COEFFICIENTS: tuple[float, ...] = (
    3.451,
    2.334,
    -4.914,
    5.225,
    3.561,
    3.92,
    -0.108,
    1.147,
    -3.386,
    -0.316,
)
FIRST_INTERCEPT: float = -4.331
# Final model (columns MODEL_NAMES: the first pass's and "neighbours").
COEFFICIENTS: tuple[float, ...] = (
    0.33,
    1.566,
    -3.246,
    2.474,
    1.018,
    1.818,
    0.29,
    0.61,
    -2.697,
    0.003,
    2.465,
    3.208,
    6.433,
)
INTERCEPT: float = -9.675
#: How many retrieved candidates per probe claim feed the fit.
FIT_RETRIEVE_K = 40


def _logistic(
    features: np.ndarray, coefficients: tuple[float, ...], intercept: float
) -> np.ndarray:
    z = features @ np.asarray(coefficients, dtype=np.float64) + intercept
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def first_probability(features: np.ndarray) -> np.ndarray:
    """First-pass P(same event) for rows of a ``FEATURE_NAMES`` matrix."""
    return _logistic(features, FIRST_COEFFICIENTS, FIRST_INTERCEPT)


def probability(features: np.ndarray) -> np.ndarray:
    """P(same event), the stored score, for rows of a ``MODEL_NAMES`` matrix."""
    return _logistic(features, COEFFICIENTS, INTERCEPT)


def training_pairs(
    probe_path: Path | None = None, sample_path: Path | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The (model matrix, labels, event of the labelled claim) the calibration is fitted on.

    The matrix has the ``MODEL_NAMES`` columns; the first pass is fitted on its
    ``FEATURE_NAMES`` columns (the first ones). Profiles for the ``neighbours`` column
    come from the shipped first-pass constants.
    """
    from annotations.pairing.features import pair_features, prepare_pool
    from annotations.pairing.neighbours import FirstPass, first_pass, model_matrix
    from annotations.pairing.probe import load_probe

    probe = load_probe(probe_path, sample_path)
    pool = prepare_pool(probe.pool)
    index = {cid: k for k, cid in enumerate(pool.ids)}
    queries = np.asarray(sorted(index[c] for c in probe.event_of), dtype=np.int64)
    retrieved = first_pass(pool, queries, FIT_RETRIEVE_K, FIT_RETRIEVE_K)
    pairs: dict[tuple[int, int], tuple[int, str]] = {}
    for a, b in zip(retrieved.i.tolist(), retrieved.j.tolist(), strict=True):
        label = probe.label(pool.ids[a], pool.ids[b])
        if label is not None:
            event = probe.event_of.get(pool.ids[a]) or probe.event_of[pool.ids[b]]
            pairs[(min(a, b), max(a, b))] = (label, event)
    for a_id, b_id in probe.negative_pairs:
        key = (min(index[a_id], index[b_id]), max(index[a_id], index[b_id]))
        pairs[key] = (0, probe.event_of.get(a_id) or probe.event_of.get(b_id) or "")
    keys = sorted(pairs)
    ai = np.asarray([k[0] for k in keys], dtype=np.int64)
    bj = np.asarray([k[1] for k in keys], dtype=np.int64)
    x = pair_features(pool, ai, bj)
    chosen = FirstPass(ai, bj, np.zeros(len(ai), dtype=np.int64), x, first_probability(x),
                       np.unique(ai), 0, 0)  # fmt: skip
    labels = np.asarray([pairs[k][0] for k in keys], dtype=np.int64)
    return model_matrix(pool, chosen), labels, [pairs[k][1] for k in keys]


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, ...], float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x, y)
    return tuple(round(float(c), 3) for c in model.coef_[0]), round(float(model.intercept_[0]), 3)


def fit_calibration(
    probe_path: Path | None = None, sample_path: Path | None = None
) -> tuple[tuple[float, ...], float, tuple[float, ...], float]:
    """Re-fit both models on the probe set.

    Returns ``(first coefficients, first intercept, coefficients, intercept)``.
    Deterministic (lbfgs, no sampling): running it on the shipped probe set gives the
    constants above (rounded to 3 decimals).
    """
    x, y, _ = training_pairs(probe_path, sample_path)
    first, first_b = _fit(x[:, : len(FEATURE_NAMES)], y)
    final, final_b = _fit(x, y)
    return first, first_b, final, final_b


assert len(FIRST_COEFFICIENTS) == len(FEATURE_NAMES)
assert len(COEFFICIENTS) == len(MODEL_NAMES)
