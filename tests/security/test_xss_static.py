"""Static XSS defences (issue 8, R5): an enforcing CSP on every HTML response, no template
variable inside <script>, no inline handlers or style attributes, uploads never served inline.

Would have caught: reflected XSS under a report-only CSP (CVE-2025-25296), template JSON
breaking out of <script> (CVE-2026-22033), XSS through served uploads (CVE-2023-47115,
CVE-2024-23633).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.security.test_authz_matrix import ROUTES
from tests.security.world import build_world, fill

TEMPLATES = Path(settings.BASE_DIR) / "templates"
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))
SCRIPT_BLOCK = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.S)


def test_templates_exist():
    assert len(TEMPLATE_FILES) > 10


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_inline_script_handler_or_style(path: Path) -> None:
    text = path.read_text()
    problems = []
    for attrs, body in SCRIPT_BLOCK.findall(text):
        if body.strip():
            problems.append(f"<script> with content: {body.strip()[:60]!r}")
        if "src=" not in attrs:
            problems.append("<script> without src")
        if "{{" in attrs.replace("{% static", ""):
            problems.append(f"template variable in a <script> tag: {attrs!r}")
    for tag in TAG.findall(text):
        if re.search(r"\son[a-z]+\s*=", tag, re.I):
            problems.append(f"inline event handler: {tag[:80]!r}")
        if re.search(r"\sstyle\s*=", tag, re.I):
            problems.append(f"style attribute: {tag[:80]!r}")
        if re.search(r"\shx-on(:|-|\s*=)", tag, re.I):
            problems.append(f"hx-on attribute (inline script): {tag[:80]!r}")
        if re.search(r"""\s(href|src|action)\s*=\s*["']?\s*javascript:""", tag, re.I):
            problems.append(f"javascript: URL: {tag[:80]!r}")
    if re.search(r"\|\s*safe\b|\{%\s*autoescape\s+off", text):
        problems.append("|safe or autoescape off")
    assert not problems, f"{path}: " + "; ".join(problems)


def test_csp_setting_is_enforcing_and_strict() -> None:
    csp = settings.SECURE_CSP
    assert not getattr(settings, "SECURE_CSP_REPORT_ONLY", None), "report-only is not a defence"
    for directive in ("script-src", "style-src", "default-src"):
        values = " ".join(csp.get(directive, []))
        assert "unsafe-inline" not in values and "unsafe-eval" not in values, directive
        assert values, f"{directive} missing"
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def _check_csp(header: str) -> list[str]:
    problems = []
    directives = {
        part.strip().split()[0]: part.strip() for part in header.split(";") if part.strip()
    }
    for name in ("default-src", "script-src", "style-src", "object-src", "frame-ancestors"):
        if name not in directives:
            problems.append(f"no {name}")
    for name, value in directives.items():
        if "unsafe-inline" in value or "unsafe-eval" in value or "*" in value.split():
            problems.append(f"{name} allows {value}")
    return problems


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    yield build_world(media_root=settings.MEDIA_ROOT)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


@pytest.mark.slow
def test_every_html_response_has_enforcing_csp_and_deny_framing(world) -> None:
    """Every page and fragment (and the 403/404 pages) of every route, for every role."""
    problems: list[str] = []
    checked = 0
    clients = {}
    for role in ("anon", "ann_a", "reviewer", "admin", "outsider"):
        c = Client(raise_request_exception=False)
        if world.user(role):
            c.force_login(world.user(role))
        clients[role] = c
    for route in ROUTES:
        if route.name == "logout":
            continue
        path = fill(route, world)
        for role, client in clients.items():
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(path, headers=headers)
                ctype = response.get("Content-Type", "")
                if "Content-Security-Policy-Report-Only" in response:
                    problems.append(f"{path} as {role}: report-only CSP")
                if not ctype.startswith("text/html"):
                    continue
                checked += 1
                where = f"{path} as {role}{' (htmx)' if headers else ''}"
                csp = response.get("Content-Security-Policy", "")
                if not csp:
                    problems.append(f"{where}: no Content-Security-Policy")
                problems += [f"{where}: {p}" for p in _check_csp(csp)] if csp else []
                if response.get("X-Frame-Options") != "DENY":
                    problems.append(f"{where}: X-Frame-Options {response.get('X-Frame-Options')}")
                if response.get("X-Content-Type-Options") != "nosniff":
                    problems.append(f"{where}: no nosniff")
    assert checked > 50
    assert not problems, "\n".join(problems)


def test_no_route_serves_media_root() -> None:
    media_url = (settings.MEDIA_URL or "").strip("/")
    for route in ROUTES:
        assert "django.views.static" not in route.callback, route
        if media_url:
            assert not route.pattern.startswith(media_url), route


def test_uploaded_files_are_not_reachable(world, settings) -> None:
    """An uploaded HTML file with a script stays under MEDIA_ROOT, reachable by no URL."""
    media = Path(settings.MEDIA_ROOT)
    target = media / "uploads" / "evil.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<script>window.__xss=1</script>")
    client = Client()
    client.force_login(world.user("admin"))
    for path in ("/media/uploads/evil.html", "/uploads/evil.html", "/static/../media/evil.html"):
        response = client.get(path)
        assert response.status_code == 404, path


def test_downloads_are_attachments_with_nosniff(world) -> None:
    client = Client()
    client.force_login(world.user("admin"))
    slug = world.project.slug
    name = world.objs["version_file"]
    number = world.objs["version"].number
    paths = [
        f"/api/v1/projects/{slug}/export/?format=jsonl",
        f"/api/v1/projects/{slug}/export/?format=csv",
        f"/api/v1/projects/{slug}/versions/{number}/files/{name}",
        f"/p/{slug}/versions/{number}/files/{name}",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.get("Content-Disposition", "").startswith("attachment"), path
        assert response.get("X-Content-Type-Options") == "nosniff", path
        assert not response.get("Content-Type", "").startswith("text/html"), path
