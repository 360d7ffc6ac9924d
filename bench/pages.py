"""Server time of the list pages at 1M claims (target: p95 <= 200 ms per page).

Builds the corpus in a dedicated PostgreSQL database with set-based SQL (INSERT … SELECT over
generate_series): N claims in articles of 20 sentences, one queue item per claim, a fifth of
them labelled twice (settled, in review, half-done), leases held by annotators (some expired),
outlets and named sources for the registry, members. Then it serves the pages in-process with
Django's test client under production settings (DEBUG off, real middleware, templates and
PostgreSQL) and prints the p95 and median server time of each page over --runs requests after
two warm-up requests.

    .venv/bin/python bench/pages.py                   # 1,000,000 claims
    .venv/bin/python bench/pages.py --claims 50000    # smaller
    .venv/bin/python bench/pages.py --reuse           # keep an already built corpus
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wb_pages_bench (default)
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = 20
SLUG = "bench-pages"
TARGET_MS = 200.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wb_pages_bench"
        ),
    )
    parser.add_argument("--reuse", action="store_true", help="keep a corpus of the same size")
    return parser.parse_args()


def psql_admin(url: str, sql: str) -> None:
    admin = urlparse(url)._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    # Production static storage needs a manifest: collect into a private var folder.
    os.environ["WORKBENCH_VAR_DIR"] = tempfile.mkdtemp(prefix="wb-bench-pages-")
    # A broker with no worker: pages that start background work (progress refresh) enqueue
    # it and answer, as in production; the queue is emptied at the end. A dedicated Redis DB.
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ["WORKBENCH_CACHE_PREFIX"] = "wb-bench-pages"
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def existing_claims() -> int:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM annotations_claim c JOIN annotations_project p "
                "ON p.id = c.project_id WHERE p.slug = %s",
                [SLUG],
            )
            return int(cursor.fetchone()[0])
    except Exception:
        return -1


def build(n_claims: int) -> float:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotations.models import SchemaVersion
    from annotations.services.accounts import membership_set
    from annotations.services.projects import project_create

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    project = project_create(slug=SLUG, name="Bench pages", overlap=2)
    users = get_user_model().objects
    admin = users.create_user("bench_admin", password=None)
    membership_set(project=project, user=admin, role="admin")
    reviewer = users.create_user("bench_reviewer", password=None)
    membership_set(project=project, user=reviewer, role="reviewer")
    annotators = [users.create_user(f"bench_ann_{i:02d}", password=None) for i in range(40)]
    for user in annotators:
        membership_set(project=project, user=user, role="annotator")
    a_ids = [u.pk for u in annotators]
    params = {
        "p": project.pk,
        "a": max(1, n_claims // SENTENCES),
        "s": SENTENCES,
        "n": n_claims,
        "sv": SchemaVersion.objects.get(project=project, version=1).pk,
        "ann": a_ids,
        "na": len(a_ids),
    }
    words = (
        "ARRAY['army','ministry','shelling','ceasefire','convoy','protest','election',"
        "'rebels','airstrike','talks']"
    )
    steps = [
        (
            "outlets",
            """INSERT INTO annotations_outlet
               (project_id, key, name, country, kind, affiliation, reviewed, created_at)
               SELECT %(p)s, 'outlet-' || o, 'Outlet ' || o,
                      (ARRAY['Syria','Lebanon','Iraq','Jordan'])[1 + o %% 4],
                      (ARRAY['state_media','independent','partisan_blog','intl_media'])[1 + o %% 4],
                      CASE WHEN o %% 3 = 0 THEN 'government' ELSE '' END, o %% 2 = 0, now()
               FROM generate_series(1, 400) o""",
        ),
        (
            "named sources",
            """INSERT INTO annotations_namedsource
               (project_id, key, name, source_type, affiliation, country, reviewed, mentions,
                created_at)
               SELECT %(p)s, 'source-' || s, 'Source ' || s,
                      (ARRAY['official_domestic','monitor_ngo','expert','witness_local'])
                      [1 + s %% 4], '', '', s %% 5 = 0, s %% 97, now()
               FROM generate_series(1, 20000) s""",
        ),
        (
            "documents",
            """INSERT INTO annotations_document
               (project_id, name, format, sha256, size, text, url, stats, created_at)
               SELECT %(p)s, 'doc-' || a || '.txt', 'txt', md5('d' || a) || md5('e' || a),
                      %(s)s * 100, repeat('x', %(s)s * 100), '', '{}',
                      now() - make_interval(secs => a)
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
                 ON o.project_id = %(p)s AND o.key = 'outlet-' || (d.id %% 400 + 1)
               WHERE d.project_id = %(p)s""",
        ),
        (
            "claims",
            f"""INSERT INTO annotations_claim
               (project_id, article_id, position, start, "end", text, language, unit_kind,
                unit_defect, claim_likelihood, created_at)
               SELECT %(p)s, a.id, s, s * 100, s * 100 + 99,
                      'The ' || ({words})[1 + (a.id * 7 + s) %% 10] || ' report ' || a.id
                        || '.' || s || ' said ' || ({words})[1 + (a.id + s * 3) %% 10]
                        || ' near town ' || (a.id %% 997),
                      a.language, CASE WHEN s = 0 THEN 'headline' ELSE 'body' END, 'none',
                      ((a.id * 31 + s * 17) %% 100) / 100.0, now()
               FROM annotations_article a
               CROSS JOIN generate_series(0, %(s)s - 1) s
               WHERE a.project_id = %(p)s
               ORDER BY a.id, s
               LIMIT %(n)s""",  # noqa: S608
        ),
        (
            "items",
            """INSERT INTO annotations_item
               (project_id, kind, claim_id, k, n_done, n_leased, status, order_key,
                uncertainty, is_gold, version, created_at)
               SELECT %(p)s, 'claim', c.id, 2,
                      CASE WHEN c.id %% 5 = 0 THEN 2 WHEN c.id %% 5 = 1 THEN 1 ELSE 0 END, 0,
                      CASE WHEN c.id %% 10 = 0 THEN 'settled'
                           WHEN c.id %% 5 = 0 THEN 'review' ELSE 'open' END,
                      c.id, (c.id %% 100) / 100.0, false, 0, now()
               FROM annotations_claim c WHERE c.project_id = %(p)s""",
        ),
        (
            "assignments (done)",
            """INSERT INTO annotations_assignment
               (item_id, annotator_id, state, leased_at, expires_at, finished_at, skip_reason,
                suggestions_shown)
               SELECT i.id, (%(ann)s::int[])[1 + (i.id + r * 7) %% %(na)s], 'submitted',
                      now() - make_interval(secs => (i.id %% 2592000)),
                      now() - make_interval(secs => (i.id %% 2592000)) + interval '10 minutes',
                      now() - make_interval(secs => (i.id %% 2592000)) + interval '1 minute',
                      '', false
               FROM annotations_item i CROSS JOIN generate_series(1, 2) r
               WHERE i.project_id = %(p)s AND r <= i.n_done""",
        ),
        (
            "labels",
            """INSERT INTO annotations_label
               (item_id, annotator_id, assignment_id, schema_version_id, values, seconds,
                suggested, created_at, updated_at)
               SELECT a.item_id, a.annotator_id, a.id, %(sv)s,
                      jsonb_build_object('is_attributed', false, 'verifiability',
                        (ARRAY['checkable_fact','opinion'])[1 + (a.id %% 2)]),
                      5 + (a.id %% 60), false, a.finished_at, a.finished_at
               FROM annotations_assignment a
               JOIN annotations_item i ON i.id = a.item_id
               WHERE i.project_id = %(p)s""",
        ),
        (
            "leases (active and expired)",
            """WITH picked AS (
                 SELECT i.id, row_number() OVER (ORDER BY i.id) AS rn
                 FROM annotations_item i
                 WHERE i.project_id = %(p)s AND i.status = 'open' AND i.n_done = 0
                 ORDER BY i.id LIMIT 2000)
               INSERT INTO annotations_assignment
               (item_id, annotator_id, state, leased_at, expires_at, skip_reason,
                suggestions_shown)
               SELECT id, (%(ann)s::int[])[1 + rn %% %(na)s], 'leased',
                      now() - make_interval(mins => (rn %% 180)::int),
                      now() - make_interval(mins => (rn %% 180)::int) + interval '10 minutes',
                      '', false
               FROM picked""",
        ),
        (
            "item lease counts",
            """UPDATE annotations_item i SET n_leased = 1,
                      next_expiry = a.expires_at
               FROM annotations_assignment a
               WHERE a.item_id = i.id AND a.state = 'leased' AND i.project_id = %(p)s""",
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in steps:
            t0 = time.perf_counter()
            with transaction.atomic():
                cursor.execute(sql, params)
                rows = cursor.rowcount
            print(f"  built {name}: {rows} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def pages() -> list[tuple[str, str, str]]:
    """(label, user, url) for every list page that is installed."""
    from django.urls import NoReverseMatch, reverse

    wanted = [
        ("home", "bench_admin", "home", False, ""),
        ("project page", "bench_admin", "project-detail", True, ""),
        ("documents", "bench_admin", "documents", True, ""),
        ("documents p.100", "bench_admin", "documents", True, "?page=100"),
        ("claims", "bench_reviewer", "claims", True, ""),
        ("claims ?q=", "bench_reviewer", "claims", True, "?q=ceasefire"),
        ("claims ?q= rare", "bench_reviewer", "claims", True, "?q=town+996"),
        ("review queue", "bench_reviewer", "review-queue", True, ""),
        ("progress (stats cached 60 s)", "bench_admin", "progress", True, ""),
        ("progress (recompute asked)", "bench_admin", "progress", True, "?fresh=1"),
        ("registry outlets", "bench_admin", "registry", True, "?q=outlet+1"),
        ("registry sources", "bench_admin", "registry", True, "?tab=sources&q=source+12"),
        ("members", "bench_admin", "members", True, ""),
        ("schema", "bench_admin", "schema", True, ""),
        ("events", "bench_reviewer", "events", True, ""),
        ("versions", "bench_reviewer", "versions", True, ""),
        ("agreement", "bench_reviewer", "agreement", True, ""),
    ]
    out = []
    for label, user, name, with_slug, query in wanted:
        try:
            url = reverse(name, args=[SLUG] if with_slug else [])
        except NoReverseMatch:
            continue
        out.append((label, user, url + query))
    return out


def measure(runs: int) -> list[tuple[str, int, float, float, int, int]]:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for username in ("bench_admin", "bench_reviewer"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        clients[username] = client
    rows = []
    for label, user, url in pages():
        client = clients[user]
        status = 0
        for _ in range(2):
            t0 = time.perf_counter()
            status = client.get(url).status_code
            warm = time.perf_counter() - t0
        # A page far over its target gets 3 timed requests, not `runs` (seconds each).
        n_runs = runs if warm < 10 * TARGET_MS / 1000 else min(runs, 3)
        times = []
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        n_queries = len(queries)
        for _ in range(n_runs):
            reset_queries()
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            status = response.status_code
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        rows.append((f"{label} ({url})", status, statistics.median(times), p95, n_queries, n_runs))
        print(f"  {label}: p95 {p95:.0f} ms", file=sys.stderr, flush=True)
    return rows


def progress_refresh_ms() -> float:
    """Time of the progress page's background refresh, then empty the broker queue (nobody
    consumed what the pages enqueued)."""
    from annotations.models import Project
    from annotations.services.progress import progress_stats_compute
    from workbench.celery import app

    t0 = time.perf_counter()
    progress_stats_compute(Project.objects.get(slug=SLUG))
    elapsed = (time.perf_counter() - t0) * 1000
    app.control.purge()
    return elapsed


def main() -> None:
    args = parse_args()
    url = args.database_url
    dbname = urlparse(url).path.lstrip("/")
    setup_django(url)
    have = existing_claims() if args.reuse else -1
    if have != args.claims:
        from django.db import connections

        connections.close_all()
        psql_admin(url, f'DROP DATABASE IF EXISTS "{dbname}"')
        psql_admin(url, f'CREATE DATABASE "{dbname}"')
        print(f"building {args.claims:,} claims in {dbname} …", flush=True)
        seconds = build(args.claims)
        print(f"built in {seconds:.0f} s", flush=True)
    rows = measure(args.runs)
    refresh_ms = progress_refresh_ms()
    print()
    print(f"List pages at {args.claims:,} claims, PostgreSQL, DEBUG off, in-process test client,")
    print(f"{args.runs} requests per page after 2 warm-ups; target p95 <= {TARGET_MS:.0f} ms")
    print(f"| {'page':<58} | status | runs | median ms | p95 ms | queries | target |")
    print(f"|{'-' * 60}|--------|------|-----------|--------|---------|--------|")
    for label, status, median, p95, n_queries, n_runs in rows:
        ok = "ok" if p95 <= TARGET_MS and status == 200 else "MISS"
        print(
            f"| {label:<58} | {status:>6} | {n_runs:>4} | {median:>9.0f} | {p95:>6.0f} "
            f"| {n_queries:>7} | {ok:>6} |"
        )
    print(f"progress figures, background task (no page waits for it): {refresh_ms:,.0f} ms")


if __name__ == "__main__":
    main()
