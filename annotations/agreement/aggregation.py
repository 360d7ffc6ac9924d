"""Label aggregation per field — majority vote, Dawid–Skene and MACE (crowd-kit) — the
review-queue score and the auto-settle rule. Aggregates order the review queue; they never
replace a reviewer's decision.

Scale (measured on the 2-core machine, 300k items × 3 labels): crowd-kit 1.4.2's pandas EM
costs 0.3–0.6 s per iteration on the full data (MACE more: one group-by per label value),
and even at a few thousand items each iteration has ~30–80 ms of pandas overhead — fitting
every categorical field on all items would take minutes. So each model is *fitted* with
crowd-kit on at most ``fit_items`` (default 5,000) items — a seeded random sample, topped up
so every annotator and every label value has at least ``cover`` labels in it — with the
iterations capped: DS at ``ds_iter`` = 5 (crowd-kit also stops on its ELBO tolerance; on
simulated crowds it converges in 3–6), MACE at ``mace_iter`` = 3 with one restart
(crowd-kit seeds every restart with the same ``random_state``, so more restarts repeat the
first). On simulated crowds these settings give the same accuracy as 10k items / 10 / 5
iterations. The fitted parameters — DS priors and confusion matrices, MACE spamming and
strategy probabilities — are then applied to *all* items with one vectorised E-step (the
formulas of crowd-kit's E-steps; the tests check them against crowd-kit to 1e-9). With at
most ``fit_items`` items the fit uses every item.

DS confusion matrices are smoothed before the full E-step (``smoothing`` pseudo-counts, see
:func:`ds_tensors`); without it a label pair the sample never showed would veto the true
class of an out-of-sample item. An annotator the fit never saw contributes nothing (a flat
likelihood) to an item's posterior.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._util import slot_layout
from .encoding import encode_values
from .schema import MISSING_TOKENS
from .settle import _canon, should_auto_settle  # noqa: F401  (re-exported)

FIT_ITEMS = 5_000
DS_ITER = 5
MACE_ITER = 3
DS_SMOOTHING = 1.0
_EPS = 1e-10


@dataclass
class FieldAggregate:
    """Per-item aggregates of one field; arrays have one entry per item index (0..n−1);
    items without a label have ``n_labels == 0``, label −1 and NaN posteriors."""

    labels: list[Any]  # the label of each code
    n_labels: np.ndarray
    votes: np.ndarray  # (items × labels) counts
    majority: np.ndarray
    majority_share: np.ndarray
    tie: np.ndarray
    ds: np.ndarray
    ds_posterior: np.ndarray
    mace: np.ndarray
    mace_posterior: np.ndarray
    fit_items: int
    fit_seconds: float = 0.0

    def label(self, code: int) -> Any:
        return self.labels[code] if code >= 0 else None

    def item(self, i: int) -> dict[str, Any] | None:
        if self.n_labels[i] == 0:
            return None
        return {
            "majority": self.label(int(self.majority[i])),
            "share": float(self.majority_share[i]),
            "tie": bool(self.tie[i]),
            "ds": self.label(int(self.ds[i])),
            "ds_posterior": _f(self.ds_posterior[i]),
            "mace": self.label(int(self.mace[i])),
            "mace_posterior": _f(self.mace_posterior[i]),
            "votes": {
                str(self.labels[c]): int(self.votes[i, c]) for c in np.flatnonzero(self.votes[i])
            },
        }

    @property
    def priority(self) -> np.ndarray:
        """Items whose DS label is not among the most-voted labels."""
        has = self.n_labels > 0
        top = self.votes.max(axis=1) if self.votes.size else np.zeros(len(self.n_labels))
        ds_votes = np.where(
            self.ds >= 0,
            self.votes[np.arange(len(self.ds)), np.maximum(self.ds, 0)] if self.votes.size else 0,
            0,
        )
        return has & (self.ds >= 0) & (ds_votes < top)


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _fit_rows(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    fit_items: int,
    rng: np.random.Generator,
    cover: int = 30,
) -> np.ndarray | None:
    """Row mask of the fitting sample, or None for all rows: ``fit_items`` random items,
    plus items so that each worker and each label has min(its labels, ``cover``) rows."""
    present = np.flatnonzero(np.bincount(item, minlength=n_items))
    if present.size <= fit_items:
        return None
    chosen = np.zeros(n_items, dtype=bool)
    chosen[rng.choice(present, fit_items, replace=False)] = True
    for key in (worker, code):
        rows_in = chosen[item]
        size = int(key.max()) + 1
        have = np.bincount(key[rows_in], minlength=size)
        want = np.minimum(np.bincount(key, minlength=size), cover)
        short = np.flatnonzero(have < want)
        if short.size == 0:
            continue
        cand = np.flatnonzero(np.isin(key, short) & ~rows_in)
        cand = cand[rng.permutation(cand.size)]
        k = key[cand]
        order = np.argsort(k, kind="stable")
        ks = k[order]
        starts = np.r_[0, np.flatnonzero(np.diff(ks)) + 1]
        rank = np.arange(ks.size) - np.repeat(starts, np.diff(np.r_[starts, ks.size]))
        need = (want - have)[ks]
        chosen[item[cand[order[rank < need]]]] = True
    return chosen[item]


def ds_tensors(
    priors: pd.Series,
    errors: pd.DataFrame,
    n_workers: int,
    n_labels: int,
    class_counts: np.ndarray | None = None,
    smoothing: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(log prior per label, confusion tensor workers × observed × true) from crowd-kit's
    fitted ``priors_`` / ``errors_`` (labels and workers are integer codes).

    With ``smoothing`` α > 0 and ``class_counts`` (expected items of each true class per
    worker in the fit), each confusion column becomes ``(e·n + α) / (n + Vα)``: a label
    pair the fitting sample never showed gets a small probability instead of crowd-kit's
    1e-10 floor, which would otherwise veto the true class of an out-of-sample item on one
    stray label. Workers the fit never saw get a flat (uninformative) matrix."""
    V = n_labels
    log_prior = np.full(V, np.log(_EPS))
    pidx = np.asarray(priors.index, dtype=np.int64)
    log_prior[pidx] = np.log(np.clip(priors.to_numpy(dtype=np.float64), _EPS, None))
    E = np.zeros((n_workers, V, V))
    w = errors.index.get_level_values(0).to_numpy().astype(np.int64)
    y = errors.index.get_level_values(1).to_numpy().astype(np.int64)
    cols = np.asarray(errors.columns, dtype=np.int64)
    E[w[:, None], y[:, None], cols[None, :]] = errors.to_numpy(dtype=np.float64)
    seen = np.zeros(n_workers, dtype=bool)
    seen[w] = True
    if smoothing > 0 and class_counts is not None:
        n = class_counts[:, None, :]
        E = (E * n + smoothing) / (n + V * smoothing)
    else:
        E[seen] = np.where(E[seen] > 0, E[seen], 1.0)  # never-seen pairs: no evidence
    E[~seen] = 1.0 / V
    return log_prior, E


