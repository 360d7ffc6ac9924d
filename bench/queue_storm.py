"""Queue storm (quality.md P3, P4, P5, R1): gunicorn + PostgreSQL, many annotator sessions
leasing and submitting at once, then SQL checks for over-assignment, duplicates and lost labels.

    .venv/bin/python bench/queue_storm.py                      # 10k claims, 200 sessions, 60 s
    .venv/bin/python bench/queue_storm.py --claims 1000000     # loaded with COPY / INSERT..SELECT
    .venv/bin/python bench/queue_storm.py --think 0            # no think time: max throughput
    .venv/bin/python bench/queue_storm.py --break-lock         # negative control: must fail

It creates its own database (default wb_storm; wb_storm_broken for --break-lock) on the
PostgreSQL server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), migrates it,
loads a project with K=2, 100 users with API tokens, starts gunicorn on 127.0.0.1 and a free
port, runs the sessions for --seconds, stops gunicorn by its PID and prints one table.

--break-lock starts gunicorn with WORKBENCH_QUEUE_BREAK_LOCK=1 (the lease query takes no row
lock and no per-user lock) and drops the over-assignment CHECK and the (item, annotator) UNIQUE
constraints in that database, so the checks must report violations; the script then exits 0
only if they did.

Latencies: client-side (this process, 200 Python threads on a 2-core machine share the CPU
with gunicorn and PostgreSQL, so they include client queueing) and server-side from the
`Server-Timing: app;dur=` header the API views add. Default server: gunicorn sync workers,
2 x cores + 1 (see --workers/--threads). With think time 0.5–2 s, 200 sessions can
produce at most about 200 / 1.25 s ≈ 160 labels/s; --think 0 measures the maximum.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

SENTENCES = [
    "Syrian government troops entered the town of {place} on {day}, state media said.",
    "At least {n} civilians were killed in shelling on {place}, according to local activists.",
    "The Russian Reconciliation Center said {n} militants violated the ceasefire near {place}.",
    "It is a dangerous game that Ankara is playing in {place}.",
    "Government troops will likely focus on clearing {place} next, an analyst said.",
    "The ministry denied reports that its aircraft struck a market in {place} on {day}.",
    "Opposition fighters claimed to have shot down a drone over {place}.",
    "قال المرصد السوري إن {n} مدنيين قتلوا في قصف على {place}.",
]
PLACES = ["Khan Shaykhun", "Idlib", "Hama", "Latakia", "Maarat al-Numan", "Aleppo", "Saraqib"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
LABELS = [
    {"is_attributed": False, "verifiability": "checkable_fact", "claim_types": ["event"]},
    {"is_attributed": True, "source_type": "official_foreign", "verifiability": "checkable_fact"},
    {"is_attributed": False, "verifiability": "opinion"},
]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- database ----------------------------------------------------------------------------------


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    parsed = urlparse(url)
    return parsed._replace(path="/").geturl()


def admin_conn(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(server_url().rstrip("/") + "/" + dbname, autocommit=True)


def recreate_database(name: str) -> None:
    with admin_conn() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )


def load(env: dict[str, str], claims: int, users: int) -> dict[str, object]:
    """Project, claims (COPY), items (INSERT..SELECT), users with tokens. Returns tokens."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from annotations.models import Membership
    from annotations.services.projects import project_create

    started = time.perf_counter()
    project = project_create(slug="storm", overlap=2, lease_seconds=600, suggestions="off")
    per_article = 20
    n_articles = (claims + per_article - 1) // per_article
    rng = random.Random(7)
    with transaction.atomic(), connection.cursor() as cur:
        doc_text = "storm corpus"
        cur.execute(
            "INSERT INTO annotations_document (project_id, name, format, sha256, size, text, url,"
            " stats, created_at) VALUES (%s, 'storm.txt', 'txt', %s, 0, %s, '', '{}', now())"
            " RETURNING id",
            [project.pk, secrets.token_hex(32), doc_text],
        )
        doc_id = cur.fetchone()[0]
        raw = cur.connection  # psycopg connection
        with raw.cursor().copy(
            'COPY annotations_article (project_id, document_id, position, start, "end", title,'
            " outlet_name, byline, published, language, content_hash, created_at) FROM STDIN"
        ) as copy:
            for a in range(n_articles):
                copy.write_row(
                    (
                        project.pk,
                        doc_id,
                        a,
                        0,
                        0,
                        f"Report {a} on {PLACES[a % 7]}",
                        f"Outlet {a % 23}",
                        "",
                        f"2019-08-{1 + a % 28:02d}",
                        "ar" if a % 8 == 7 else "en",
                        f"h{a}",
                        "now",
                    )
                )
        cur.execute(
            "SELECT id FROM annotations_article WHERE project_id = %s ORDER BY position",
            [project.pk],
        )
        article_ids = [r[0] for r in cur.fetchall()]
        with raw.cursor().copy(
            'COPY annotations_claim (project_id, article_id, position, start, "end", text,'
            " language, unit_kind, unit_defect, claim_likelihood, created_at) FROM STDIN"
        ) as copy:
            for i in range(claims):
                a = i // per_article
                template = SENTENCES[7 if a % 8 == 7 else rng.randrange(7)]
                text = (
                    template.format(
                        place=rng.choice(PLACES), day=rng.choice(DAYS), n=rng.randrange(2, 90)
                    )
                    + f" [{i}]"
                )
                copy.write_row(
                    (
                        project.pk,
                        article_ids[a],
                        i % per_article,
                        0,
                        len(text),
                        text,
                        "ar" if a % 8 == 7 else "en",
                        "body",
                        "none",
                        0.5,
                        "now",
                    )
                )
        cur.execute(
            "INSERT INTO annotations_item (project_id, kind, claim_id, k, n_done, n_leased,"
            " status, order_key, uncertainty, is_gold, version, created_at)"
            " SELECT project_id, 'claim', id, 2, 0, 0, 'open', id, 0, false, 0, now()"
            " FROM annotations_claim WHERE project_id = %s",
            [project.pk],
        )
        cur.execute("ANALYZE")
    User = get_user_model()
    made = User.objects.bulk_create(
        [User(username=f"storm{u:03d}", password="!") for u in range(users)]
    )
    Membership.objects.bulk_create(
        [Membership(project=project, user=u, role="annotator") for u in made]
    )
    tokens = [Token.objects.create(user=u).key for u in made]
    return {"tokens": tokens, "load_seconds": time.perf_counter() - started}


