"""Faults during a large import (target R2): a 50,000-line JSONL file goes through the real
import job path (upload saved, job queued after commit, a `celery worker` process runs it)
and, while the import's transaction is writing claims, the worker's pool child is SIGKILLed,
its main process is SIGKILLed, it is sent SIGTERM, or the broker (a private redis-server) is
restarted. The job must end done with every row exactly once, and another connection polling
all along must never see part of the file.

The broker is a redis-server this test starts on a free port, so restarting it disturbs no
one; the worker runs with a 5 s visibility timeout so a message abandoned by a killed worker
comes back within seconds instead of an hour."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from annotations.models import Job
from annotations.services.imports import import_job_create, segment_upload
from tests.conftest import need
from tests.factories import make_project, make_user
from tests.reliability.helpers import corpus_jsonl, free_port

ROOT = Path(__file__).resolve().parents[2]
LINES = 50_000
VISIBILITY_TIMEOUT = 5
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Corpus:
    data: bytes
    documents: int
    claims_by_article: dict[str, int]  # content hash → units

    @property
    def claims(self) -> int:
        return sum(self.claims_by_article.values())


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """The file and what a clean import of it stores, from the pipeline's own segmentation."""
    need(settings.USING_POSTGRES, "the fault tests need PostgreSQL")
    data = corpus_jsonl(LINES)
    docs = segment_upload("faults.jsonl", data)
    by_article: dict[str, int] = {}
    for doc in docs:
        for article in doc.articles:
            assert article.sentences, "every generated article has claim units"
            by_article[article.content_hash] = len(article.sentences)
    assert len(docs) == LINES and len(by_article) == LINES
    return Corpus(data=data, documents=len(docs), claims_by_article=by_article)


# --- processes: a private redis-server and celery workers -----------------------------------


class RedisServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.folder),
                "--logfile", str(self.folder / "redis.log"),
            ],
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    client.close()
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.folder / 'redis.log'}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Worker:
    """A `celery worker` process (prefork, one child) on the test database and a broker."""

    def __init__(self, broker: str, queue: str, log: Path):
        self.broker, self.queue, self.log = broker, queue, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Worker:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "REDIS_URL": self.broker,
            "DEBUG": "1",
            "WORKBENCH_TESTING": "0",
            "WORKBENCH_AUTO_PAIR": "0",
            "WORKBENCH_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "PYTHONPATH": str(ROOT),
        }
        with open(self.log, "ab") as log:
            start = self.log.stat().st_size
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "workbench", "worker",
                    "--pool=prefork", "--concurrency=1", "-Q", self.queue, "--loglevel=INFO",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes()[start:]:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited during start; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in 90 s; see {self.log}")

    def pool_children(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid ...: comm may hold spaces, so split after the ')'
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.pid:
                    found.append(int(entry.name))
        return found

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: its pool child dies with it (Celery sets PR_SET_PDEATHSIG on children)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextlib.contextmanager
def producer_broker(url: str, queue: str) -> Iterator[None]:
    """Send this process's tasks to `url`/`queue` instead of running them eagerly."""
    from workbench.celery import app

    def drop_pools() -> None:
        # Producers are pooled per connection, made at first use with the broker URL of that
        # time: forget them so the next send connects to the broker now configured.
        app._pool = None
        app.amqp._producer_pool = None

    conf = app.conf
    old = (conf.task_always_eager, conf.task_default_queue, conf.broker_url)
    conf.task_always_eager, conf.task_default_queue, conf.broker_url = False, queue, url
    drop_pools()
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_default_queue, conf.broker_url = old
        drop_pools()


# --- what another connection sees during the run --------------------------------------------


class Watcher(threading.Thread):
    """Polls the project's row counts from its own connection, one snapshot per query, and
    keeps every distinct tuple seen: a file's rows must appear all at once or not at all."""

    SQL = """
        SELECT (SELECT count(*) FROM annotations_document WHERE project_id = %(p)s),
               (SELECT count(*) FROM annotations_article WHERE project_id = %(p)s),
               (SELECT count(*) FROM annotations_claim WHERE project_id = %(p)s),
               (SELECT count(*) FROM annotations_item WHERE project_id = %(p)s),
               (SELECT count(*) FROM annotations_articleprovenance v
                  JOIN annotations_article a ON a.id = v.article_id WHERE a.project_id = %(p)s),
               (SELECT count(*) FROM annotations_article a WHERE a.project_id = %(p)s
                  AND NOT EXISTS (SELECT 1 FROM annotations_claim c WHERE c.article_id = a.id))
    """

    def __init__(self, project_id: int):
        super().__init__(daemon=True)
        db = connection.settings_dict
        self.dsn = (
            f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
            f"user={db['USER'] or 'postgres'} dbname={db['NAME']}"
        )
        self.project_id = project_id
        self.seen: Counter[tuple[int, ...]] = Counter()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while True:
                    # Stopped once the job is done: the last snapshot is taken after that, so it
                    # sees the committed file even when the commit came just after a poll.
                    stopping = self.stop.is_set()
                    row = conn.execute(self.SQL, {"p": self.project_id}).fetchone()
                    self.seen[tuple(row)] += 1
                    if stopping:
                        break
                    self.stop.wait(0.2)
        except BaseException as exc:  # reported by the test
            self.error = exc


# --- helpers ----------------------------------------------------------------------------------


def wait_for(job: Job, *, progress: float = 0.0, timeout: float) -> Job:
    """Until the job's progress (written through its own connection) reaches `progress`, or
    the job finishes when `progress` is 0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished or (progress and job.progress >= progress):
            return job
        time.sleep(0.05 if progress else 0.3)
    raise AssertionError(
        f"job {job.state} at {job.progress:.2f} ({job.message}) after {timeout:.0f} s"
    )


def table_counts(project_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(Watcher.SQL, {"p": project_id})
        row = cursor.fetchone()
    return dict(
        zip(("documents", "articles", "claims", "items", "provenances", "bare"), row, strict=True)
    )


def duplicates(project_id: int) -> dict[str, int]:
    queries = {
        "documents": "SELECT sha256 FROM annotations_document WHERE project_id = %s"
        " GROUP BY sha256 HAVING count(*) > 1",
        "articles": "SELECT content_hash FROM annotations_article WHERE project_id = %s"
        " GROUP BY content_hash HAVING count(*) > 1",
        "claims": "SELECT article_id, position FROM annotations_claim WHERE project_id = %s"
        " GROUP BY article_id, position HAVING count(*) > 1",
        "claim texts": "SELECT c.article_id, c.text FROM annotations_claim c"
        " WHERE c.project_id = %s GROUP BY c.article_id, c.text HAVING count(*) > 1",
    }
    found = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(f"SELECT count(*) FROM ({sql}) d", [project_id])  # noqa: S608
            found[name] = cursor.fetchone()[0]
    return found


def claims_by_article(project_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.content_hash, count(c.id) FROM annotations_article a"
            " LEFT JOIN annotations_claim c ON c.article_id = a.id"
            " WHERE a.project_id = %s GROUP BY a.content_hash",
            [project_id],
        )
        return dict(cursor.fetchall())


# --- the test ---------------------------------------------------------------------------------

FAULTS = ["sigkill_pool_child", "sigkill_main_process", "sigterm_worker", "restart_redis"]


@pytest.mark.parametrize("fault", FAULTS)
def test_import_completes_exactly_once_through_a_fault(fault, corpus, tmp_path):
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    project = make_project("faults", suggestions="off")
    admin = make_user("fay_faults", "admin", project)
    redis = RedisServer(tmp_path)
    redis.start()
    queue = f"faults-{os.getpid()}"
    log = tmp_path / "worker.log"
    workers = [Worker(redis.url, queue, log).start()]
    watcher = Watcher(project.pk)
    watcher.start()
    started = time.monotonic()
    try:
        with producer_broker(redis.url, queue):
            job = import_job_create(
                project=project, user=admin, files=[("faults.jsonl", corpus.data)]
            )
            # Past 0.7 the import's one transaction is writing claims (imports._write): the
            # first batch of 5,000 is in.
            wait_for(job, progress=0.705, timeout=240)
            assert not job.finished, "the fault must strike during the import"
            struck_at = job.progress
            if fault == "sigkill_pool_child":
                (child,) = workers[0].pool_children()
                os.kill(child, signal.SIGKILL)
                # The main process sees the child lost, puts the message back (reject on
                # worker lost) and its new child runs the job again.
            elif fault == "sigkill_main_process":
                workers[0].kill()
                workers.append(Worker(redis.url, queue, log).start())
            elif fault == "sigterm_worker":
                # A rolling restart: the old worker finishes what it runs (warm shutdown) while
                # a fresh one starts and gets the job's message again once it is visible.
                workers[0].proc.send_signal(signal.SIGTERM)
                workers.append(Worker(redis.url, queue, log).start())
            else:
                redis.stop()
                time.sleep(2)
                redis.start()
            wait_for(job, timeout=300)
            if fault == "sigkill_pool_child":
                assert workers[0].proc.poll() is None, "the main process outlives its child"
            if fault == "sigterm_worker":
                assert workers[0].wait(timeout=120) == 0
            if fault == "restart_redis":
                # The worker is back on the restarted broker: importing the same file again
                # is a new job that stores nothing.
                again = import_job_create(
                    project=project, user=admin, files=[("faults.jsonl", corpus.data)]
                )
                wait_for(again, timeout=240)
                assert again.state == Job.State.DONE, again.error
                assert again.result["files"][0]["skipped"] is True
                assert again.result["documents"] == again.result["claims"] == 0
            elapsed = time.monotonic() - started
    finally:
        watcher.stop.set()
        watcher.join(timeout=10)
        for worker in workers:
            worker.kill()
        redis.stop()

    assert job.state == Job.State.DONE, job.error
    assert job.result["documents"] == corpus.documents, job.result
    assert job.result["articles"] == LINES
    assert job.result["claims"] == corpus.claims
    assert job.result["errors"] == 0
    # Killed runs are run again; a copy delivered while the first run goes on waits for it.
    expected_attempts = 2 if fault.startswith("sigkill") else 1
    assert job.attempts == expected_attempts, (fault, job.attempts)

    # Every row exactly once, as a clean import stores them.
    full = {
        "documents": corpus.documents,
        "articles": LINES,
        "claims": corpus.claims,
        "items": corpus.claims,
        "provenances": LINES,
        "bare": 0,
    }
    assert table_counts(project.pk) == full
    assert duplicates(project.pk) == dict.fromkeys(
        ("documents", "articles", "claims", "claim texts"), 0
    )
    assert claims_by_article(project.pk) == corpus.claims_by_article
    assert Job.objects.filter(project=project, kind="import").count() == (
        2 if fault == "restart_redis" else 1
    )
    # Jobs the import queues in its transaction (the text-index merge or the suggestion fill):
    # one, from the run that committed, however many runs there were.
    follow_ups = Job.objects.filter(project=project).exclude(kind="import")
    assert follow_ups.count() == 1, list(follow_ups.values_list("kind", "state"))

    # Nothing half-visible: every snapshot the other connection took held none of the file
    # or all of it.
    assert watcher.error is None, watcher.error
    empty = (0, 0, 0, 0, 0, 0)
    final = tuple(full.values())
    assert set(watcher.seen) <= {empty, final}, sorted(watcher.seen)
    assert watcher.seen[empty] > 0 and watcher.seen[final] > 0, watcher.seen
    print(
        f"\n{fault}: struck at progress {struck_at:.2f}, job done after {elapsed:.1f} s,"
        f" attempts {job.attempts}, {sum(watcher.seen.values())} snapshots polled"
    )
