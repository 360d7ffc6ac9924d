"""Stored XSS (issue 8, R5): a payload corpus imported as text, HTML and JSONL and written into
every user-editable field, then every main page opened in Chromium as an admin and as an
annotator. Nothing may execute (the canary `window.__xss` stays undefined, no dialog, no
request from an injected hx-get), no payload becomes an element or attribute, and the payload
is shown as text.

Would have caught: stored XSS through imported documents and user-named objects
(CVE-2023-47115 Label Studio, CVE-2024-23633), JSON breaking out of <script>
(CVE-2026-22033), and htmx attributes smuggled into escaped-looking text.
"""

from __future__ import annotations

import json

from django.urls import NoReverseMatch, reverse

from annotations.models import Article, Assignment, Decision, Outlet, SchemaVersion
from annotations.services.imports import import_file
from tests.browser.conftest import csp_violations, login
from tests.security.world import build_world

IMG = '<img src=x onerror="window.__xss=1">'
SVG = "<svg onload=window.__xss=1>"
JS_LINK = '[read more](javascript:window.__xss=1) <a href="javascript:window.__xss=1">x</a>'
HTMX = '<div hx-get="/x" hx-trigger="load">htmx-load</div><b hx-on:click="window.__xss=1">hb</b>'
SCRIPT_END = "</script><script>window.__xss=1</script>"
LS = "line\u2028sep\u2029para"
BIDI = "\u202eevil.exe\u202c txt"
PAYLOADS = (IMG, SVG, JS_LINK, HTMX, SCRIPT_END, LS, BIDI)
ALL = " ".join(PAYLOADS)
SHORT = " ".join((IMG, SVG, SCRIPT_END, BIDI))  # for 300-character fields

# Elements or attributes that exist only if a payload was parsed as markup.
INJECTED = (
    "[onerror], [onload], [hx-on\\:click], [hx-get='/x'], svg[onload], img[src='x'],"
    " a[href^='javascript:' i]"
)
PAGES = (
    "home",
    "project-detail",
    "documents",
    "document",
    "article",
    "claims",
    "annotate",
    "review-queue",
    "review-item",
    "events",
    "registry",
    "members",
    "schema",
    "progress",
    "versions",
    "agreement",
)


def _plant(world) -> dict[str, int]:
    """Payloads in imported files and in every user-editable field; returns object ids."""
    project, admin = world.project, world.users["admin"]
    record = {
        "title": f"XSS title {IMG}",
        "outlet": f"Outlet {SVG}",
        "published": "2019-08-21",
        "language": "en",
        "text": f"The ministry said {IMG} was posted. Sources said {SCRIPT_END} too. "
        f"Officials reported {LS} and {BIDI}. Observers said {HTMX} and {JS_LINK}.",
    }
    files = {
        "xss.jsonl": (json.dumps(record, ensure_ascii=False) + "\n").encode(),
        "xss.txt": f"Plain text {SVG}\n\nThe army said {IMG} and {SCRIPT_END}.\n".encode(),
        "xss.html": (
            f"<html><head><title>H {SVG}</title><script>window.__xss=1</script></head><body>"
            f"<h1>Html {'&lt;svg onload=window.__xss=1&gt;'}</h1><p>The council said "
            f'<img src=x onerror="window.__xss=1"> &lt;img src=x onerror=&quot;x&quot;&gt; '
            f"{json.dumps(LS)[1:-1]} and the mayor denied it.</p>"
            f'<p hx-get="/x" hx-trigger="load">Residents reported shelling.</p></body></html>'
        ).encode(),
    }
    for name, data in files.items():
        summary = import_file(project=project, filename=name, data=data, user=admin)
        assert not summary.get("errors"), (name, summary)
    article = Article.objects.get(project=project, title=record["title"])

    project.name = f"Proj {IMG}"
    project.description = ALL
    project.save(update_fields=["name", "description"])
    SchemaVersion.objects.filter(project=project).update(guidelines=ALL, note=SVG)
    Outlet.objects.filter(project=project).update(name=f"Outlet {IMG}")
    Assignment.objects.filter(state="skipped").update(skip_reason=SHORT)
    item = world.objs["item"]
    Decision.objects.create(
        item=item,
        reviewer=world.users["reviewer"],
        action="decide",
        version=item.version + 1,
        before=None,
        after={"is_attributed": False, "verifiability": "opinion"},
        changed_fields=[],
        note=ALL,
    )
    b = world.users["ann_b"]
    b.username, b.first_name = SVG, IMG
    b.save(update_fields=["username", "first_name"])
    return {
        "document": article.document_id,
        "article": article.pk,
        "review-item": item.pk,
    }


def _url(name: str, slug: str, ids: dict[str, int]) -> str | None:
    if name == "home":
        return reverse("home")
    try:
        if name in ids:
            key = "item_id" if name == "review-item" else "pk"
            return reverse(name, kwargs={"slug": slug, key: ids[name]})
        return reverse(name, args=[slug])
    except NoReverseMatch:
        return None


def test_payloads_never_execute_and_show_as_text(page, live_server):
    world = build_world()
    ids = _plant(world)
    slug = world.project.slug
    urls = {n: u for n in PAGES if (u := _url(n, slug, ids))}
    assert len(urls) >= 12, sorted(urls)
    probes: list[str] = []
    page.on("request", lambda r: probes.append(r.url) if r.url.endswith("/x") else None)

    problems: list[str] = []
    seen_text: dict[str, str] = {}
    for role in ("admin", "ann_a"):
        page.context.clear_cookies()
        login(page, live_server, world.users[role])
        for name, url in urls.items():
            response = page.goto(live_server.url + url)
            page.wait_for_timeout(100)  # htmx "load" triggers and img errors fire
            where = f"{role} {name} ({response.status if response else '-'})"
            if response is not None and response.status >= 500:
                problems.append(f"{where}: server error")
            if page.evaluate("typeof window.__xss") != "undefined":
                problems.append(f"{where}: payload executed")
            injected = page.eval_on_selector_all(
                INJECTED, "els => els.map(e => e.outerHTML.slice(0, 80))"
            )
            if injected:
                problems.append(f"{where}: markup from a payload: {injected}")
            if role == "admin":
                seen_text[name] = page.inner_text("body")
            csp_violations(page)  # blocked payloads may be recorded; execution is what counts
    assert problems == []
    assert page.watch.dialogs == []
    assert probes == [], "an injected hx-get fired"
    # The payloads are shown, as text.
    assert IMG in seen_text["article"]
    assert f"Proj {IMG}" in seen_text["project-detail"]
    assert any(SVG in text for text in seen_text.values())