def break_constraints(dbname: str) -> None:
    with admin_conn(dbname) as conn:
        conn.execute("ALTER TABLE annotations_item DROP CONSTRAINT item_never_over_assigned")
        conn.execute("ALTER TABLE annotations_assignment DROP CONSTRAINT assignment_item_annotator")
        conn.execute("ALTER TABLE annotations_label DROP CONSTRAINT label_item_annotator")


def checks(dbname: str, label_ids: set[int]) -> dict[str, int]:
    q = {
        "items n_done+n_leased > k": "SELECT count(*) FROM annotations_item"
        " WHERE n_done + n_leased > k",
        "items with > k submitted": "SELECT count(*) FROM (SELECT a.item_id FROM"
        " annotations_assignment a JOIN annotations_item i ON i.id = a.item_id"
        " WHERE a.state = 'submitted' GROUP BY a.item_id, i.k HAVING count(*) > i.k) s",
        "items with > k labels": "SELECT count(*) FROM (SELECT l.item_id FROM annotations_label l"
        " JOIN annotations_item i ON i.id = l.item_id GROUP BY l.item_id, i.k"
        " HAVING count(*) > i.k) s",
        "duplicate (item, annotator) leases": "SELECT count(*) FROM (SELECT 1 FROM"
        " annotations_assignment GROUP BY item_id, annotator_id HAVING count(*) > 1) s",
        "duplicate (item, annotator) labels": "SELECT count(*) FROM (SELECT 1 FROM"
        " annotations_label GROUP BY item_id, annotator_id HAVING count(*) > 1) s",
        "items whose n_done != submitted": "SELECT count(*) FROM annotations_item i WHERE"
        " i.n_done <> (SELECT count(*) FROM annotations_assignment a WHERE a.item_id = i.id"
        " AND a.state = 'submitted') AND (i.n_done > 0 OR EXISTS (SELECT 1 FROM"
        " annotations_assignment a WHERE a.item_id = i.id))",
    }
    out: dict[str, int] = {}
    with admin_conn(dbname) as conn:
        for name, sql in q.items():
            out[name] = conn.execute(sql).fetchone()[0]
        stored = {r[0] for r in conn.execute("SELECT id FROM annotations_label").fetchall()}
    out["lost labels (2xx not stored)"] = len(label_ids - stored)
    return out


