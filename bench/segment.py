"""Benchmark P1: segmentation speed (articles + sentences + language), one process.

Builds a corpus (default 50 MB) with bench/corpus.py, runs
``annotations.ingest.segment_text`` on it in this process and prints one table
row: corpus MB, articles, sentences (all units), wall seconds, sentences/s, and
the same per CPU second (``time.process_time``), which is the steadier figure
on a shared machine; the load average before the run is printed too.
Target (docs quality.md P1): >= 50,000 sentences/s on a 50 MB corpus.

Run from the repository root: ``python bench/segment.py [--mb 50] [--seed 0]
[--pages] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotations.ingest import segment_text  # noqa: E402
from bench.corpus import build_corpus  # noqa: E402

TARGET = 50_000


def run(corpus: str, per_page: bool) -> tuple[int, int]:
    texts = corpus.split("%d bloggers like this:") if per_page else [corpus]
    articles = sentences = 0
    for text in texts:
        for article in segment_text(text):
            articles += 1
            sentences += len(article.sentences)
    return articles, sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size in MB (10**6 bytes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", action="store_true", help="segment page by page, not at once")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()

    started = time.perf_counter()
    corpus = build_corpus(int(args.mb * 1_000_000), args.seed)
    built = time.perf_counter() - started
    size_mb = len(corpus.encode("utf-8")) / 1e6
    segment_text("Warm up. The language model loads once.")

    # CPU time, not wall time: on a shared machine the wall clock mostly measures the others
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    cpu_started = time.process_time()
    if profiler:
        profiler.enable()
    articles, sentences = run(corpus, args.pages)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rate = sentences / seconds if seconds else float("inf")
    cpu_rate = sentences / cpu if cpu else float("inf")

    print(
        f"corpus built in {built:.1f} s (seed {args.seed}); segment_text in one process;"
        f" load average before the run {load:.1f} on {os.cpu_count()} CPUs"
    )
    print("| corpus MB | articles | sentences | seconds | sentences/s | CPU s | sentences/CPU s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {size_mb:.1f} | {articles:,} | {sentences:,} | {seconds:.2f} | {rate:,.0f} "
        f"| {cpu:.2f} | {cpu_rate:,.0f} |"
    )
    verdict = "reached" if rate >= TARGET else "NOT reached (wall clock)"
    print(f"target P1 >= {TARGET:,} sentences/s: {verdict}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
