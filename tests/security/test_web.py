"""Open redirects, login throttling, CSRF on every state-changing call, secure cookies in
production mode (issue 8, part 4)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD, make_project, make_user
from tests.security.test_authz_matrix import EXPECTED, ROUTES
from tests.security.world import build_world, fill

EVIL = [
    "//evil.com",
    "//evil.com/",
    "/\\evil.com",
    "\\\\evil.com",
    "https://evil.com",
    "http:evil.com",
    "%2F%2Fevil.com",
    "/%2F/evil.com",
    "/%5Cevil.com",
    "///evil.com",
    " //evil.com",
    "\t//evil.com",
    "javascript:alert(1)",
    "https:/\\evil.com",
]


def _stays_on_site(location: str) -> bool:
    from urllib.parse import urlsplit

    cleaned = location.strip().replace("\\", "/")
    parts = urlsplit(cleaned)
    return not parts.netloc and not parts.scheme and not cleaned.startswith("//")


@pytest.mark.parametrize("target", EVIL)
def test_login_next_never_leaves_the_site(db, target: str) -> None:
    project = make_project("alpha")
    user = make_user("ann_annotator", "annotator", project)
    client = Client()
    response = client.post(
        f"/accounts/login/?next={quote(target, safe='%')}",
        {"username": user.username, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]
    # already signed in: the login page redirects too
    response = client.get(f"/accounts/login/?next={quote(target, safe='%')}")
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL[:6])
def test_logout_next_never_leaves_the_site(db, target: str) -> None:
    project = make_project("alpha")
    client = Client()
    client.force_login(make_user("ann_annotator", "annotator", project))
    response = client.post(f"/accounts/logout/?next={quote(target, safe='%')}")
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]


@pytest.mark.django_db(transaction=True)
def test_login_throttle_holds_under_fifty_concurrent_bad_passwords(live_server) -> None:
    """50 threads guess at once against the live server: at most the configured number of
    failures is ever checked, the rest are refused with 429, and then even the right password
    is refused until the window passes."""
    import requests

    project = make_project("alpha")
    user = make_user("ann_annotator", "annotator", project)
    limit = settings.LOGIN_FAILURES_PER_WINDOW
    url = f"{live_server.url}/accounts/login/"
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def guess(n: int) -> None:
        s = requests.Session()
        page = s.get(url, timeout=30)
        token = page.cookies.get("csrftoken") or s.cookies.get("csrftoken")
        barrier.wait(timeout=60)
        r = s.post(
            url,
            data={
                "username": user.username,
                "password": f"wrong-{n}",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": url},
            allow_redirects=False,
            timeout=60,
        )
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 50
    assert 302 not in statuses
    assert statuses.count(200) <= limit, statuses  # failures actually checked
    assert statuses.count(429) >= 50 - limit
    s = requests.Session()
    token = s.get(url, timeout=30).cookies.get("csrftoken")
    r = s.post(
        url,
        data={"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 429, "the right password must wait out the window too"


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    yield build_world(media_root=settings.MEDIA_ROOT)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


def test_csrf_enforced_on_every_state_changing_route(world) -> None:
    """Every route and write method some role may use, sent by that role with a session but
    no CSRF token: 403, and nothing changes. (Token-authenticated API calls need no CSRF.)"""
    from django.db import transaction

    from tests.security.world import db_fingerprint

    problems = []
    checked = 0
    for route in ROUTES:
        table = EXPECTED.get(route.name, {})
        for method, roles in table.items():
            if method == "GET" or not roles:
                continue
            role = sorted(roles)[0]
            client = Client(enforce_csrf_checks=True, raise_request_exception=False)
            client.force_login(world.user(role))
            path = fill(route, world)
            with transaction.atomic():
                before = db_fingerprint()
                if route.is_api:
                    response = client.generic(
                        method, path, data=json.dumps({}), content_type="application/json"
                    )
                else:
                    response = client.generic(
                        method, path, data="", content_type="application/x-www-form-urlencoded"
                    )
                changed = db_fingerprint() != before
                transaction.set_rollback(True)
            checked += 1
            if response.status_code != 403:
                problems.append(f"{method} {path} as {role}: {response.status_code} without CSRF")
            if changed:
                problems.append(f"{method} {path} as {role}: changed the database without CSRF")
    assert checked > 20
    assert not problems, "\n".join(problems)


def test_production_mode_cookies_and_headers() -> None:
    """DEBUG=0 settings, imported in a fresh interpreter (not under pytest)."""
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k, None) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'DEBUG', 'SESSION_COOKIE_SAMESITE')}))"
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        DEBUG="0",
        WORKBENCH_TESTING="0",
        SECRET_KEY="s" * 20 + "-production-test-key-" + "k" * 30,
        ALLOWED_HOSTS="workbench.example.org",
        DJANGO_SETTINGS_MODULE="workbench.settings",
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


def test_production_mode_refuses_missing_or_weak_secret_key() -> None:
    """No hard-coded SECRET_KEY (CVE-2023-43791): production refuses to start without one."""
    for key in ("", "short"):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST", "DJANGO_ALLOW_ASYNC"))
        }
        env.update(DEBUG="0", WORKBENCH_TESTING="0", SECRET_KEY=key, ALLOWED_HOSTS="x.org")
        env["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
        out = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode != 0
        assert "SECRET_KEY" in out.stderr
