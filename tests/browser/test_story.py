"""The whole story in Chromium: a site admin creates a project, adds members and imports the
sample page; two annotators label (one with the keyboard on the annotate page, the second
through the queue services for speed — the annotate page is covered above); a reviewer settles
a disagreement on the review page; the admin looks at progress and the registry, freezes a
dataset version (job progress) and downloads it. A screenshot of every page goes to
test-artifacts/story-NN-name.png.

Accessibility: every page of the story is checked again with axe-core (installed from npm by
package.json / package-lock.json at the repo root; `npm install` is run once if missing). The
Content-Security-Policy forbids inline scripts, and Playwright's add_script_tag injects axe as
one, so the accessibility pass runs in a separate browser context with bypass_csp=True; the
story itself runs with the policy enforced and asserts it was never violated. No serious or
critical violation is allowed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

from annotations.models import Item, Job, Label, Project
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next
from tests.browser.conftest import CANARY_SCRIPT, csp_violations, login, shot
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "seed" / "000_cff28bc277b8956d.txt"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Frozen version files live under MEDIA_ROOT by project slug and version number and outlive the
# test database: a fresh slug per run keeps runs from colliding.
SLUG = f"story-{uuid.uuid4().hex[:8]}"


def axe_path() -> Path:
    """axe-core from node_modules, installed from package-lock.json once if missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        need(npm is not None, "needs npm to install axe-core for the accessibility check")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=600
        )
    need(AXE.exists(), "axe-core could not be installed")
    return AXE


def _ok(page) -> None:
    assert csp_violations(page) == [], csp_violations(page)
    assert page.watch.errors == [] and page.watch.dialogs == []
    assert page.watch.external == []


def _switch(page, live_server, user) -> None:
    page.context.clear_cookies()
    login(page, live_server, user)


def _wait_for_next(page, previous: str) -> str:
    page.wait_for_function(
        "prev => { const el = document.querySelector('.annotate-item');"
        " return el && el.getAttribute('data-lease') !== prev; }",
        arg=previous,
        timeout=15_000,
    )
    return page.locator(".annotate-item").get_attribute("data-lease")


