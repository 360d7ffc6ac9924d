"""Shared fixtures: named users per role, a project, services (PostgreSQL, Redis, a real
Celery worker), and the rule that a required service is never silently skipped in CI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import make_project, make_user

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("WORKBENCH_REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip when a service is missing — or fail, when CI requires every service."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres") or item.get_closest_marker("services"):
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(autouse=True)
def _services_for_marked(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") or request.node.get_closest_marker("services"):
        need(settings.USING_POSTGRES, "needs PostgreSQL: set DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("services"):
        need(bool(settings.REDIS_URL), "needs Redis: set REDIS_URL=redis://...")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Empty the cache between tests. On Redis the cache shares a database with the Celery
    broker, so only the cache's own keys are deleted: FLUSHDB would drop queued messages of any
    worker on that database (lost jobs)."""
    from django.core.cache import cache

    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


# --- named users and a project ----------------------------------------------------------------


@pytest.fixture
def project(db):
    return make_project("alpha")


@pytest.fixture
def other_project(db):
    return make_project("beta")


@pytest.fixture
def admin(project):
    return make_user("ada_admin", "admin", project)


@pytest.fixture
def reviewer(project):
    return make_user("rita_reviewer", "reviewer", project)


@pytest.fixture
def annotator(project):
    return make_user("ann_annotator", "annotator", project)


@pytest.fixture
def annotator_b(project):
    return make_user("bob_annotator", "annotator", project)


@pytest.fixture
def outsider(other_project):
    """An admin of another project: sees nothing of `project`."""
    return make_user("olga_outsider", "admin", other_project)


@pytest.fixture
def site_admin(db):
    return make_user("sam_siteadmin", "admin", None)


@pytest.fixture
def client_for(client):
    """`client_for(user)` logs the test client in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


# --- a real Celery worker ---------------------------------------------------------------------


@pytest.fixture
def live_worker(transactional_db) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process against Redis and the test database."""
    need(settings.USING_POSTGRES, "the worker test needs PostgreSQL")
    need(bool(settings.REDIS_URL), "the worker test needs Redis")
    from django.db import connection

    from workbench.celery import app

    db = connection.settings_dict
    user, host = db["USER"] or "postgres", db["HOST"] or "127.0.0.1"
    url = f"postgres://{user}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "1",
        "WORKBENCH_TESTING": "0",
        # Workers in tests run what the test enqueues; pairing has its own worker test.
        "WORKBENCH_AUTO_PAIR": "0",
        "PYTHONPATH": str(ROOT),
    }
    log = open(ROOT / "var" / f"worker-{os.getpid()}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    old = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_url = settings.REDIS_URL
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in (ROOT / "var" / f"worker-{os.getpid()}.log").read_bytes():
                break
            if proc.poll() is not None:
                raise RuntimeError("worker exited during start")
            time.sleep(0.2)
        else:
            raise RuntimeError("worker did not become ready in 60 s")
        proc.queue = queue  # type: ignore[attr-defined]
        yield proc
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url = old
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