# --- the storm ----------------------------------------------------------------------------------


@dataclass
class Stats:
    lease_client: list[float] = field(default_factory=list)
    lease_server: list[float] = field(default_factory=list)
    submit_client: list[float] = field(default_factory=list)
    submit_server: list[float] = field(default_factory=list)
    label_ids: set[int] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    empty: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1


def server_ms(response) -> float | None:
    timing = response.headers.get("Server-Timing", "")
    if "dur=" in timing:
        try:
            return float(timing.split("dur=")[1].split(",")[0])
        except ValueError:
            return None
    return None


def session(
    base: str,
    slug: str,
    token: str,
    deadline: float,
    think: tuple[float, float],
    stats: Stats,
    seed: int,
) -> None:
    import requests

    rng = random.Random(seed)
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    while time.monotonic() < deadline:
        try:
            t0 = time.perf_counter()
            r = http.post(f"{base}/api/v1/projects/{slug}/leases/", json={}, timeout=30)
            dt = (time.perf_counter() - t0) * 1000
            stats.status(r.status_code)
            if r.status_code == 204:
                stats.empty += 1
                time.sleep(0.5)
                continue
            if r.status_code != 201:
                stats.errors.append(f"lease {r.status_code} {r.text[:120]}")
                time.sleep(0.2)
                continue
            srv = server_ms(r)
            with stats.lock:
                stats.lease_client.append(dt)
                if srv is not None:
                    stats.lease_server.append(srv)
            lease_id = r.json()["lease"]["id"]
            if think[1] > 0:
                time.sleep(rng.uniform(*think))
            if time.monotonic() >= deadline:
                break
            body = {"labels": rng.choice(LABELS), "seconds": 1.0}
            t0 = time.perf_counter()
            r = http.post(
                f"{base}/api/v1/leases/{lease_id}/labels/",
                json=body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
                timeout=30,
            )
            dt = (time.perf_counter() - t0) * 1000
            stats.status(r.status_code)
            if 200 <= r.status_code < 300:
                srv = server_ms(r)
                with stats.lock:
                    stats.submit_client.append(dt)
                    if srv is not None:
                        stats.submit_server.append(srv)
                    stats.label_ids.add(r.json()["label"]["id"])
            elif r.status_code == 409:
                stats.conflicts += 1
            else:
                stats.errors.append(f"submit {r.status_code} {r.text[:120]}")
        except Exception as exc:  # a connection error is reported, never hidden
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            time.sleep(0.2)


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int, log: Path):
    cmd = [
        str(Path(PY).with_name("gunicorn")),
        "workbench.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "60",
        "--access-logfile",
        "-" if False else os.devnull,
    ]
    handle = open(log, "wb")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                return proc, handle
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    raise RuntimeError("gunicorn did not answer in 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--tabs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", default=None, help="min,max seconds, or 0 (default 0.5,2)")
    # Sync workers, 2 x cores + 1 (gunicorn's advice for CPU-bound apps): a request runs
    # without sharing its process's GIL, so the server-side time is the request's own and the
    # waiting shows where it happens, in the client-side figures (the listen backlog).
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--db", default="")
    parser.add_argument("--break-lock", action="store_true")
    args = parser.parse_args()
    if args.break_lock:
        # The negative control needs the most overlap to show the races: no think time and
        # threaded workers, unless told otherwise.
        defaults = {"think": "0", "workers": 4, "threads": 8}
    else:
        defaults = {"think": "0.5,2", "workers": 2 * (os.cpu_count() or 2) + 1, "threads": 1}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    think = (0.0, 0.0) if args.think in ("0", "0,0") else tuple(map(float, args.think.split(",")))
    dbname = args.db or ("wb_storm_broken" if args.break_lock else "wb_storm")
    db_url = server_url().rstrip("/") + "/" + dbname
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if args.break_lock:
        env["WORKBENCH_QUEUE_BREAK_LOCK"] = "1"

    print(f"preparing {dbname}: {args.claims:,} claims, {args.users} users ...", flush=True)
    recreate_database(dbname)
    migrate(env)
    loaded = load(env, args.claims, args.users)
    if args.break_lock:
        break_constraints(dbname)
    port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)
    log = ROOT / "var" / f"storm-gunicorn-{port}.log"
    proc, handle = start_gunicorn(env, port, args.workers, args.threads, log)
    stats = Stats()
    try:
        base = f"http://127.0.0.1:{port}"
        tokens = loaded["tokens"]
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=session,
                args=(base, "storm", tokens[u], deadline, think, stats, u * 10 + t),
                daemon=True,
            )
            for u in range(args.users)
            for t in range(args.tabs)
        ]
        started = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        handle.close()

    found = checks(dbname, stats.label_ids)
    n5xx = sum(n for code, n in stats.statuses.items() if code >= 500)
    labels = len(stats.label_ids)
    rows = [
        ("corpus (claims)", f"{args.claims:,}"),
        ("load time", f"{loaded['load_seconds']:.1f} s"),
        ("sessions", f"{args.users} users x {args.tabs} tabs = {args.users * args.tabs}"),
        ("think time", f"{think[0]}-{think[1]} s"),
        ("gunicorn", f"{args.workers} workers x {args.threads} threads"),
        ("duration", f"{elapsed:.1f} s"),
        ("leases (201)", str(len(stats.lease_client))),
        ("labels stored (2xx)", str(labels)),
        ("labels/s", f"{labels / elapsed:.1f}"),
        ("409 conflicts", str(stats.conflicts)),
        ("204 nothing left", str(stats.empty)),
        ("5xx responses", str(n5xx)),
        ("client errors", str(len(stats.errors))),
    ]
    for name, client, server in (
        ("lease", stats.lease_client, stats.lease_server),
        ("submit", stats.submit_client, stats.submit_server),
    ):
        rows.append(
            (
                f"{name} server p50/p95/p99 ms",
                f"{pct(server, 0.5):.1f} / {pct(server, 0.95):.1f} / {pct(server, 0.99):.1f}",
            )
        )
        rows.append(
            (
                f"{name} client p50/p95/p99 ms",
                f"{pct(client, 0.5):.1f} / {pct(client, 0.95):.1f} / {pct(client, 0.99):.1f}",
            )
        )
        if server:
            rows.append((f"{name} server mean ms", f"{statistics.fmean(server):.1f}"))
    for name, n in found.items():
        rows.append((name, str(n)))
    width = max(len(r[0]) for r in rows)
    mode = "NEGATIVE CONTROL (lock and constraints removed)" if args.break_lock else "storm"
    print(f"\nqueue_storm — {mode}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if stats.errors:
        print("  first errors:", *stats.errors[:5], sep="\n    ")
    violations = sum(found.values()) + n5xx
    if args.break_lock:
        ok = violations > 0
        print(f"\nnegative control {'PASSED: violations detected' if ok else 'FAILED: none found'}")
        return 0 if ok else 1
    print(f"\nR1 {'PASSED' if violations == 0 else 'FAILED'}: {violations} violations")
    return 0 if violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
