"""Krippendorff's alpha through the coincidence matrix, vectorised, with a unit bootstrap.

Definitions (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):

* A unit (item) with ``m_u`` usable values adds ``(n_uc n_uk − [c = k] n_uc) / (m_u − 1)`` to
  the coincidence ``o_ck``. Units with fewer than two values are *not pairable* and are left
  out; nothing is padded or imputed.
* ``n_c`` = Σ_k o_ck, ``n`` = Σ_c n_c (pairable values only).
* ``alpha = 1 − (n − 1) · Σ o_ck δ_ck / Σ n_c n_k δ_ck``.
* δ: nominal ``[c ≠ k]``; ordinal ``(Σ_{g=c..k} n_g − (n_c + n_k)/2)²`` (ranks, from the
  pairable marginals); interval ``(v_c − v_k)²``; ``masi`` (Passonneau 2006)
  ``1 − J·M`` with Jaccard J and M = 1 / ⅔ / ⅓ / 0 for equal / subset / overlapping /
  disjoint sets; ``jaccard`` ``1 − J``. Two empty sets have distance 0; an empty set against a
  non-empty one has distance 1.

Degenerate cases: no pairable unit → ``alpha = None``; when the pairable values show a single
category (so no disagreement is possible or observed) ``alpha = 1.0`` — full agreement is
1.0, never 0 or NaN. The ``krippendorff`` package returns NaN or raises there.

Missing: ``None``, NaN, and the abstention tokens (``cannot_judge``, ``n/a``, ``unsure`` by
default) are missing. ``missing_rate`` is the share of cells without a usable value,
``abstain_rate`` the share of answered cells that were an abstention token.

Speed: every pairable unit is reduced to its *type* — the sorted multiset of its value codes
— so a field is a handful of type counts. The point estimate, any subset (slices) and every
bootstrap draw are weight vectors over the types: the bootstrap resamples units with
replacement as multinomial counts over the types (identical in distribution) and evaluates
all draws with a few matrix products. 300k units × 3 coders take tens of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from .encoding import LEVELS, SET_LEVELS, encode_values
from .schema import MISSING_TOKENS

_BLOCK = 4_000_000  # array elements per bootstrap block
_MAX_SET_DOMAIN = 4096


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AlphaResult:
    alpha: float | None
    n_items: int  # pairable units (≥ 2 usable values)
    n_values: int  # usable values in pairable units
    missing_rate: float | None  # cells without a usable value / cells
    abstain_rate: float | None = None  # abstention tokens / answered cells
    abstentions: dict[str, int] = field(default_factory=dict)
    ci: tuple[float, float] | None = None
    level: str = "nominal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "ci": list(self.ci) if self.ci else None,
            "items": self.n_items,
            "values": self.n_values,
            "missing_rate": self.missing_rate,
            "abstain_rate": self.abstain_rate,
            "abstentions": dict(self.abstentions),
            "level": self.level,
        }


# --------------------------------------------------------------------------- distances


def set_distance(a: Iterable[Any], b: Iterable[Any], kind: str = "masi") -> float:
    """MASI (default) or Jaccard distance between two label sets; 0 for two empty sets."""
    sa, sb = frozenset(a), frozenset(b)
    if sa == sb:
        return 0.0
    inter = len(sa & sb)
    jac = inter / len(sa | sb)
    if kind == "jaccard":
        return 1.0 - jac
    if kind != "masi":
        raise ValueError("kind is 'masi' or 'jaccard'")
    if inter == min(len(sa), len(sb)):
        mono = 2.0 / 3.0
    elif inter > 0:
        mono = 1.0 / 3.0
    else:
        mono = 0.0
    return 1.0 - jac * mono


def _set_matrix(domain: Sequence[frozenset[Any]], kind: str) -> np.ndarray:
    v = len(domain)
    if v > _MAX_SET_DOMAIN:
        raise ValueError(f"too many distinct label sets ({v}) for a set distance")
    d = np.zeros((v, v))
    for i in range(v):
        for j in range(i + 1, v):
            d[i, j] = d[j, i] = set_distance(domain[i], domain[j], kind)
    return d


# --------------------------------------------------------------------------- field machinery


class FieldAlpha:
    """Alpha for one field: ``codes`` is (coders or slots × units), −1 / negative = no
    value. Unit types are computed once; :meth:`estimate` works on any subset of units."""

    def __init__(
        self,
        codes: np.ndarray,
        level: str,
        n_categories: int,
        *,
        numeric: np.ndarray | None = None,
        domain: Sequence[Any] | None = None,
    ) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}")
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2:
            raise ValueError("codes must be 2-D (coders × units)")
        codes = np.where(codes >= 0, codes, -1)
        self.level = level
        self.V = int(n_categories)
        valid = codes >= 0
        self.m_unit = valid.sum(axis=0)
        pairable = self.m_unit >= 2
        self.unit_type = np.full(codes.shape[1], -1, dtype=np.int64)
        sub = codes[:, pairable]
        if sub.shape[0] > 1:
            sub = np.sort(sub, axis=0)[::-1]  # usable codes first, descending
        smax = int(self.m_unit[pairable].max()) if sub.shape[1] else 0
        sub = sub[:smax]
        if sub.shape[1] == 0:
            self.types = np.zeros((0, smax), dtype=np.int64)
        else:
            base = self.V + 1
            if smax * math.log2(base) < 62:
                key = np.zeros(sub.shape[1], dtype=np.int64)
                mult = 1
                for i in range(smax):
                    key += (sub[i] + 1) * mult
                    mult *= base
                _, first, inv = np.unique(key, return_index=True, return_inverse=True)
                self.types = sub[:, first].T.copy()
            else:
                self.types, inv = np.unique(sub.T, axis=0, return_inverse=True)
            self.unit_type[pairable] = np.asarray(inv).reshape(-1)
        self.K = self.types.shape[0]
        self.type_m = (self.types >= 0).sum(axis=1).astype(np.float64)
        rows, cols = np.nonzero(self.types >= 0)
        self.C = sparse.csr_matrix(
            (np.ones(rows.size), (rows, self.types[rows, cols])), shape=(self.K, self.V)
        )
        self._prepare(numeric, domain)

    # -- per-type statistics
    def _slot_pairs(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        s = self.types.shape[1]
        for i in range(s):
            for j in range(i + 1, s):
                both = self.types[:, j] >= 0
                yield self.types[:, i], self.types[:, j], both

    def _prepare(self, numeric: np.ndarray | None, domain: Sequence[Any] | None) -> None:
        inv_m1 = 1.0 / np.maximum(self.type_m - 1.0, 1.0)
        level = self.level
        if level == "nominal":
            do = np.zeros(self.K)
            for a, b, both in self._slot_pairs():
                do += 2.0 * (both & (a != b))
            self.do = do * inv_m1
        elif level == "interval":
            if numeric is None:
                raise ValueError("interval data needs numeric values")
            vals = np.asarray(numeric, dtype=np.float64)
            used = self.types[self.types >= 0]
            center = float(np.median(vals[used])) if used.size else 0.0
            x = np.zeros((self.K, self.types.shape[1]))
            ok = self.types >= 0
            x[ok] = vals[self.types[ok]] - center
            self.s1 = x.sum(axis=1)
            self.s2 = (x * x).sum(axis=1)
            do = np.zeros(self.K)
            for i in range(x.shape[1]):
                for j in range(i + 1, x.shape[1]):
                    do += 2.0 * np.where(ok[:, j], (x[:, i] - x[:, j]) ** 2, 0.0)
            self.do = do * inv_m1
        elif level in SET_LEVELS:
            if domain is None:
                raise ValueError("set levels need the domain of label sets")
            self.D = _set_matrix([frozenset(d) for d in domain], level)
            do = np.zeros(self.K)
            for a, b, both in self._slot_pairs():
                do += 2.0 * np.where(both, self.D[np.maximum(a, 0), np.maximum(b, 0)], 0.0)
            self.do = do * inv_m1
        else:  # ordinal: the per-type coincidence matrices, flattened
            V = self.V
            r, c, w = [], [], []
            for a, b, both in self._slot_pairs():
                k = np.flatnonzero(both)
                for x, y in ((a[k], b[k]), (b[k], a[k])):
                    r.append(k)
                    c.append(x * V + y)
                    w.append(inv_m1[k])
            if r:
                rr, cc, ww = np.concatenate(r), np.concatenate(c), np.concatenate(w)
            else:
                rr = cc = np.zeros(0, dtype=np.int64)
                ww = np.zeros(0)
            self.O = sparse.csr_matrix((ww, (rr, cc)), shape=(self.K, V * V))

    # -- evaluation
    def _width(self) -> int:
        return self.V * self.V if self.level == "ordinal" else max(self.V, 1)

    def alphas(self, W: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Alpha for each row of type weights ``W`` (draws × types, or draws × the
        ``active`` types only)."""
        W = np.atleast_2d(np.asarray(W, dtype=np.float64))

        def sub(a: Any) -> Any:
            return a if active is None else a[active]

        n = W @ sub(self.type_m)
        if self.level == "interval":
            S1, S2 = W @ sub(self.s1), W @ sub(self.s2)
            de = 2.0 * n * S2 - 2.0 * S1 * S1
            do = W @ sub(self.do)
        else:
            nc = np.asarray((sub(self.C).T @ W.T).T)
            if self.level == "nominal":
                de = n * n - (nc * nc).sum(axis=1)
                do = W @ sub(self.do)
            elif self.level in SET_LEVELS:
                de = ((nc @ self.D) * nc).sum(axis=1)
                do = W @ sub(self.do)
            else:
                o = np.asarray((sub(self.O).T @ W.T).T).reshape(-1, self.V, self.V)
                cum = np.cumsum(nc, axis=1)
                idx = np.arange(self.V)
                lo = np.minimum.outer(idx, idx)
                hi = np.maximum.outer(idx, idx)
                between = cum[:, hi] - cum[:, lo] + nc[:, lo]
                d = (between - (nc[:, lo] + nc[:, hi]) / 2.0) ** 2
                do = (o * d).sum(axis=(1, 2))
                de = np.einsum("bc,bck,bk->b", nc, d, nc)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(de > 0, 1.0 - (n - 1.0) * do / np.where(de > 0, de, 1.0), 1.0)
        return out

    def freq(self, mask: np.ndarray | None = None) -> np.ndarray:
        t = self.unit_type if mask is None else self.unit_type[np.asarray(mask, dtype=bool)]
        return np.bincount(t[t >= 0], minlength=self.K).astype(np.float64)

    def estimate(
        self,
        mask: np.ndarray | None = None,
        *,
        confidence: float | None = None,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> tuple[float | None, int, int, tuple[float, float] | None]:
        """(alpha, pairable units, pairable values, CI or None) over the units in ``mask``."""
        return self.estimate_freq(self.freq(mask), confidence=confidence, n_boot=n_boot, seed=seed)

    def estimate_freq(
        self,
        f: np.ndarray,
        *,
        confidence: float | None = None,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> tuple[float | None, int, int, tuple[float, float] | None]:
        """:meth:`estimate` for units given as counts per unit type."""
        n_units = int(f.sum())
        if n_units == 0:
            return None, 0, 0, None
        alpha = float(self.alphas(f)[0])
        n_values = round(float(f @ self.type_m))
        ci = None
        if confidence is not None and n_boot > 0:
            ci = self.bootstrap_ci(f, confidence=confidence, n_boot=n_boot, seed=seed)
        return alpha, n_units, n_values, ci

    def draws(self, f: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
        """Alpha of ``n_boot`` resamples (with replacement) of the units counted in ``f``.

        A resample of N units is a multinomial count vector over the unit types; it is
        drawn directly (cost ∝ types) or, when types are nearly as many as units, by
        drawing N unit indices (cost ∝ units)."""
        rng = np.random.default_rng(seed)
        n_units = int(f.sum())
        active = np.flatnonzero(f)
        p = f[active] / n_units
        k = active.size
        use_multinomial = k * 12 <= n_units
        per_draw = max(k, self._width(), 0 if use_multinomial else n_units)
        block_size = int(max(1, _BLOCK // per_draw))
        out = np.empty(n_boot)
        done = 0
        pop = None
        if not use_multinomial:
            pop = np.repeat(np.arange(k, dtype=np.int32), f[active].astype(np.int64))
        while done < n_boot:
            block = min(n_boot - done, block_size)
            if use_multinomial:
                counts = rng.multinomial(n_units, p, size=block).astype(np.float64)
            else:
                assert pop is not None
                picks = pop[rng.integers(0, n_units, size=(block, n_units), dtype=np.int32)]
                picks += (np.arange(block, dtype=np.int32) * k)[:, None]
                binned = np.bincount(picks.ravel(), minlength=block * k)
                counts = binned.reshape(block, k).astype(np.float64)
            out[done : done + block] = self.alphas(counts, active)
            done += block
        return out

    def bootstrap_ci(
        self, f: np.ndarray, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
    ) -> tuple[float, float]:
        a = self.draws(f, n_boot, seed)
        tail = (1.0 - confidence) / 2.0
        lo, hi = np.quantile(a, [tail, 1.0 - tail])
        return float(lo), float(hi)

    def pair_counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """V×V counts of ordered coder pairs within units (symmetric, integer)."""
        f = self.freq(mask)
        cf = sparse.diags(f) @ self.C
        m = np.asarray((self.C.T @ cf).todense()) - np.diag(self.C.T @ f)
        return np.rint(m).astype(np.int64)


# --------------------------------------------------------------------------- public API


def _matrix_cells(reliability_data: Any) -> tuple[Any, int, int]:
    """(flat cells, rows, columns) of an annotators × items matrix."""
    if isinstance(reliability_data, np.ndarray):
        if reliability_data.ndim != 2:
            raise ValueError("reliability data must be 2-D (annotators × items)")
        r, c = reliability_data.shape
        return reliability_data.reshape(-1), r, c
    rows = [list(row) for row in reliability_data]
    if not rows:
        return [], 0, 0
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError("every annotator row needs one cell per item")
    return [v for row in rows for v in row], len(rows), widths.pop()


def krippendorff_alpha(
    reliability_data: Any,
    level: str = "nominal",
    *,
    value_domain: Sequence[Any] | None = None,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
    confidence: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> AlphaResult:
    """Krippendorff's alpha of an (annotators × items) matrix; missing = None / NaN /
    abstention tokens. ``level``: nominal, ordinal, interval, masi or jaccard (cells of the
    set levels are lists / sets). ``value_domain`` orders ordinal labels that are not
    numbers. ``confidence`` (e.g. 0.95) adds a percentile bootstrap CI over units."""
    cells, r, c = _matrix_cells(reliability_data)
    enc = encode_values(cells, level, missing_tokens=missing_tokens, value_domain=value_domain)
    codes = enc.codes.reshape(r, c)
    fa = FieldAlpha(codes, level, len(enc.domain), numeric=enc.numeric, domain=enc.domain)
    alpha, n_items, n_values, ci = fa.estimate(confidence=confidence, n_boot=n_boot, seed=seed)
    total = codes.size
    absent = int((codes == -1).sum())
    abstained = {t: int((codes == -2 - i).sum()) for i, t in enumerate(enc.tokens)}
    n_abst = sum(abstained.values())
    answered = total - absent
    return AlphaResult(
        alpha=alpha,
        n_items=n_items,
        n_values=n_values,
        missing_rate=(absent + n_abst) / total if total else None,
        abstain_rate=n_abst / answered if answered else None,
        abstentions={t: k for t, k in abstained.items() if k},
        ci=ci,
        level=level,
    )


def alpha_ci(
    reliability_data: Any,
    level: str = "nominal",
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    value_domain: Sequence[Any] | None = None,
    missing_tokens: Iterable[str] = MISSING_TOKENS,
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of alpha: pairable units resampled with replacement,
    ``n_boot`` draws, fixed ``seed``. None when no unit is pairable."""
    res = krippendorff_alpha(
        reliability_data,
        level,
        value_domain=value_domain,
        missing_tokens=missing_tokens,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return res.ci
