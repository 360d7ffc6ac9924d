"""P7: stream the export of N claim records (3 raw labels each) over HTTP from gunicorn.

Builds the corpus directly in a dedicated PostgreSQL database with set-based SQL
(INSERT … SELECT over generate_series), starts gunicorn on 127.0.0.1 at a free port (one sync
worker, production settings), streams GET /api/v1/projects/<slug>/export/ for each format and
prints records/s, time to first byte and the worker's peak RSS (VmHWM, and the largest VmRSS
sampled during the run).

    .venv/bin/python bench/export.py                 # 1,000,000 records
    .venv/bin/python bench/export.py --records 20000 # smaller
    .venv/bin/python bench/export.py --reuse         # keep a corpus built before (migrated)
    .venv/bin/python bench/export.py --app "django.core.wsgi:get_wsgi_application()"
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wb_export_bench (default)

First byte: time to the first body bytes of a request to a fresh worker (caches cold: the split
assignment is computed, pyarrow imported for Parquet); "warm": a second request to that worker.

Target P7 (JSONL): >= 20,000 records/s, peak RSS <= 250 MB, first byte <= 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = 20  # claims per article; each sentence line is 99 characters + newline
SLUG = "bench-export"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,csv,parquet")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wb_export_bench"
        ),
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database if it already holds the corpus"
    )
    parser.add_argument(
        "--app",
        default="workbench.wsgi",
        help='gunicorn\'s application (e.g. "django.core.wsgi:get_wsgi_application()" for Django '
        "alone, without what workbench.wsgi loads at start)",
    )
    return parser.parse_args()


def psql_admin(url: str, sql: str) -> None:
    parts = urlparse(url)
    admin = parts._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def existing_records(url: str) -> int:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM annotations_item i JOIN annotations_project p "
                "ON p.id = i.project_id WHERE p.slug = %s",
                [SLUG],
            )
            return int(cursor.fetchone()[0])
    except Exception:
        return -1


def build(n_records: int) -> tuple[str, float]:
    """Create the project, users and N claim records with 3 labels each. Returns the API token
    of a reviewer and the seconds spent."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from annotations.models import SchemaVersion
    from annotations.services.accounts import membership_set
    from annotations.services.projects import project_create
    from tests.factories import UserFactory

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    project = project_create(slug=SLUG, overlap=3)
    users = [UserFactory(username=f"bench_annotator_{i}") for i in (1, 2, 3)]
    for user in users:
        membership_set(project=project, user=user, role="annotator")
    reviewer = UserFactory(username="bench_reviewer")
    membership_set(project=project, user=reviewer, role="reviewer")
    token = Token.objects.create(user=reviewer).key
    schema_id = SchemaVersion.objects.get(project=project, version=1).pk
    n_articles = max(1, n_records // SENTENCES)
    params = {
        "p": project.pk,
        "a": n_articles,
        "s": SENTENCES,
        "n": n_records,
        "u1": users[0].pk,
        "u2": users[1].pk,
        "u3": users[2].pk,
        "r": reviewer.pk,
        "sv": schema_id,
    }
    steps = [
        (
            "outlets",
            """INSERT INTO annotations_outlet
               (project_id, key, name, country, kind, affiliation, reviewed, created_at)
               SELECT %(p)s, 'outlet-' || o, 'Outlet ' || o,
                      CASE WHEN o %% 2 = 0 THEN 'Syria' ELSE 'Lebanon' END,
                      (ARRAY['state_media','independent','partisan_blog','intl_media'])[1 + o %% 4],
                      CASE WHEN o %% 3 = 0 THEN 'government' ELSE '' END, o %% 2 = 0, now()
               FROM generate_series(1, 20) o""",
        ),
        (
            "documents",
            """INSERT INTO annotations_document
               (project_id, name, format, sha256, size, text, url, stats, created_at)
               SELECT %(p)s, 'doc-' || a || '.txt', 'txt', md5('d' || a) || md5('e' || a),
                      %(s)s * 100,
                      (SELECT string_agg(rpad('Report ' || a || '.' || s || ': forces '
                                              || md5(a || ':' || s) || ' said on day '
                                              || (a %% 28 + 1), 99, ' ') || E'\\n', ''
                                         ORDER BY s)
                       FROM generate_series(0, %(s)s - 1) s),
                      'https://news.example/' || a, '{}', now()
               FROM generate_series(1, %(a)s) a""",
        ),
        (
            "articles",
            """INSERT INTO annotations_article
               (project_id, document_id, position, start, "end", title, outlet_id, outlet_name,
                byline, published, language, content_hash, created_at)
               SELECT %(p)s, d.id, 0, 0, length(d.text), 'Article ' || d.id, o.id, o.name, '',
                      date '2019-01-01' + (d.id %% 365)::int,
                      CASE WHEN d.id %% 3 = 0 THEN 'ar' ELSE 'en' END, d.sha256, now()
               FROM annotations_document d
               JOIN annotations_outlet o
                 ON o.project_id = %(p)s AND o.key = 'outlet-' || (d.id %% 20 + 1)
               WHERE d.project_id = %(p)s""",
        ),
        (
            "clusters",
            """INSERT INTO annotations_eventcluster (project_id, key, title, manual, created_at,
                                                    updated_at)
               SELECT %(p)s, 'ev-' || c, 'Event ' || c, false, now(), now()
               FROM generate_series(0, %(a)s / 2 + 1) c""",
        ),
        (
            "claims",
            """INSERT INTO annotations_claim
               (project_id, article_id, position, start, "end", text, language, unit_kind,
                unit_defect, claim_likelihood, created_at, cluster_id)
               SELECT %(p)s, a.id, s, s * 100, s * 100 + 99,
                      substr(d.text, s * 100 + 1, 99), a.language,
                      CASE WHEN s = 0 THEN 'headline' ELSE 'body' END,
                      CASE WHEN s = 19 THEN 'truncated' ELSE 'none' END, 0.5, now(),
                      CASE WHEN s < 3 THEN c.id END
               FROM annotations_article a
               JOIN annotations_document d ON d.id = a.document_id
               CROSS JOIN generate_series(0, %(s)s - 1) s
               LEFT JOIN annotations_eventcluster c
                 ON c.project_id = %(p)s AND c.key = 'ev-' || (a.id / 2)
               WHERE a.project_id = %(p)s
               ORDER BY a.id, s
               LIMIT %(n)s""",
        ),
        (
            "items",
            """INSERT INTO annotations_item
               (project_id, kind, claim_id, k, n_done, n_leased, status, order_key,
                uncertainty, is_gold, gold, version, aggregate, settled_at, created_at)
               SELECT %(p)s, 'claim', c.id, 3, 3, 0,
                      CASE WHEN c.id %% 3 = 0 THEN 'settled' ELSE 'review' END, c.id,
                      (c.id %% 100) / 100.0, false,
                      CASE WHEN c.id %% 3 = 0 THEN jsonb_build_object(
                          'is_attributed', c.id %% 2 = 0,
                          'verifiability', 'checkable_fact',
                          'claim_types', jsonb_build_array('event')) END,
                      CASE WHEN c.id %% 3 = 0 THEN 1 ELSE 0 END,
                      jsonb_build_object('verifiability', jsonb_build_object(
                          'checkable_fact', 0.7, 'opinion', 0.3)),
                      CASE WHEN c.id %% 3 = 0 THEN now() END, now()
               FROM annotations_claim c WHERE c.project_id = %(p)s""",
        ),
        (
            "assignments",
            """INSERT INTO annotations_assignment
               (item_id, annotator_id, state, leased_at, expires_at, finished_at, skip_reason,
                suggestions_shown)
               SELECT i.id, u.uid, 'submitted', now(), now() + interval '10 minutes', now(), '',
                      u.n = 1
               FROM annotations_item i
               CROSS JOIN unnest(ARRAY[%(u1)s, %(u2)s, %(u3)s]) WITH ORDINALITY AS u(uid, n)
               WHERE i.project_id = %(p)s""",
        ),
        (
            "labels",
            """INSERT INTO annotations_label
               (item_id, annotator_id, assignment_id, schema_version_id, values, seconds,
                suggested, accepted, created_at, updated_at)
               SELECT a.item_id, a.annotator_id, a.id, %(sv)s,
                      jsonb_build_object(
                        'is_attributed', (a.item_id + a.annotator_id) %% 2 = 0,
                        'verifiability',
                          (ARRAY['checkable_fact','opinion','prediction','checkable_fact'])
                          [1 + (a.item_id + a.annotator_id) %% 4],
                        'claim_types', jsonb_build_array('event'),
                        'commitment', 'asserts',
                        'check_worthiness', 1 + (a.item_id %% 5)),
                      5 + (a.id %% 40), a.suggestions_shown,
                      CASE WHEN a.suggestions_shown THEN a.id %% 2 = 0 END,
                      timestamptz '2026-01-01' + make_interval(secs => a.id),
                      timestamptz '2026-01-01' + make_interval(secs => a.id)
               FROM annotations_assignment a
               JOIN annotations_item i ON i.id = a.item_id
               WHERE i.project_id = %(p)s""",
        ),
        (
            "decisions",
            """INSERT INTO annotations_decision
               (item_id, reviewer_id, action, version, before, after, changed_fields,
                overrides_majority, note, created_at)
               SELECT i.id, CASE WHEN i.id %% 2 = 0 THEN %(r)s END,
                      CASE WHEN i.id %% 2 = 0 THEN 'decide' ELSE 'auto_settle' END, 1, NULL,
                      i.gold, '["verifiability"]'::jsonb, i.id %% 10 = 0, '', now()
               FROM annotations_item i
               WHERE i.project_id = %(p)s AND i.status = 'settled'""",
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in steps:
            t0 = time.perf_counter()
            with transaction.atomic():
                cursor.execute(sql, params)
                rows = cursor.rowcount
            print(f"  built {name}: {rows} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    # What autovacuum does after a bulk insert: statistics, and the visibility map that lets
    # the split assignment count claims by an index-only scan.
    connection.ensure_connection()
    autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.set_autocommit(autocommit)
    return token, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_server(url: str, port: int, app: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "WORKBENCH_TESTING": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
    }
    env.pop("REDIS_URL", None)
    log = open(Path(tempfile.gettempdir()) / f"bench-export-gunicorn-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "1800",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200 and children(proc.pid):
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("gunicorn did not start; see " + log.name)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backends(database: str) -> list[int]:
    """PIDs of the PostgreSQL backends connected to the bench database."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            pids.append(int(entry.name))
    return pids


def first_byte_only(port: int, path: str, token: str) -> float:
    """Seconds to the first block of a second request to the same worker (its caches warm),
    closed after that block."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    response.read1(1 << 16)
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def run_format(url: str, token: str, fmt: str, expected: int, app: str) -> dict[str, float]:
    port = free_port()
    proc = start_server(url, port, app)
    database = urlparse(url).path.lstrip("/")
    try:
        worker = children(proc.pid)[0]
        cpu_start = cpu_seconds(worker)
        backend_cpu: dict[int, tuple[float, float]] = {}
        base_rss = status_kb(worker, "VmRSS")
        peak = [base_rss]
        done = threading.Event()

        def sample() -> None:
            ticks = 0
            while not done.is_set():
                peak[0] = max(peak[0], status_kb(worker, "VmRSS"))
                if ticks % 10 == 0:  # look for new backends twice a second
                    for pid in postgres_backends(database):
                        if pid not in backend_cpu:
                            backend_cpu[pid] = (cpu_seconds(pid), 0.0)
                for pid, (first, last) in backend_cpu.items():
                    backend_cpu[pid] = (first, cpu_seconds(pid) or last)
                ticks += 1
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        path = f"/api/v1/projects/{SLUG}/export/?format={fmt}&include=labelled&kind=claims"
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{fmt}: HTTP {response.status} {response.read()[:300]!r}")
        first_byte = None
        size = 0
        newlines = 0
        tail = b""
        with tempfile.TemporaryFile() as sink:
            while True:
                block = response.read1(1 << 16)  # what has arrived, up to 64 KB
                if not block:
                    break
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(block)
                newlines += block.count(b"\n")
                if fmt == "parquet":
                    sink.write(block)
                tail = block[-4:]
            elapsed = time.perf_counter() - started
            if fmt == "parquet":
                import pyarrow.parquet as pq

                sink.seek(0)
                records = pq.ParquetFile(sink).metadata.num_rows
            elif fmt == "csv":
                records = newlines - 1
            else:
                records = newlines
        done.set()
        sampler.join()
        worker_cpu = cpu_seconds(worker) - cpu_start
        warm = first_byte_only(port, path, token)
        db_cpu = sum(last - first for first, last in backend_cpu.values())
        hwm = status_kb(worker, "VmHWM")
        if records != expected:
            raise RuntimeError(f"{fmt}: got {records} records, expected {expected}")
        del tail
        return {
            "records": records,
            "seconds": elapsed,
            "rate": records / elapsed,
            "ttfb": first_byte or elapsed,
            "ttfb_warm": warm,
            "rss_start": base_rss / 1024,
            "rss_peak": max(hwm, peak[0]) / 1024,
            "mb": size / 1e6,
            "cpu_us": 1e6 * worker_cpu / max(1, records),
            "db_cpu_us": 1e6 * db_cpu / max(1, records),
            "load": os.getloadavg()[0],
        }
    finally:
        stop_server(proc)


def main() -> None:
    args = parse_args()
    url = args.database_url
    name = urlparse(url).path.lstrip("/")
    if not args.reuse:
        psql_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
        psql_admin(url, f'CREATE DATABASE "{name}"')
    setup_django(url)
    have = existing_records(url) if args.reuse else -1
    if have == args.records:
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        call_command("migrate", verbosity=0)  # a corpus built before the latest migrations
        token = Token.objects.get(user__username="bench_reviewer").key
        print(f"reusing {have} records in {name}")
    else:
        if have >= 0:
            raise SystemExit(f"{name} holds {have} records, not {args.records}: drop --reuse")
        print(f"building {args.records} claim records x 3 labels in {name} …", flush=True)
        token, seconds = build(args.records)
        print(f"  corpus built in {seconds:.0f} s", flush=True)
    from django.db import connection

    expected = existing_records(url)
    connection.close()
    cores = os.cpu_count()
    print()
    print(
        f"P7 export, {expected} claim records x 3 labels, gunicorn 1 sync worker ({args.app}), "
        f"{cores} cores"
    )
    print(
        f"{'format':8} {'records':>9} {'seconds':>8} {'records/s':>10} {'first byte s':>13} "
        f"{'warm 1st byte s':>16} "
        f"{'peak RSS MB':>12} {'idle RSS MB':>12} {'MB out':>8} {'worker CPU us/rec':>18} "
        f"{'PG CPU us/rec':>14} {'load 1m':>8}"
    )
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        row = run_format(url, token, fmt, expected, args.app)
        print(
            f"{fmt:8} {row['records']:>9.0f} {row['seconds']:>8.1f} {row['rate']:>10.0f} "
            f"{row['ttfb']:>13.3f} {row['ttfb_warm']:>16.3f} {row['rss_peak']:>12.0f} "
            f"{row['rss_start']:>12.0f} "
            f"{row['mb']:>8.0f} {row['cpu_us']:>18.1f} {row['db_cpu_us']:>14.1f} "
            f"{row['load']:>8.1f}",
            flush=True,
        )
    print("target (JSONL): >= 20000 records/s, peak RSS <= 250 MB, first byte <= 1 s")
    print(
        "first byte: a fresh gunicorn worker, caches cold (the split assignment computed); warm: "
        "a second request to the same worker after the run (split assignment cached)"
    )
    print(
        "worker CPU us/rec: CPU time of the gunicorn worker per record (whole request, up-front "
        "queries included); PG CPU: of the database backends; 1e6 / (sum) is the rate one "
        "idle core each would sustain"
    )


if __name__ == "__main__":
    main()
