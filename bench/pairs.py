"""Benchmark P9: cross-source candidate pairs for N claims (default 100,000).

Run from the repository root: ``python bench/pairs.py [--n 100000] [--embed-all]``.

The corpus is synthesised from the sample page's sentences (the probe's split of
tests/data/pairing/sample.txt, English and Arabic): every claim is a source sentence with
its numbers changed, place names swapped for spelling variants of the gazetteer, and a
varied lead-in or tail, so claims are not byte copies. Claims are grouped 20 to an
article (~N/20 articles), articles spread over 30 outlets and over 2019-2020 dates.

Timed, one table row per figure with the corpus size, wall and CPU seconds (CPU of all
threads of this process: on a shared machine wall time is the less reliable figure):

* sentence vectors: claims/s measured on a subset (``--embed-sample``, default 5,000)
  and extrapolated to N, clearly marked; with ``--embed-all`` every claim is encoded
  and the figure is measured. Without it, the other claims get their source sentence's
  vector plus small noise, which costs nothing and keeps the pairing work realistic;
* preparation (names, numbers, dates, TF-IDF, context vectors), cold (nothing memoised)
  and warm (what the next run in the same worker pays);
* retrieval (the search mode the pool size selects: partitioned from 20k claims), the
  first pass (features and first-pass model), the second pass (neighbour profiles,
  expanded vectors, final model) and the top-k cut: pairs scored per second;
* for a sample of queries (``--check``, default 1,000) the share of the full scan's
  first-pass top 10 that the partitioned search retrieved;
* end to end: everything ``all_candidates`` does, plus the (extrapolated) encoding;
* incremental: one new article of 20 claims against all N, in the same process (warm
  memos, as in a long-lived worker).

BLAS runs with ``--blas-threads`` threads (default 1, as the pairs job): with other
processes on the cores, 2 threads spin-wait and cost ~2.5x the CPU for the same work.

``--db NAME`` runs the same corpus end to end as background jobs instead: a dedicated
PostgreSQL database NAME (dropped first) is migrated, the claims are inserted as a
project's articles, a real Celery worker (REDIS_URL required) runs the ``pairs`` job
(vectors encoded and stored, pairs ranked, stored, clustered, queued), then one more
article of 20 claims arrives and a second (incremental) job runs. Printed: each job's
wall time and its own phase times, the worker's and PostgreSQL's CPU seconds.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annotations.pairing import encoder, ngrams, partitioned  # noqa: E402
from annotations.pairing.calibration import first_probability, probability  # noqa: E402
from annotations.pairing.candidates import (  # noqa: E402
    DEFAULT_RETRIEVE_K,
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_K,
    ClaimInfo,
    incremental_candidates,
)
from annotations.pairing.features import pair_features, prepare_pool  # noqa: E402
from annotations.pairing.gazetteer import GAZETTEER  # noqa: E402
from annotations.pairing.neighbours import FirstPass, model_matrix, select_top  # noqa: E402
from annotations.pairing.probe import load_probe  # noqa: E402
from annotations.pairing.retrieval import retrieve_pairs, search_mode  # noqa: E402

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
    parser.add_argument(
        "--check", type=int, default=1_000, help="queries compared with a full scan"
    )
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--db", help="run the pairs job end to end in this (new) database")
    args = parser.parse_args()
    if args.db:
        run_jobs(args)
        return
    with threadpool_limits(limits=args.blas_threads):
        run(args)


def run(args: argparse.Namespace) -> None:
    n = args.n
    t0 = time.perf_counter()
    claims, origin = synthesise(n)
    print(f"corpus: {n:,} claims, {len({c.article_id for c in claims}):,} articles, "
          f"{len({c.outlet for c in claims})} outlets, {os.cpu_count()} CPUs, BLAS threads "
          f"{args.blas_threads}, built in {time.perf_counter() - t0:.1f} s")  # fmt: skip
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
    row("prepare pool, cold (names, numbers, dates, n-grams, context)", f"{prep.wall:,.1f} s",
        n, prep.cpu)  # fmt: skip
    with Timer() as warm:
        prepare_pool(claims)
    row("prepare pool, warm (per-text work memoised)", f"{warm.wall:,.1f} s", n, warm.cpu)

    mode = search_mode(n)
    queries = np.arange(n, dtype=np.int64)
    with Timer() as retr:
        i, j, enc, tf, flags = retrieve_pairs(pool, queries, DEFAULT_RETRIEVE_K, DEFAULT_TOP_K)
    row(f"retrieval ({mode} search): products and top lists", f"{retr.wall:,.1f} s", n,
        retr.cpu)  # fmt: skip
    if mode == "partitioned":
        cells = round(np.sqrt(n))
        row("  cells, cells visited per query", f"{cells}, {min(partitioned.PROBES, cells)}", n)
    with Timer() as first:
        x1 = pair_features(pool, i, j, enc=enc, tfidf=tf)
        fp = FirstPass(i, j, flags, x1, first_probability(x1), queries, DEFAULT_RETRIEVE_K,
                       DEFAULT_TOP_K)  # fmt: skip
    with Timer() as second:
        score = probability(model_matrix(pool, fp))
        keep = select_top(pool, i, j, score, DEFAULT_TOP_K)
    scoring_wall, scoring_cpu = first.wall + second.wall, first.cpu + second.cpu
    row("scoring: candidate pairs scored", f"{len(i):,}", n)
    row("  first pass (features, first-pass model)", f"{first.wall:,.1f} s", n, first.cpu)
    row("  second pass (profiles, expansion, final model, top-k)", f"{second.wall:,.1f} s",
        n, second.cpu)  # fmt: skip
    row("scoring: pairs/s (both passes + top-k)", f"{len(i) / scoring_wall:,.0f}", n, scoring_cpu)
    kept = keep[score[keep] >= DEFAULT_THRESHOLD]
    unique = {
        (min(a, b), max(a, b)) for a, b in zip(i[kept].tolist(), j[kept].tolist(), strict=True)
    }
    row(
        f"pairs proposed (top-{DEFAULT_TOP_K}, score >= {DEFAULT_THRESHOLD})", f"{len(unique):,}", n
    )

    if mode != "exact" and args.check:
        check_partition(pool, fp, args.check, n)

    pair_s = prep.wall + retr.wall + scoring_wall
    pair_cpu = prep.cpu + retr.cpu + scoring_cpu
    row("pairing without sentence vectors (measured)", f"{pair_s:,.1f} s", n, pair_cpu)
    label = "measured" if args.embed_all else "vectors EXTRAPOLATED"
    total, total_cpu = pair_s + embed_s, pair_cpu + embed_cpu
    row(f"end to end incl. vectors ({label})", f"{total / 60:,.1f} min", n, total_cpu)
    verdict = "met" if total <= 1800 else ("met by CPU time" if total_cpu <= 1800 else "NOT met")
    if n < 100_000:
        verdict = "n/a (N < 100k)"
    row("P9 target: 100k claims within 30 min on 2 cores", verdict, n)

    new = new_article(claims)
    analysed = ngrams.texts_analysed()
    with Timer() as inc:
        incremental_candidates(new, claims)
    row("incremental: 1 new article (20 claims) vs all, warm", f"{inc.wall:,.1f} s", n, inc.cpu)
    row("  texts analysed for n-grams in that run", f"{ngrams.texts_analysed() - analysed:,}", n)


def check_partition(pool: Any, fp: FirstPass, sample: int, n: int) -> None:
    """Share of the full scan's first-pass top 10 that the search retrieved (sample)."""
    rng = np.random.default_rng(3)
    queries = np.sort(rng.choice(n, min(sample, n), replace=False))
    with Timer() as t:
        i, j, enc, tf, _ = retrieve_pairs(pool, queries, DEFAULT_RETRIEVE_K, DEFAULT_TOP_K,
                                          mode="compressed")  # fmt: skip
        p = first_probability(pair_features(pool, i, j, enc=enc, tfidf=tf))
    top = select_top(pool, i, j, p, DEFAULT_TOP_K)
    want = set(zip(i[top].tolist(), j[top].tolist(), strict=True))
    got = set(zip(fp.i.tolist(), fp.j.tolist(), strict=True))
    share = len(want & got) / max(1, len(want))
    row(f"full scan of {len(queries):,} queries: its top-10 retrieved", f"{share:.1%}", n, t.cpu)


