"""Playwright driving Debian's Chromium (/usr/bin/chromium) against the live test server.

Every test is marked `browser`. Screenshots go to test-artifacts/. Pages open with a canary:
any dialog, console error or CSP violation is recorded so tests can assert there was none.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls in test bodies are
# ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CANARY_SCRIPT = """
window.__wb_csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__wb_csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    need(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield instance
        instance.close()


class PageWatch:
    """Records what must never happen on our pages."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    watch = PageWatch()
    page = context.new_page()
    page.add_init_script(CANARY_SCRIPT)
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def on_request(request) -> None:
        if not request.url.startswith((live_server.url, "data:", "about:")):
            watch.external.append(request.url)

    page.on("request", on_request)
    page.watch = watch
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__wb_csp || []")


def login(page, live_server, user, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