def run_axe(browser, live_server, visits: list[tuple[object, str]]) -> dict[str, list[str]]:
    """Open every (user, path) in a CSP-bypassing context, run axe, return the serious and
    critical violations per page."""
    script = axe_path()
    found: dict[str, list[str]] = {}
    checked = 0
    by_user: dict[object, list[str]] = {}
    for user, path in visits:
        by_user.setdefault(user, []).append(path)
    for user, paths in by_user.items():
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.add_init_script(CANARY_SCRIPT)
        login(page, live_server, user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.add_script_tag(path=str(script))
            result = page.evaluate(
                "() => axe.run(document, {resultTypes: ['violations']})"
                ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
                " help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
            )
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                for v in result
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[path] = bad
            checked += 1
        if not checked - len(paths):
            # Control: the same injection on a page with a known critical violation (an image
            # without alt text) must report it, so an empty result above means something.
            page.set_content('<html lang="en"><body><main><img src="x.png"></main></body></html>')
            page.add_script_tag(path=str(script))
            ids = page.evaluate("() => axe.run().then(r => r.violations.map(v => v.id))")
            assert "image-alt" in ids
        context.close()
    assert checked == len(visits)
    return found


def test_story_from_import_to_release(
    page, browser, live_server, site_admin, annotator, annotator_b, reviewer
):
    need(SAMPLE.exists(), f"needs the sample page {SAMPLE}")
    url = live_server.url
    visits: list[tuple[object, str]] = []

    def visit(user, path: str, name: str | None = None) -> None:
        page.goto(f"{url}{path}")
        visits.append((user, path))
        if name:
            shot(page, name)

    # 1. The site admin creates a project.
    login(page, live_server, site_admin)
    visits.append((site_admin, "/"))
    shot(page, "story-01-home")
    page.get_by_role("link", name="New project").click()
    visits.append((site_admin, "/projects/new/"))
    page.fill("#id_name", "Story: Khan Shaykhun")
    page.fill("#id_slug", SLUG)
    page.check("input[name=languages][value=en]")
    page.check("input[name=languages][value=ar]")
    page.fill("#id_overlap", "2")
    page.fill("#id_lease_seconds", "900")
    shot(page, "story-02-new-project")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(f"{url}/p/{SLUG}/")
    project = Project.objects.get(slug=SLUG)
    visits.append((site_admin, f"/p/{SLUG}/"))
    shot(page, "story-03-project")
    _ok(page)

    # 2. Members: two annotators and a reviewer (existing accounts).
    page.get_by_role("link", name="Members").click()
    for user, role in (
        (annotator, "annotator"),
        (annotator_b, "annotator"),
        (reviewer, "reviewer"),
    ):
        page.fill("#id_username", user.username)
        page.select_option("#id_role", role)
        page.get_by_role("button", name="Add member").click()
        page.wait_for_selector(".messages")
    assert project.memberships.count() == 4
    visits.append((site_admin, f"/p/{SLUG}/members/"))
    shot(page, "story-04-members")
    _ok(page)

    # 3. Import the sample page through the import page.
    visit(site_admin, f"/p/{SLUG}/import/")
    page.set_input_files("#id_file", str(SAMPLE))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_selector(".import-job")
    page.wait_for_function("() => !document.querySelector('.import-job progress')", timeout=120_000)
    n_items = Item.objects.filter(project=project, kind="claim").count()
    assert n_items > 50
    assert project.articles.count() == 23
    shot(page, "story-05-import")
    _ok(page)

    # 4a. Annotator A labels three claims with the keyboard (author's voice, checkable fact).
    _switch(page, live_server, annotator)
    visit(annotator, f"/p/{SLUG}/annotate/")
    lease = page.locator(".annotate-item").get_attribute("data-lease")
    shot(page, "story-06-annotate")
    for _ in range(3):
        for key in ("n", "f", "Enter"):
            page.keyboard.press(key)
        lease = _wait_for_next(page, lease)
    _ok(page)
    mine = list(Label.objects.filter(annotator=annotator, item__project=project))
    assert len(mine) == 3
    # 4b. Annotator B labels the same three items: one disagreement (opinion).
    for i in range(3):
        assignment = item_lease_next(project=project, user=annotator_b)
        assert assignment.item_id in {label.item_id for label in mine}
        values = {
            "is_attributed": False,
            "verifiability": "opinion" if i == 0 else "checkable_fact",
        }
        label_submit(
            assignment=assignment, user=annotator_b, values=values, idempotency_key=f"b{i}"
        )
    disputed = Label.objects.get(
        annotator=annotator_b, item__project=project, values__verifiability="opinion"
    ).item
    disputed.refresh_from_db()
    assert disputed.status == Item.Status.REVIEW

    # 5. The reviewer settles the disagreement on the review page, by keyboard.
    _switch(page, live_server, reviewer)
    visit(reviewer, f"/p/{SLUG}/review/", "story-07-review-queue")
    page.get_by_role("link", name=f"#{disputed.pk}").click()
    page.wait_for_selector("table.labels-side")
    visits.append((reviewer, f"/p/{SLUG}/review/{disputed.pk}/"))
    page.locator("h1").click()
    page.keyboard.press("KeyF")  # checkable fact
    page.focus("#review-note")
    page.keyboard.type("A reported event: checkable.")
    shot(page, "story-08-review-item")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    disputed.refresh_from_db()
    assert disputed.status == Item.Status.SETTLED
    assert disputed.gold["verifiability"] == "checkable_fact"
    _ok(page)

    # 6. The admin checks progress and the registry, then freezes and downloads a version.
    _switch(page, live_server, site_admin)
    visit(site_admin, f"/p/{SLUG}/progress/", "story-09-progress")
    assert "Annotators" in page.content()
    assert page.locator("svg.daychart rect.daybar").count() == 30
    visit(site_admin, f"/p/{SLUG}/registry/", "story-10-registry")
    assert page.locator("table.registry tbody tr").count() >= 1
    visit(site_admin, f"/p/{SLUG}/settings/", "story-11-settings")
    visit(site_admin, f"/p/{SLUG}/schema/", "story-12-schema")
    visit(site_admin, f"/p/{SLUG}/versions/")
    page.fill("#id_note", "First release")
    page.get_by_role("button", name="Freeze version").click()
    page.wait_for_load_state()
    shot(page, "story-13-freezing")
    for _ in range(60):
        if page.locator("a[download]").count() or page.locator(".badge.bad").count():
            break
        page.wait_for_timeout(1000)
        page.goto(f"{url}/p/{SLUG}/versions/")
    shot(page, "story-14-versions")
    links = page.locator("a[download]")
    failed = [
        f"{job.kind}: {job.error}" for job in Job.objects.filter(project=project, state="failed")
    ]
    assert links.count() >= 1, failed
    jsonl = page.locator("a[download]", has_text="claims.jsonl")
    target = jsonl.first if jsonl.count() else links.first
    with page.expect_download() as info:
        target.click()
    downloaded = Path(info.value.path()).read_bytes()
    assert downloaded
    if jsonl.count():
        records = [json.loads(line) for line in downloaded.decode().splitlines() if line]
        assert any(str(disputed.claim_id) in json.dumps(r) for r in records)
    _ok(page)

    # 7. Accessibility: no serious or critical axe violation on any page of the story.
    found = run_axe(browser, live_server, visits)
    assert found == {}, json.dumps(found, indent=2, ensure_ascii=False)
