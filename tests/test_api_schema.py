"""The OpenAPI schema of every feature's API generates without warnings, and the docs page is
served from our own static files (no CDN)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command

from tests.factories import make_project, make_user


def test_schema_generates_and_validates_without_warnings(db, tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning (any engineer's API) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/projects/{slug}/export/" in text
    assert "/api/v1/projects/{slug}/versions/" in text


@pytest.fixture
def member_client(client, db):
    project = make_project("schema-check")
    client.force_login(make_user("sid_reviewer", "reviewer", project))
    return client


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("src", "href"):
            if tag in {"script", "link", "img", "iframe"} and values.get(name):
                self.urls.append(values[name])


def test_schema_and_docs_pages_are_served(member_client):
    schema = member_client.get("/api/schema/")
    assert schema.status_code == 200
    docs = member_client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    parser = _Assets()
    parser.feed(html)
    assert parser.urls, "the docs page loads its assets"
    for url in parser.urls:
        assert not re.match(r"^(https?:)?//", url), f"external resource on /api/docs/: {url}"
    # The split view loads its initialiser from us too, and points at our schema.
    assert "cdn" not in html.lower()