def new_article(claims: list[ClaimInfo]) -> list[ClaimInfo]:
    """An article of 20 claims from a new outlet (texts not seen before)."""
    n = len(claims)
    return [
        replace(c, id=n + k, article_id="new-article", outlet="New Outlet", text=f"{c.text} (new)")
        for k, c in enumerate(claims[:20])
    ]


def run_jobs(args: argparse.Namespace) -> None:
    """The pairs job end to end through a real worker (see the module docstring)."""
    import subprocess
    import uuid

    from bench.ingest import DB_CPU, cpu_seconds, fresh_worker_env, start_worker, wait

    env = {**fresh_worker_env(args.db), "PAIRING_BLAS_THREADS": str(args.blas_threads)}
    redis_url = env["REDIS_URL"]
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from workbench.celery import app

    queue = f"bench-pairs-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_url = redis_url

    n = args.n
    claims, _ = synthesise(n)
    with Timer() as t:
        project = insert_corpus(claims)
    print(f"corpus: {n:,} claims in {len({c.article_id for c in claims}):,} articles inserted "
          f"in {t.wall:.1f} s; BLAS threads {args.blas_threads}")  # fmt: skip
    print(f"| {'figure':<56} | {'value (wall)':>18} | {'CPU time':>11} | {'corpus':>16} |")
    print(f"|{'-' * 58}|{'-' * 20}|{'-' * 13}|{'-' * 18}|")
    worker = start_worker(env, queue, 1)
    try:
        full = run_pairs_job(project, queue, worker.pid, DB_CPU, cpu_seconds, wait)
        report_job("full run", full, n)
        insert_corpus(new_article(claims), project=project)
        inc = run_pairs_job(project, queue, worker.pid, DB_CPU, cpu_seconds, wait)
        report_job("+1 article (20 claims)", inc, n)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def insert_corpus(claims: list[ClaimInfo], project: Any = None) -> Any:
    """Insert synthetic claims as a project's documents, articles and body claims."""
    import hashlib

    from annotations.models import Article, Claim, Document, Outlet
    from annotations.services.projects import project_create

    if project is None:
        project = project_create(slug="bench-pairs", suggestions="off")
    by_article: dict[Any, list[ClaimInfo]] = {}
    for c in claims:
        by_article.setdefault(c.article_id, []).append(c)
    outlets = {}
    for name in sorted({c.outlet for c in claims if c.outlet}):
        outlets[name], _ = Outlet.objects.get_or_create(
            project=project, key=name.casefold(), defaults={"name": name}
        )
    docs, arts = [], []
    for key, members in by_article.items():
        text = "\n".join(c.text for c in members)
        sha = hashlib.sha256(f"{project.pk}:{key}:{text}".encode()).hexdigest()
        docs.append(Document(project=project, name=f"{key}.txt", format="txt", sha256=sha,
                             size=len(text.encode()), text=text))  # fmt: skip
        first = members[0]
        arts.append(Article(project=project, start=0, end=len(text), title=first.text[:200],
                            outlet=outlets.get(first.outlet), outlet_name=first.outlet or "",
                            published=first.published, language=first.language,
                            content_hash=sha))  # fmt: skip
    Document.objects.bulk_create(docs, batch_size=2000)
    for doc, art in zip(docs, arts, strict=True):
        art.document = doc
    Article.objects.bulk_create(arts, batch_size=2000)
    rows = []
    for art, members in zip(arts, by_article.values(), strict=True):
        offset = 0
        for position, c in enumerate(members):
            rows.append(Claim(project=project, article=art, position=position, start=offset,
                              end=offset + len(c.text), text=c.text, language=c.language,
                              unit_kind="body", claim_likelihood=0.8))  # fmt: skip
            offset += len(c.text) + 1
    Claim.objects.bulk_create(rows, batch_size=5000)
    return project


