"""PostgreSQL outage during a queue storm (target R5, second half).

A private PostgreSQL cluster (initdb into a temporary folder, a free port on 127.0.0.1, trust
auth; the shared server is never touched) serves gunicorn in production mode while annotator
clients lease and submit. The cluster is stopped for a few seconds and started again. Clients
must get 503 with Retry-After while it is down and only then (never a 500, never a request
left hanging), the app must serve again once it is back, and afterwards the storm's
invariants hold: no item over K, no duplicate (item, annotator), every 2xx submit stored."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.conftest import need
from tests.reliability.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 150  # three claims each: 450 items, K=2
USERS = 6
OUTAGE_SECONDS = 4
# A request may start just before the server is up and fail on a connection made while it was
# still starting: 503s are accepted until this long after `pg_ctl start` returned.
GRACE = 2.0
REQUEST_TIMEOUT = 15.0
LABELS = [
    {"is_attributed": False, "verifiability": "checkable_fact", "claim_types": ["event"]},
    {"is_attributed": True, "source_type": "official_foreign", "verifiability": "checkable_fact"},
    {"is_attributed": False, "verifiability": "opinion"},
]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A throw-away PostgreSQL cluster. As root it runs as the `postgres` account (PostgreSQL
    refuses to run as root), in a folder that account can reach (pytest's tmp_path is private
    to root)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="wb-pg-outage-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.account: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.account = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
            **self.account,
        )
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=50"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")), "workbench.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                "--worker-class", "gthread", "--timeout", "30",
            ],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    raise RuntimeError("gunicorn did not answer in 60 s")


# --- the storm ------------------------------------------------------------------------------


@dataclass
class Call:
    kind: str
    started: float
    ended: float
    status: int | str  # HTTP status, or the client error's name
    retry_after: str | None = None
    content_type: str = ""


@dataclass
class Storm:
    base: str
    stop: threading.Event = field(default_factory=threading.Event)
    calls: list[Call] = field(default_factory=list)
    label_ids: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, http: requests.Session, kind: str, url: str, **kwargs: Any):
        started = time.monotonic()
        try:
            response = http.post(url, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.calls.append(Call(kind, started, time.monotonic(), type(exc).__name__))
            return None
        with self.lock:
            self.calls.append(
                Call(
                    kind,
                    started,
                    time.monotonic(),
                    response.status_code,
                    response.headers.get("Retry-After"),
                    response.headers.get("Content-Type", ""),
                )
            )
        return response

    def session(self, slug: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        http.headers["Authorization"] = f"Token {token}"
        while not self.stop.is_set():
            r = self.call(http, "lease", f"{self.base}/api/v1/projects/{slug}/leases/", json={})
            if r is None or r.status_code != 201:
                # 204: nothing left; 503: the database is down (Retry-After, shortened here)
                self.stop.wait(0.2)
                continue
            lease_id = r.json()["lease"]["id"]
            body = {"labels": rng.choice(LABELS), "seconds": 1.0}
            key = uuid.uuid4().hex
            self.stop.wait(rng.uniform(0.02, 0.1))
            # A submit that got 503 is sent again with the same Idempotency-Key.
            while True:
                r = self.call(
                    http,
                    "submit",
                    f"{self.base}/api/v1/leases/{lease_id}/labels/",
                    json=body,
                    headers={"Idempotency-Key": key},
                )
                if r is not None and 200 <= r.status_code < 300:
                    with self.lock:
                        self.label_ids.add(r.json()["label"]["id"])
                if r is None or r.status_code != 503 or self.stop.is_set():
                    break
                self.stop.wait(0.2)


def invariants(dsn: str, label_ids: set[int]) -> dict[str, int]:
    queries = {
        "items over K": "SELECT count(*) FROM annotations_item WHERE n_done + n_leased > k",
        "items with more than K labels": "SELECT count(*) FROM (SELECT l.item_id FROM"
        " annotations_label l JOIN annotations_item i ON i.id = l.item_id"
        " GROUP BY l.item_id, i.k HAVING count(*) > i.k) s",
        "duplicate (item, annotator) leases": "SELECT count(*) FROM (SELECT 1 FROM"
        " annotations_assignment GROUP BY item_id, annotator_id HAVING count(*) > 1) s",
        "duplicate (item, annotator) labels": "SELECT count(*) FROM (SELECT 1 FROM"
        " annotations_label GROUP BY item_id, annotator_id HAVING count(*) > 1) s",
        "items whose n_done is not their submitted leases": "SELECT count(*) FROM"
        " annotations_item i WHERE i.n_done <> (SELECT count(*) FROM annotations_assignment a"
        " WHERE a.item_id = i.id AND a.state = 'submitted')",
    }
    found: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        for name, sql in queries.items():
            found[name] = conn.execute(sql).fetchone()[0]
        stored = {row[0] for row in conn.execute("SELECT id FROM annotations_label")}
    found["2xx submits not stored"] = len(label_ids - stored)
    return found


def login_form(base: str) -> dict[str, Any]:
    """What a browser posts to log in: the login page's CSRF token and cookie (the page needs
    no database). Production mode marks the cookie Secure; this plain-HTTP client sends it by
    hand."""
    page = requests.get(f"{base}/accounts/login/", timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200, page.status_code
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    return {
        "data": {"csrfmiddlewaretoken": token, "username": "storm00", "password": "x" * 20},
        "headers": {"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
    }


def prepare(cluster: Cluster, var: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Create, migrate and seed the cluster's database; collect the static files a production
    server needs. The environment gunicorn runs with, and what was seeded."""
    cluster.init()
    cluster.start()
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE wb")
    dev = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "WORKBENCH_TESTING")
    }
    dev.update(
        {
            "DATABASE_URL": cluster.url("wb"),
            "PYTHONPATH": str(ROOT),
            "WORKBENCH_VAR_DIR": str(var),
            "DEBUG": "1",
        }
    )
    production = {
        **dev,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    steps = [
        (dev, ["manage.py", "migrate", "--noinput", "-v", "0"]),
        (production, ["manage.py", "collectstatic", "--noinput", "-v", "0"]),
        (dev, ["-m", "tests.reliability.outage_seed", str(ARTICLES), str(USERS)]),
    ]
    for env, args in steps:
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    assert seeded["open_items"] >= ARTICLES
    return production, seeded


def test_database_outage_gives_503_only_while_it_lasts(tmp_path):
    bindir = pg_bin()
    need(bindir is not None, "PostgreSQL server binaries (initdb) are not installed")
    cluster = Cluster(bindir)
    proc = None
    log = tmp_path / "gunicorn.log"
    try:
        env, seeded = prepare(cluster, tmp_path / "var")
        port = free_port()
        proc = start_gunicorn(env, port, log)
        storm = Storm(base=f"http://127.0.0.1:{port}")
        login = login_form(storm.base)
        threads = [
            threading.Thread(target=storm.session, args=("outage", token, n), daemon=True)
            for n, token in enumerate(seeded["tokens"])
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        down_from = time.monotonic()
        cluster.stop("fast")
        time.sleep(OUTAGE_SECONDS / 2)
        page = requests.post(
            f"{storm.base}/accounts/login/", **login, timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )  # fmt: skip
        time.sleep(OUTAGE_SECONDS / 2)
        cluster.start()
        up_at = time.monotonic()
        time.sleep(5)
        storm.stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)
        assert not any(t.is_alive() for t in threads), "a client is still waiting on the server"
        health = requests.get(f"{storm.base}/healthz", timeout=REQUEST_TIMEOUT)
        found = invariants(cluster.dsn("wb"), storm.label_ids)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        cluster.destroy()

    calls = storm.calls
    statuses: dict[Any, int] = {}
    for c in calls:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    summary = f"statuses {statuses}; gunicorn log: {log.read_text()[-1500:]}"
    # Only answers the API documents, or 503 for the outage: no 500, no client error, no hang.
    assert set(statuses) <= {200, 201, 204, 409, 503}, summary
    assert max(c.ended - c.started for c in calls) < REQUEST_TIMEOUT, summary
    unavailable = [c for c in calls if c.status == 503]
    assert unavailable, f"no client saw the outage; {summary}"
    # 503 only while the database was down.
    outside = [
        (round(c.started - down_from, 2), round(c.ended - down_from, 2), c.kind)
        for c in unavailable
        if c.ended < down_from or c.started > up_at + GRACE
    ]
    assert not outside, f"503 outside the outage (s from its start): {outside}; {summary}"
    assert all(c.retry_after for c in unavailable), summary
    assert all(c.content_type.startswith("application/json") for c in unavailable), summary
    # A page (not the API) gets a short plain answer, also 503 with Retry-After.
    assert page.status_code == 503, (page.status_code, page.text[:300])
    assert page.headers.get("Retry-After")
    assert page.headers["Content-Type"].startswith("text/plain"), page.headers["Content-Type"]
    # Served before and again after: submits succeed on both sides, the health check is green.
    submits_ok = [c for c in calls if c.kind == "submit" and c.status in (200, 201)]
    assert any(c.ended < down_from for c in submits_ok), summary
    assert any(c.started > up_at + GRACE for c in submits_ok), summary
    assert health.status_code == 200, health.text

    assert found and found == dict.fromkeys(found, 0), found
    print(
        f"\noutage {up_at - down_from:.1f} s: {len(calls)} calls {statuses},"
        f" {len(storm.label_ids)} labels stored"
    )
