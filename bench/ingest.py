"""Benchmark P2: ingest files → rows committed in PostgreSQL, through a real Celery worker.

Builds a corpus of about ``--claims`` sentence units with bench/corpus.py (varied, so content
hashing does not hide the work), splits it into ``--files`` text files, creates a dedicated
PostgreSQL database (dropped first; ``--db``), migrates it, starts a Celery worker process
(``--concurrency``) against REDIS_URL, queues one import job per file and measures from the
first enqueue until every import job is done (the claims are committed then). Each import
queues a ``suggest_fill`` job that fills the claims' label suggestions after it commits; the
benchmark waits for those too and prints their throughput on a row of its own (from the first
fill job's start to the last one's end). A second run imports the same corpus into a project
with suggestions off (no fill jobs); ``--skip-no-suggest`` leaves it out. The load average is
printed with each row. A job that stays queued with its Redis queue empty is reported (lost).
Target (quality.md P2): >= 10,000 claims/s.

Run from the repository root:
``REDIS_URL=redis://127.0.0.1:6379/8 python bench/ingest.py [--claims 100000] [--files 20]``
(``DATABASE_URL`` names the server to use, default postgres://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET = 10_000
BYTES_PER_UNIT = 160  # the sample page: 78 kB, 506 units


def server_url(database: str) -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    if parts.scheme not in {"postgres", "postgresql"}:
        base = "postgres://postgres@127.0.0.1:5432/postgres"
        parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def split_corpus(text: str, parts: int) -> list[str]:
    """Cut at blank lines into about `parts` pieces."""
    size = max(1, len(text) // parts)
    out: list[str] = []
    start = 0
    while start < len(text):
        cut = text.find("\n\n", start + size)
        if cut < 0 or len(out) == parts - 1:
            cut = len(text)
        out.append(text[start:cut].strip("\n") + "\n")
        start = cut
    return [p for p in out if p.strip()]


def start_worker(env: dict[str, str], queue: str, concurrency: int) -> subprocess.Popen[bytes]:
    log_path = ROOT / "var" / f"bench-ingest-worker-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            os.environ.get("BENCH_WORKER_LOGLEVEL", "--loglevel=WARNING"),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # Ready when a ping on the queue's control channel answers.
    from workbench.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"worker exited; see {log_path}")
        if app.control.ping(timeout=0.5):
            return proc
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"worker not ready in 60 s; see {log_path}")


def wait(ids: list[Any], queue: str, what: str, timeout: float) -> None:
    """Poll until the jobs are finished; report jobs left queued with an empty Redis queue."""
    from django.conf import settings

    from annotations.models import Job

    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    while time.monotonic() < deadline:
        states = list(Job.objects.filter(pk__in=ids).values_list("state", flat=True))
        if len(states) == len(ids) and all(s in {"done", "failed"} for s in states):
            return
        queued = states.count("queued")
        running = states.count("running")
        if queued and not running and queue_length(settings.REDIS_URL, queue) == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 30:
                print(f"LOST: {queued} {what} jobs queued, none running, queue empty for 30 s",
                      file=sys.stderr)  # fmt: skip
                return
        else:
            idle_since = None
        time.sleep(0.05)
    print(f"TIMEOUT: {what} jobs unfinished after {timeout:.0f} s", file=sys.stderr)


def queue_length(redis_url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


def run(
    project_slug: str, files: list[str], suggestions: str, queue: str
) -> tuple[float, int, int, tuple[float, int, int] | None]:
    """(import seconds, claims, failed jobs, (fill seconds, filled claims, fill jobs) or None)."""
    from annotations.models import Claim, Job
    from annotations.services.imports import import_job_create
    from annotations.services.projects import project_create

    project = project_create(slug=project_slug, suggestions=suggestions)
    started = time.perf_counter()
    jobs = [
        import_job_create(project=project, user=None, files=[(f"page-{i:03d}.txt", data.encode())])
        for i, data in enumerate(files)
    ]
    ids = [j.pk for j in jobs]
    wait(ids, queue, "import", timeout=3600)
    elapsed = time.perf_counter() - started
    unfinished = Job.objects.filter(pk__in=ids).exclude(state__in=["done", "failed"]).count()
    failed = Job.objects.filter(pk__in=ids, state="failed").count() + unfinished
    if failed:
        errors = Job.objects.filter(pk__in=ids, state="failed").values_list("error", flat=True)
        print(f"{failed} jobs failed or unfinished:", *errors[:3], file=sys.stderr)
    claims = Claim.objects.filter(project=project).count()
    fill = None
    if suggestions != "off":
        fills = Job.objects.filter(project=project, kind="suggest_fill")
        fill_ids = list(fills.values_list("pk", flat=True))
        wait(fill_ids, queue, "suggest_fill", timeout=7200)
        done = list(fills.filter(state="done").values_list("started_at", "finished_at", "result"))
        if len(done) < len(fill_ids):
            print(f"{len(fill_ids) - len(done)} of {len(fill_ids)} fill jobs not done",
                  file=sys.stderr)  # fmt: skip
        if done:
            span = (max(f for _, f, _ in done) - min(s for s, _, _ in done)).total_seconds()
            filled = sum(int((r or {}).get("filled", 0)) for _, _, r in done)
            fill = (span, filled, len(fill_ids))
    return elapsed, claims, failed, fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", default="wb_bench_ingest")
    parser.add_argument("--skip-no-suggest", action="store_true")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("Set REDIS_URL=redis://host:6379/N: the benchmark runs a real worker.")

    from bench.corpus import build_corpus

    url = server_url(args.db)
    recreate_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DEBUG": os.environ.get("DEBUG", "1"),
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import connection

    from workbench.celery import app

    queue = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_url = redis_url

    t0 = time.perf_counter()
    text = build_corpus(args.claims * BYTES_PER_UNIT, args.seed)
    files = split_corpus(text, args.files)
    build_s = time.perf_counter() - t0
    mb = len(text.encode()) / 1e6
    print(f"corpus: {mb:.1f} MB in {len(files)} files (built in {build_s:.1f} s)")

    worker = start_worker(env, queue, args.concurrency)
    rows = []
    fill_rows = []
    try:
        runs = [("on", "import (suggestions on)")]
        if not args.skip_no_suggest:
            runs.append(("off", "import (suggestions off)"))
        for setting, label in runs:
            load = os.getloadavg()[0]
            elapsed, claims, failed, fill = run(f"bench-{setting}", files, setting, queue)
            rows.append((label, mb, len(files), claims, elapsed, claims / elapsed, failed, load))
            if fill is not None:
                span, filled, n_jobs = fill
                fill_rows.append((n_jobs, filled, span, filled / span if span else 0.0))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        connection.close()

    print(f"\nP2 ingest via the worker (PostgreSQL, {args.concurrency} worker processes)")
    print(
        f"{'run':<26}{'MB':>7}{'files':>7}{'claims':>9}{'seconds':>9}{'claims/s':>10}"
        f"{'load':>7}  target"
    )
    for label, mb_, n_files, claims, elapsed, rate, failed, load in rows:
        status = "ok" if rate >= TARGET and not failed else "below"
        print(
            f"{label:<26}{mb_:>7.1f}{n_files:>7}{claims:>9}{elapsed:>9.1f}{rate:>10.0f}"
            f"{load:>7.1f}  >= {TARGET} {status}"
        )
    for n_jobs, filled, span, rate in fill_rows:
        print(
            f"{'suggest_fill jobs':<26}{'':>7}{n_jobs:>7}{filled:>9}{span:>9.1f}{rate:>10.0f}"
            f"{os.getloadavg()[0]:>7.1f}  (after the import commits)"
        )


if __name__ == "__main__":
    main()