def _class_counts(probas: pd.DataFrame, df: pd.DataFrame, n_workers: int, V: int) -> np.ndarray:
    """Expected number of fitted items of each true class per worker."""
    tasks = probas.index.to_numpy().astype(np.int64)
    pos = np.zeros(int(tasks.max()) + 1, dtype=np.int64)
    pos[tasks] = np.arange(tasks.size)
    P = probas.to_numpy(dtype=np.float64)[pos[df["task"].to_numpy()]]
    w = df["worker"].to_numpy()
    out = np.zeros((n_workers, V))
    for j, c in enumerate(np.asarray(probas.columns, dtype=np.int64)):
        out[:, c] = np.bincount(w, weights=P[:, j], minlength=n_workers)
    return out


def _normalise_log(logp: np.ndarray) -> np.ndarray:
    logp = logp - logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def _best(logp: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(argmax label, its posterior) per item from unnormalised log posteriors
    (``logp`` is overwritten)."""
    label = logp.argmax(axis=1)
    logp -= logp.max(axis=1)[:, None]
    np.exp(logp, out=logp)
    total = logp.sum(axis=1)
    return np.where(has, label, -1), np.where(has, 1.0 / total, np.nan)


def _grids(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    layout: tuple[np.ndarray, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(worker, code) per item × slot, −1 where empty (codes < 0 count as empty)."""
    slot, n_slots = layout if layout is not None else slot_layout(item, n_items)
    w = np.full((max(n_slots, 1), n_items), -1, dtype=np.int64)
    c = np.full((max(n_slots, 1), n_items), -1, dtype=np.int64)
    w[slot, item] = worker
    c[slot, item] = np.where(code >= 0, code, -1)
    return w, c


def _padded(table: np.ndarray) -> np.ndarray:
    """``table`` with a zero row and column appended, so index −1 (an empty slot) reads 0."""
    out = np.zeros((table.shape[0] + 1, table.shape[1] + 1, *table.shape[2:]))
    out[:-1, :-1] = table
    return out


def _ds_log(w: np.ndarray, c: np.ndarray, log_prior: np.ndarray, errors: np.ndarray) -> np.ndarray:
    log_e = _padded(np.log(errors))  # workers × observed × true
    logp = np.repeat(log_prior[None, :], w.shape[1], axis=0)
    for s in range(w.shape[0]):
        logp += log_e[w[s], c[s]]
    return logp


def _mace_log(
    w: np.ndarray, c: np.ndarray, n_labels: int, spamming: np.ndarray, thetas: np.ndarray
) -> np.ndarray:
    a = np.maximum(spamming[:, :1] * thetas, 1e-300)  # workers × labels
    base = _padded(np.log(a))
    bonus = _padded(np.log(a + spamming[:, 1:2]) - np.log(a))
    n = w.shape[1]
    logp = np.zeros((n, n_labels + 1))  # last column: where empty slots land
    rows = np.arange(n)
    for s in range(w.shape[0]):
        logp += base[w[s], c[s]][:, None]
        logp[rows, c[s]] += bonus[w[s], c[s]]
    return logp[:, :n_labels]


def ds_posteriors(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    log_prior: np.ndarray,
    errors: np.ndarray,
) -> np.ndarray:
    """Dawid–Skene E-step for every item: p(z=c) ∝ prior_c · Π_labels e_w[y, c]."""
    w, c = _grids(np.asarray(item), np.asarray(worker), np.asarray(code), n_items)
    return _normalise_log(_ds_log(w, c, log_prior, errors))


def mace_posteriors(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    n_labels: int,
    spamming: np.ndarray,
    thetas: np.ndarray,
) -> np.ndarray:
    """MACE E-step (crowd-kit's parametrisation, per worker: ``spamming[:, 0]`` pairs with
    the strategy ``thetas``, ``spamming[:, 1]`` with the true label):
    p(z=c) ∝ Π (s0·θ[y] + s1·[y = c])."""
    w, c = _grids(np.asarray(item), np.asarray(worker), np.asarray(code), n_items)
    return _normalise_log(np.ascontiguousarray(_mace_log(w, c, n_labels, spamming, thetas)))


def aggregate_codes(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    labels: Sequence[Any],
    *,
    n_workers: int | None = None,
    fit_items: int = FIT_ITEMS,
    ds_iter: int = DS_ITER,
    mace_iter: int = MACE_ITER,
    smoothing: float = DS_SMOOTHING,
    seed: int = 0,
    layout: tuple[np.ndarray, int] | None = None,
) -> FieldAggregate:
    """Aggregate long rows (item index, worker index, label code ≥ 0; others dropped).
    ``layout`` = :func:`slot_layout` of ``item`` when the caller has it."""
    with warnings.catch_warnings():  # crowd-kit 1.4.2 uses pandas' deprecated keywords
        warnings.filterwarnings("ignore", module=r"crowdkit(\.|$)")
        warnings.filterwarnings("ignore", message=".*(inplace|copy) keyword.*")
        return _aggregate_codes(
            item,
            worker,
            code,
            n_items,
            labels,
            n_workers=n_workers,
            fit_items=fit_items,
            ds_iter=ds_iter,
            mace_iter=mace_iter,
            smoothing=smoothing,
            seed=seed,
            layout=layout,
        )


def _aggregate_codes(
    item: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    n_items: int,
    labels: Sequence[Any],
    *,
    n_workers: int | None,
    fit_items: int,
    ds_iter: int,
    mace_iter: int,
    smoothing: float,
    seed: int,
    layout: tuple[np.ndarray, int] | None,
) -> FieldAggregate:
    import time

    from crowdkit.aggregation import MACE, DawidSkene

    item = np.asarray(item, dtype=np.int64)
    worker = np.asarray(worker, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    grids = _grids(item, worker, code, n_items, layout)
    keep = code >= 0
    item, worker, code = item[keep], worker[keep], code[keep]
    V = max(len(labels), 1)
    A = int(n_workers if n_workers is not None else (worker.max() + 1 if worker.size else 0))
    votes = np.bincount(item * V + code, minlength=n_items * V).reshape(n_items, V)
    n_lab = votes.sum(axis=1)
    has = n_lab > 0
    top = votes.max(axis=1)
    majority = np.where(has, votes.argmax(axis=1), -1)
    share = np.where(has, top / np.maximum(n_lab, 1), np.nan)
    tie = has & ((votes == top[:, None]).sum(axis=1) > 1)
    t0 = time.perf_counter()
    used = np.flatnonzero(np.bincount(code, minlength=V))
    n_fit = 0
    if used.size <= 1:  # one label used (or none): nothing to infer
        ds_lab = mace_lab = majority.copy()
        ds_post = np.where(has, 1.0, np.nan)
        mace_post = ds_post.copy()
    else:
        rng = np.random.default_rng(seed)
        rows = _fit_rows(item, worker, code, n_items, fit_items, rng)
        sel = slice(None) if rows is None else rows
        df = pd.DataFrame({"task": item[sel], "worker": worker[sel], "label": code[sel]})
        n_fit = int(df["task"].nunique())
        w_grid, c_grid = grids
        ds = DawidSkene(n_iter=ds_iter).fit(df)
        counts = _class_counts(ds.probas_, df, A, V)
        log_prior, E = ds_tensors(ds.priors_, ds.errors_, A, V, counts, smoothing)
        ds_lab, ds_post = _best(_ds_log(w_grid, c_grid, log_prior, E), has)
        mace = MACE(n_restarts=1, n_iter=mace_iter, random_state=seed).fit(df)
        w_names = np.asarray(pd.factorize(df["worker"])[1], dtype=np.int64)
        assert mace.probas_ is not None
        l_names = np.asarray(mace.probas_.columns, dtype=np.int64)
        spam = np.zeros((A, 2))
        spam[:, 0] = 1.0  # unseen worker: always "spamming" with a flat strategy
        theta = np.ones((A, V))
        spam[w_names] = mace.spamming_
        theta[w_names[:, None], l_names[None, :]] = mace.thetas_
        mace_log = np.ascontiguousarray(_mace_log(w_grid, c_grid, V, spam, theta))
        mace_lab, mace_post = _best(mace_log, has)
    fit_seconds = time.perf_counter() - t0
    return FieldAggregate(
        labels=list(labels),
        n_labels=n_lab,
        votes=votes,
        majority=majority,
        majority_share=share,
        tie=tie,
        ds=ds_lab,
        ds_posterior=ds_post,
        mace=mace_lab,
        mace_posterior=mace_post,
        fit_items=n_fit,
        fit_seconds=fit_seconds,
    )


def aggregate_field(
    items: Sequence[Any],
    workers: Sequence[Any],
    labels: Sequence[Any],
    *,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
    fit_items: int = FIT_ITEMS,
    ds_iter: int = DS_ITER,
    mace_iter: int = MACE_ITER,
    smoothing: float = DS_SMOOTHING,
    seed: int = 0,
) -> tuple[list[Any], FieldAggregate]:
    """Aggregate one field from parallel sequences (one entry per label). Returns the item
    ids (first-appearance order) and the :class:`FieldAggregate` aligned with them."""
    item_codes, item_ids = pd.factorize(pd.Series(list(items), dtype=object))
    worker_codes, worker_ids = pd.factorize(pd.Series(list(workers), dtype=object))
    enc = encode_values(list(labels), "nominal", missing_tokens=missing_tokens)
    agg = aggregate_codes(
        item_codes,
        worker_codes,
        enc.codes,
        len(item_ids),
        enc.domain,
        n_workers=len(worker_ids),
        fit_items=fit_items,
        ds_iter=ds_iter,
        mace_iter=mace_iter,
        smoothing=smoothing,
        seed=seed,
    )
    return list(item_ids), agg


def review_uncertainty(
    aggregates: Iterable[FieldAggregate], n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """(uncertainty, priority) per item for the review queue, highest uncertainty first:
    ``uncertainty = (1 − lowest posterior over fields and models) + [priority]`` where
    priority = in some field the Dawid–Skene label is not among the most-voted labels. So
    majority/DS conflicts come first, then the lowest posteriors."""
    low = np.ones(n_items)
    prio = np.zeros(n_items, dtype=bool)
    for agg in aggregates:
        has = agg.n_labels > 0
        post = np.fmin(agg.ds_posterior, agg.mace_posterior)
        low = np.where(has & np.isfinite(post), np.minimum(low, post), low)
        prio |= agg.priority
    return (1.0 - low) + prio, prio
