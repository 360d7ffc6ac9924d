"""Benchmark P2: ingest files → rows committed in PostgreSQL, through a real Celery worker.

Builds a corpus of about ``--claims`` sentence units with bench/corpus.py (varied, so content
hashing does not hide the work), splits it into ``--files`` text files, creates a dedicated
PostgreSQL database (dropped first; ``--db``), migrates it, starts a Celery worker process
(``--concurrency``) against REDIS_URL, queues one import job per file and measures from the
first enqueue until every import job is done (the claims are committed then). Each import
queues a follow-up job after it commits: ``suggest_fill`` fills the claims' label suggestions and
then merges the claims' text-index pending lists into the indexes, ``index_merge`` (projects
with suggestions off) only merges. The benchmark waits for those too and prints their throughput
on a row of their own (from the first follow-up's start to the last one's end). A second run
imports the same corpus into a project with suggestions off; ``--skip-no-suggest`` leaves it
out. Each row shows the load average and the CPU seconds of the worker's processes and of the
PostgreSQL backends serving it (read from /proc, so only for a local server); on this shared
machine those are steadier than the wall clock. The worker runs with WORKBENCH_AUTO_PAIR=0:
the pairing jobs an import chains otherwise are P9's (bench/pairs.py), not ingest. A job that
stays queued with its Redis queue empty is reported (lost).
Target (quality.md P2): >= 10,000 claims/s.

``--phases`` instead imports the files in this process, one after another, and prints where the
time goes: each step's wall and CPU seconds, here and in the PostgreSQL backend.

Run from the repository root:
``REDIS_URL=redis://127.0.0.1:6379/8 python bench/ingest.py [--claims 100000] [--files 20]
[--phases]``
(``DATABASE_URL`` names the server to use, default postgres://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
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


def fresh_worker_env(database: str) -> dict[str, str]:
    """Recreate `database` and return the environment for a real worker and this process:
    production-like settings on that database and the REDIS_URL broker, pairing after
    imports off (P9 is bench/pairs.py)."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("Set REDIS_URL=redis://host:6379/N: the benchmark runs a real worker.")
    url = server_url(database)
    recreate_database(url)
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DEBUG": os.environ.get("DEBUG", "1"),
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "PYTHONPATH": str(ROOT),
        "WORKBENCH_AUTO_PAIR": "0",
    }


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
        DB_CPU.sample()
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


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live children (Linux /proc; 0.0 elsewhere)."""
    total = 0.0
    try:
        tick = os.sysconf("SC_CLK_TCK")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, ValueError, IndexError):
        pass
    return total


class DatabaseCpu:
    """CPU seconds of the PostgreSQL backends serving the benchmark's database (except this
    process's own connection), sampled while polling: the worker closes its connection after
    each job, so a backend's time is read until it exits (up to one poll interval is missed).
    0 where /proc does not show them (another host or user)."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def start(self) -> None:
        self.first.clear()
        self.last.clear()
        self.first.update(self._read())
        self.last.update(self.first)

    def sample(self) -> None:
        for pid, seconds in self._read().items():
            self.first.setdefault(pid, 0.0)
            self.last[pid] = seconds

    def total(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)

    @staticmethod
    def _read() -> dict[int, float]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            pids = [row[0] for row in cursor.fetchall()]
        return {pid: cpu_seconds(pid) for pid in pids}


DB_CPU = DatabaseCpu()


