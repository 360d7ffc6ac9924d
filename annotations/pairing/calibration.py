"""The calibrated score: P(same event) from a small logistic model over pair features.

The coefficients below were fitted by :func:`fit_calibration` on the labelled probe set
(``tests/data/pairing/probe.json`` over the sample page, see
:mod:`annotations.pairing.probe`). Training pairs are the candidates retrieved for every
probe claim (encoder and TF-IDF top lists, before the top-k cut, so the model sees the
distribution it is applied to): positive when both claims belong to the same probe event,
negative when the other claim belongs to another event or to no event, left out when the
other claim is marked "unsure" for that event. Explicit negative pairs of the probe are
added. The model is an L2-regularised logistic regression (C=1) on the columns of
:data:`~annotations.pairing.features.FEATURE_NAMES`; its output is a probability on the
probe distribution, which is what :data:`~annotations.pairing.candidates.DEFAULT_THRESHOLD`
is chosen on.

Retrieval ranks by the same weights, so the fit depends on its own output: the shipped
constants are a fixed point (re-fitting with them reproduces them to 3 decimals; it took
three rounds from a first guess). ``tests/pairing/test_quality.py`` checks that.

What the weights say: the sentence vector (encoder) and shared rare names carry most
of the evidence; a claim's context (its neighbouring sentences, ``context_encoder``) and
its article's names help with sentences that say "the town" or "the convoy"; the article
centroid gets a negative weight once context and names are in (it mostly says "same
topic", which the other terms already count); dates more than 30 days apart weigh
strongly against. Numbers and length ratio hardly matter on this probe set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotations.pairing.features import FEATURE_NAMES

# Fitted by fit_calibration() on probe.json (see the module docstring).
COEFFICIENTS: tuple[float, ...] = (
    3.481,
    2.221,
    -4.951,
    5.168,
    3.564,
    3.914,
    -0.059,
    1.162,
    -3.371,
    -0.335,
)
INTERCEPT: float = -4.281
#: How many retrieved candidates per probe claim feed the fit.
FIT_RETRIEVE_K = 40


def probability(features: np.ndarray) -> np.ndarray:
    """P(same event) for each row of a model matrix (columns ``FEATURE_NAMES``)."""
    z = features @ np.asarray(COEFFICIENTS, dtype=np.float64) + INTERCEPT
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def training_pairs(
    probe_path: Path | None = None, sample_path: Path | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The (features, labels, event of the labelled claim) the calibration is fitted on."""
    from annotations.pairing.features import pair_features, prepare_pool
    from annotations.pairing.probe import load_probe
    from annotations.pairing.retrieval import retrieve_pairs

    probe = load_probe(probe_path, sample_path)
    pool = prepare_pool(probe.pool)
    index = {cid: k for k, cid in enumerate(pool.ids)}
    queries = np.asarray(sorted(index[c] for c in probe.event_of), dtype=np.int64)
    i, j, _, _, _ = retrieve_pairs(pool, queries, FIT_RETRIEVE_K)
    pairs: dict[tuple[int, int], tuple[int, str]] = {}
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
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
    labels = np.asarray([pairs[k][0] for k in keys], dtype=np.int64)
    return pair_features(pool, ai, bj), labels, [pairs[k][1] for k in keys]


def fit_calibration(
    probe_path: Path | None = None, sample_path: Path | None = None
) -> tuple[tuple[float, ...], float]:
    """Re-fit the logistic model on the probe set; returns ``(coefficients, intercept)``.

    Deterministic (lbfgs, no sampling): running it on the shipped probe set gives the
    constants :data:`COEFFICIENTS` and :data:`INTERCEPT` (rounded to 3 decimals).
    """
    from sklearn.linear_model import LogisticRegression

    x, y, _ = training_pairs(probe_path, sample_path)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x, y)
    coef = tuple(round(float(c), 3) for c in model.coef_[0])
    return coef, round(float(model.intercept_[0]), 3)


assert len(COEFFICIENTS) == len(FEATURE_NAMES)