def run_pairs_job(project: Any, queue: str, worker: int, db_cpu: Any, cpu: Any, wait: Any) -> dict:
    from annotations.models import Job
    from annotations.services.pairs import pairs_job_create

    worker_cpu = cpu(worker)
    db_cpu.start()
    started = time.perf_counter()
    job = pairs_job_create(project=project, user=None)
    wait([job.pk], queue, "pairs", timeout=3 * 3600)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    if job.state != "done":
        raise SystemExit(f"pairs job {job.state}: {job.error}")
    return {
        "seconds": seconds,
        "worker_cpu": cpu(worker) - worker_cpu,
        "db_cpu": db_cpu.total(),
        "result": job.result or {},
    }


def report_job(label: str, run: dict, n: int) -> None:
    result = run["result"]
    phases = result.get("seconds", {})
    row(f"pairs job, {label}: queued to done", f"{run['seconds'] / 60:,.1f} min", n,
        run["worker_cpu"])  # fmt: skip
    row("  PostgreSQL backends' CPU", "", n, run["db_cpu"])
    row("  phases in the job: vectors / pairing / total", f"{phases.get('embed', 0):,.0f} / "
        f"{phases.get('pair', 0):,.0f} / {phases.get('total', 0):,.0f} s", n)  # fmt: skip
    row("  claims encoded, claims paired", f"{result.get('embedded', 0):,}, "
        f"{result.get('paired_claims', 0):,}", n)  # fmt: skip
    row("  pairs stored (added), items created", f"{result.get('pairs_added', 0):,}, "
        f"{result.get('items_added', 0):,}", n)  # fmt: skip
    row("  event clusters", f"{result.get('clusters', 0):,}", n)
    if label == "full run":
        verdict = "met" if run["seconds"] <= 1800 else "NOT met"
        row("P9 target: 100k claims within 30 min on 2 cores", verdict if n >= 100_000
            else "n/a (N < 100k)", n)  # fmt: skip


def probe_pool_vector(pool: list[ClaimInfo], k: int) -> np.ndarray:
    vector = pool[k].embedding
    assert vector is not None
    return np.asarray(vector, dtype=np.float32)


if __name__ == "__main__":
    main()