def queue_length(redis_url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


@dataclass
class Run:
    seconds: float = 0.0  # first enqueue until every import job is done
    claims: int = 0
    failed: int = 0
    worker_cpu: float = 0.0  # CPU seconds until then: the worker's processes
    db_cpu: float = 0.0  # and the PostgreSQL backends serving them
    follow_ups: int = 0
    follow_up_seconds: float = 0.0  # first follow-up start to last follow-up end
    filled: int = 0  # suggestions written by the follow-ups
    follow_up_worker_cpu: float = 0.0  # CPU seconds after the imports, until the follow-ups end
    follow_up_db_cpu: float = 0.0


def run(project_slug: str, files: list[str], suggestions: str, queue: str, worker: int) -> Run:
    """Import the files into a new project through the worker; wait for the follow-up jobs."""
    from annotations.models import Claim, Job
    from annotations.services.imports import import_job_create
    from annotations.services.projects import project_create

    out = Run()
    project = project_create(slug=project_slug, suggestions=suggestions)
    cpu = cpu_seconds(worker)
    DB_CPU.start()
    started = time.perf_counter()
    jobs = [
        import_job_create(project=project, user=None, files=[(f"page-{i:03d}.txt", data.encode())])
        for i, data in enumerate(files)
    ]
    ids = [j.pk for j in jobs]
    wait(ids, queue, "import", timeout=3600)
    out.seconds = time.perf_counter() - started
    out.worker_cpu = cpu_seconds(worker) - cpu
    out.db_cpu = DB_CPU.total()
    unfinished = Job.objects.filter(pk__in=ids).exclude(state__in=["done", "failed"]).count()
    out.failed = Job.objects.filter(pk__in=ids, state="failed").count() + unfinished
    if out.failed:
        errors = Job.objects.filter(pk__in=ids, state="failed").values_list("error", flat=True)
        print(f"{out.failed} jobs failed or unfinished:", *errors[:3], file=sys.stderr)
    out.claims = Claim.objects.filter(project=project).count()
    fills = Job.objects.filter(project=project, kind__in=["suggest_fill", "index_merge"])
    fill_ids = list(fills.values_list("pk", flat=True))
    wait(fill_ids, queue, "follow-up", timeout=7200)
    out.follow_up_worker_cpu = cpu_seconds(worker) - cpu - out.worker_cpu
    out.follow_up_db_cpu = DB_CPU.total() - out.db_cpu
    done = list(fills.filter(state="done").values_list("started_at", "finished_at", "result"))
    if len(done) < len(fill_ids):
        print(f"{len(fill_ids) - len(done)} of {len(fill_ids)} follow-up jobs not done",
              file=sys.stderr)  # fmt: skip
    out.follow_ups = len(fill_ids)
    spans = [(s, f) for s, f, _ in done if s is not None and f is not None]
    if spans:
        out.follow_up_seconds = (
            max(f for _, f in spans) - min(s for s, _ in spans)
        ).total_seconds()
    out.filled = sum(int((r or {}).get("filled", 0)) for _, _, r in done)
    return out


# Steps of services/imports.import_file, timed by --phases (module functions, wrapped).
PHASES = (
    ("segment_upload", "decode + segment (pure Python)"),
    ("_existing_articles", "dedupe: known articles"),
    ("_outlets", "outlets"),
    ("_insert", "documents, articles, provenances"),
    ("_copy_claims", "claims COPY (+ text indexes)"),
    ("_copy_claim_items", "queue items COPY"),
    ("_write", "all writes"),
    ("_store", "writes + commit"),
)


def phases(files: list[str]) -> None:
    """Import the files one after another in this process (no worker, no follow-up job) and
    print where the time goes: wall seconds, CPU seconds of this process and of its PostgreSQL
    backend, per step. 'commit' (the transaction's end: deferred foreign-key checks) is
    _store minus _write."""
    from django.db import connection

    from annotations.services import imports
    from annotations.services.projects import project_create

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    totals = {name: [0.0, 0.0, 0.0] for name, _ in PHASES}
    originals = {name: getattr(imports, name) for name, _ in PHASES}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu, db = time.perf_counter(), time.process_time(), cpu_seconds(backend)
            try:
                return fn(*args, **kwargs)
            finally:
                total = totals[name]
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - cpu
                total[2] += cpu_seconds(backend) - db

        return wrapper

    project = project_create(slug="bench-phases", suggestions="off")
    claims = 0
    try:
        for name, fn in originals.items():
            setattr(imports, name, timed(name, fn))
        wall, cpu, db = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        for i, data in enumerate(files):
            summary = imports.import_file(
                project=project, filename=f"page-{i:03d}.txt", data=data.encode(), fill="none"
            )
            claims += summary["claims"]
        whole = (time.perf_counter() - wall, time.process_time() - cpu, cpu_seconds(backend) - db)
    finally:
        for name, fn in originals.items():
            setattr(imports, name, fn)
    print(f"\nwhere an import's time goes ({len(files)} files, {claims} claims, in-process)")
    print(f"{'step':<54}{'wall s':>8}{'CPU s':>8}{'db CPU s':>10}{'CPU µs/claim':>14}")
    rows: list[tuple[str, float, float, float]] = []
    for name, label in PHASES:
        wall_s, cpu_s, db_s = totals[name]
        rows.append((f"{label} [{name}]", wall_s, cpu_s, db_s))
    store, write = totals["_store"], totals["_write"]
    commit = (store[0] - write[0], store[1] - write[1], store[2] - write[2])
    rows.append(("commit (FK checks) [_store - _write]", *commit))
    rows.append(("whole import_file", *whole))
    for label, w, c, d in rows:
        per = (c + d) / claims * 1e6 if claims else 0.0
        print(f"{label:<54}{w:>8.2f}{c:>8.2f}{d:>10.2f}{per:>14.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", default="wb_bench_ingest")
    parser.add_argument("--skip-no-suggest", action="store_true")
    parser.add_argument(
        "--phases", action="store_true", help="time each step of an import in-process, then exit"
    )
    args = parser.parse_args()
    from bench.corpus import build_corpus

    env = fresh_worker_env(args.db)
    redis_url = env["REDIS_URL"]
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
    if args.phases:
        phases(files)
        connection.close()
        return

    worker = start_worker(env, queue, args.concurrency)
    runs: list[tuple[str, str, str, Run]] = []
    try:
        settings_ = [("on", "import (suggestions on)")]
        if not args.skip_no_suggest:
            settings_.append(("off", "import (suggestions off)"))
        for setting, label in settings_:
            load = os.getloadavg()[0]
            result = run(f"bench-{setting}", files, setting, queue, worker.pid)
            runs.append((setting, label, f"{load:.1f}", result))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        connection.close()

    print(f"\nP2 ingest via the worker (PostgreSQL, {args.concurrency} worker processes)")
    print(
        f"{'run':<26}{'MB':>6}{'files':>6}{'claims':>8}{'seconds':>8}{'claims/s':>9}{'load':>6}"
        f"{'worker CPU s':>13}{'db CPU s':>9}{'claims/CPU s':>13}  target"
    )
    for _, label, avg, r in runs:
        rate = r.claims / r.seconds if r.seconds else 0.0
        total_cpu = r.worker_cpu + r.db_cpu
        per_cpu = f"{r.claims / total_cpu:,.0f}" if total_cpu else "-"
        status = "ok" if rate >= TARGET and not r.failed else "below"
        print(
            f"{label:<26}{mb:>6.1f}{len(files):>6}{r.claims:>8}{r.seconds:>8.1f}{rate:>9.0f}"
            f"{avg:>6}{r.worker_cpu:>13.1f}{r.db_cpu:>9.1f}{per_cpu:>13}  >= {TARGET:,} {status}"
        )
    for setting, _, _, r in runs:
        if not r.follow_ups:
            continue
        kind = "suggest_fill" if setting != "off" else "index_merge"
        count = r.filled if kind == "suggest_fill" else r.claims
        rate = count / r.follow_up_seconds if r.follow_up_seconds else 0.0
        total_cpu = r.follow_up_worker_cpu + r.follow_up_db_cpu
        per_cpu = f"{count / total_cpu:,.0f}" if total_cpu else "-"
        print(
            f"{'  ' + kind + ' jobs':<26}{'':>6}{r.follow_ups:>6}{count:>8}"
            f"{r.follow_up_seconds:>8.1f}{rate:>9.0f}{'':>6}{r.follow_up_worker_cpu:>13.1f}"
            f"{r.follow_up_db_cpu:>9.1f}{per_cpu:>13}  (after the import commits)"
        )
    print(
        "seconds: first enqueue to last import done (follow-ups: first start to last end);"
        " CPU s: the Celery worker's processes and the PostgreSQL backends serving them"
        " (read from /proc: a remote server shows 0), until the imports are done and then"
        " until the follow-ups are; claims/CPU s = claims / (worker + db CPU s)."
    )


if __name__ == "__main__":
    main()
