"""Benchmark P9: cross-source candidate pairs for N claims (default 100,000).

Run from the repository root: ``python bench/pairs.py [--n 100000] [--embed-all]``.

The corpus is synthesised from the sample page's sentences (the probe's split of
tests/data/pairing/sample.txt, English and Arabic): every claim is a source sentence with
its numbers changed, place names swapped for spelling variants of the gazetteer, and a
varied lead-in or tail, so claims are not byte copies. Claims are grouped 20 to an
article (~N/20 articles), articles spread over 30 outlets and over 2019-2020 dates.

Timed, one table row per figure with the corpus size:

* sentence vectors: claims/s measured on a subset (``--embed-sample``, default 5,000)
  and extrapolated to N, clearly marked; with ``--embed-all`` every claim is encoded
  and the figure is measured. Without it, the other claims get their source sentence's
  vector plus small noise, which costs nothing and keeps the pairing work realistic;
* preparation (names, numbers, dates, TF-IDF, context vectors);
* retrieval (blocked matrix products and top lists) and scoring (features and the
  calibrated model): pairs scored per second;
* end to end: everything ``all_candidates`` does, plus the (extrapolated) encoding;
* incremental: one new article of 20 claims against all N.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from annotations.pairing import encoder  # noqa: E402
from annotations.pairing.calibration import probability  # noqa: E402
from annotations.pairing.candidates import (  # noqa: E402
    DEFAULT_RETRIEVE_K,
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_K,
    ClaimInfo,
    incremental_candidates,
)
from annotations.pairing.features import pair_features, prepare_pool  # noqa: E402
from annotations.pairing.gazetteer import GAZETTEER  # noqa: E402
from annotations.pairing.neighbours import select_top  # noqa: E402
from annotations.pairing.probe import load_probe  # noqa: E402
from annotations.pairing.retrieval import EXACT_MAX_CLAIMS, retrieve_pairs  # noqa: E402

OUTLETS = [f"Outlet {k:02d}" for k in range(30)]
LEADS_EN = ["", "", "Reportedly, ", "According to local sources, ", "Update: ", "Meanwhile, "]
TAILS_EN = ["", "", " (sources said)", " — officials confirmed.", " according to reports."]
LEADS_AR = ["", "", "وبحسب مصادر محلية، ", "عاجل: ", "وفي السياق، "]
_NUMBER = re.compile(r"\d+")


def _variants() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for row in GAZETTEER:
        for alias in row:
            table[alias] = [a for a in row if a != alias] or [alias]
    return table


def synthesise(n: int, seed: int = 7) -> tuple[list[ClaimInfo], list[int]]:
    """N varied claims and, for each, the index of its source sentence."""
    rng = random.Random(seed)
    probe = load_probe(embed=False)
    sources = [c for c in probe.pool if len(c.text) > 40]
    variants = _variants()
    names = sorted(variants, key=len, reverse=True)
    name_re = re.compile("|".join(re.escape(a) for a in names if len(a) > 3))
    claims: list[ClaimInfo] = []
    origin: list[int] = []
    start = date(2019, 1, 1)
    n_articles = max(1, n // 20)
    for art in range(n_articles):
        outlet = OUTLETS[rng.randrange(len(OUTLETS))]
        published = start + timedelta(days=rng.randrange(700))
        for _ in range(min(20, n - len(claims))):
            k = rng.randrange(len(sources))
            src = sources[k]
            text = _NUMBER.sub(lambda m: str(int(m[0]) + rng.randrange(1, 9)), src.text)
            text = name_re.sub(lambda m: rng.choice(variants[m[0]]), text)
            if src.language == "ar":
                text = rng.choice(LEADS_AR) + text
            else:
                text = rng.choice(LEADS_EN) + text + rng.choice(TAILS_EN)
            claims.append(
                ClaimInfo(len(claims), f"art{art}", outlet, src.language, text, published)
            )
            origin.append(k)
    return claims, origin


def row(figure: str, value: str, n: int, cpu: float | None = None) -> None:
    cpu_text = "" if cpu is None else f"{cpu:,.1f} s"
    print(f"| {figure:<56} | {value:>18} | {cpu_text:>11} | {n:>9,} claims |", flush=True)


class Timer:
    """Wall and CPU (all threads of this process) seconds of a block."""

    def __enter__(self) -> Timer:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--embed-sample", type=int, default=5_000)
    parser.add_argument("--embed-all", action="store_true")
    args = parser.parse_args()
    n = args.n

    t0 = time.perf_counter()
    claims, origin = synthesise(n)
    print(f"corpus: {n:,} claims, {len({c.article_id for c in claims}):,} articles, "
          f"{len({c.outlet for c in claims})} outlets, {os.cpu_count()} CPUs, "
          f"built in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.1f} (other processes share the CPUs: wall times "
          "then exceed CPU times)")  # fmt: skip
    print(f"| {'figure':<56} | {'value (wall)':>18} | {'CPU time':>11} | {'corpus':>16} |")
    print(f"|{'-' * 58}|{'-' * 20}|{'-' * 13}|{'-' * 18}|")

    encoder.encode(["warm up"])
    if args.embed_all:
        with Timer() as t:
            vectors = encoder.encode([c.text for c in claims])
        embed_s, embed_cpu = t.wall, t.cpu
        row("sentence vectors: claims/s (measured, all)", f"{n / t.wall:,.0f}", n, t.cpu)
        row("sentence vectors: time for N (measured)", f"{t.wall:,.1f} s", n, t.cpu)
    else:
        sample = min(args.embed_sample, n)
        with Timer() as t:
            measured = encoder.encode([c.text for c in claims[:sample]])
        embed_s, embed_cpu = t.wall * n / sample, t.cpu * n / sample
        row(f"sentence vectors: claims/s (measured on {sample:,})", f"{sample / t.wall:,.0f}",
            n, t.cpu)  # fmt: skip
        row("sentence vectors: time for N (EXTRAPOLATED)", f"{embed_s:,.1f} s", n, embed_cpu)
        # the rest: the source sentence's vector plus noise (see the module docstring)
        probe_pool = load_probe(embed=True).pool
        base = np.stack([probe_pool_vector(probe_pool, k) for k in range(len(probe_pool))])
        sources = [k for k, c in enumerate(probe_pool) if len(c.text) > 40]
        rng = np.random.default_rng(1)
        vectors = base[[sources[k] for k in origin]]
        vectors = vectors + rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
        vectors[:sample] = measured
        vectors = encoder.normalise_rows(vectors)
    claims = [replace(c, embedding=v) for c, v in zip(claims, vectors, strict=True)]

    with Timer() as prep:
        pool = prepare_pool(claims)
    row("prepare pool (names, numbers, dates, TF-IDF, context)", f"{prep.wall:,.1f} s", n,
        prep.cpu)  # fmt: skip

    with Timer() as retr:
        queries = np.arange(n, dtype=np.int64)
        i, j, enc, tf, _ = retrieve_pairs(pool, queries, DEFAULT_RETRIEVE_K, DEFAULT_TOP_K)
    space = "exact" if n <= EXACT_MAX_CLAIMS else "compressed"
    row(f"retrieval ({space} space): blocked products, top lists", f"{retr.wall:,.1f} s", n,
        retr.cpu)  # fmt: skip
    row("retrieval: claim pairs compared per second", f"{n * n / retr.wall:,.0f}", n)

    with Timer() as scoring:
        x = pair_features(pool, i, j, enc=enc, tfidf=tf)
        score = probability(x)
        keep = select_top(pool, i, j, score, DEFAULT_TOP_K, None)
    row("scoring: candidate pairs scored", f"{len(i):,}", n)
    row("scoring: pairs/s (features + model + top-k)", f"{len(i) / scoring.wall:,.0f}", n,
        scoring.cpu)  # fmt: skip
    kept = keep[score[keep] >= DEFAULT_THRESHOLD]
    pairs = zip(i[kept].tolist(), j[kept].tolist(), strict=True)
    unique = {(min(a, b), max(a, b)) for a, b in pairs}
    row(
        f"pairs proposed (top-{DEFAULT_TOP_K}, score >= {DEFAULT_THRESHOLD})", f"{len(unique):,}", n
    )

    pair_s = prep.wall + retr.wall + scoring.wall
    pair_cpu = prep.cpu + retr.cpu + scoring.cpu
    row("pairing without sentence vectors (measured)", f"{pair_s:,.1f} s", n, pair_cpu)
    label = "measured" if args.embed_all else "vectors EXTRAPOLATED"
    total, total_cpu = pair_s + embed_s, pair_cpu + embed_cpu
    row(f"end to end incl. vectors ({label})", f"{total / 60:,.1f} min", n, total_cpu)
    verdict = "met" if total <= 1800 else ("met by CPU time" if total_cpu <= 1800 else "NOT met")
    if n < 100_000:
        verdict = f"n/a (N < 100k; x{(100_000 / n) ** 2:,.0f} retrieval)"
    row("P9 target: 100k claims within 30 min on 2 cores", verdict, n)

    new = [replace(c, id=n + k, article_id="new-article", outlet="New Outlet")
           for k, c in enumerate(claims[:20])]  # fmt: skip
    with Timer() as inc:
        incremental_candidates(new, claims)
    row("incremental: 1 new article (20 claims) vs all", f"{inc.wall:,.1f} s", n, inc.cpu)


def probe_pool_vector(pool: list[ClaimInfo], k: int) -> np.ndarray:
    vector = pool[k].embedding
    assert vector is not None
    return np.asarray(vector, dtype=np.float32)


if __name__ == "__main__":
    main()
