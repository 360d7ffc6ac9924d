"""Keystrokes per claim on the annotate page, with suggestions pre-filled and without (P8:
common case ≤ 4 keystrokes).

The annotator's intended labels are the hand-labelled gold of the suggestion module's held-out
half (tests/data/suggest/attribution_gold.jsonl, split "test"): is_attributed, the source type
when attributed (when it has a key), and verifiability. For every claim the simulated annotator
presses the key of each intended value that is not already selected, then Enter — so with
suggestions a correct pre-fill costs one keystroke. The same claims are labelled in two
projects, suggestions on and off; the figures are printed and the stored labels checked."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from annotations.models import Label, Project
from annotations.services.accounts import membership_set
from annotations.services.items import items_create_for_claims
from annotations.suggest import suggest_labels
from tests.browser.conftest import csp_violations, login
from tests.queue.helpers import make_article

GOLD = Path(__file__).resolve().parents[1] / "data" / "suggest" / "attribution_gold.jsonl"
N_EN, N_AR = 16, 4
KEYED_SOURCE_TYPES = {
    "official_domestic", "official_foreign", "state_media", "armed_group", "intl_org",
    "monitor_ngo", "other_media", "expert", "witness_local", "unnamed_vague",
}  # fmt: skip


def held_out_units() -> list[dict]:
    records = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line]
    test = [r for r in records if r["split"] == "test"]
    en = [r for r in test if r["language"] == "en"][:N_EN]
    ar = [r for r in test if r["language"] == "ar"][:N_AR]
    return en + ar


def intended(unit: dict) -> dict:
    target = {"is_attributed": unit["is_attributed"]}
    if unit["is_attributed"] and unit["source_type"] in KEYED_SOURCE_TYPES:
        target["source_type"] = unit["source_type"]
    target["verifiability"] = unit["verifiability"]
    return target


def load(project: Project, units: list[dict]) -> dict[str, dict]:
    claims = []
    for unit in units:
        (claim,) = make_article(project, [unit["text"]], language=unit["language"])
        claim.suggestion = suggest_labels(claim.text, claim.language).to_dict()
        claim.save(update_fields=["suggestion"])
        claims.append(claim)
    items_create_for_claims(project=project, claims=claims)
    return {c.text: intended(u) for c, u in zip(claims, units, strict=True)}


def form_value(value) -> str:
    """How the annotate form encodes a choice (JSON)."""
    return json.dumps(value, ensure_ascii=False)


def label_all(page, live_server, project: Project, targets: dict[str, dict]) -> list[int]:
    page.goto(f"{live_server.url}/p/{project.slug}/annotate/")
    counts = []
    while True:
        item = page.locator(".annotate-item")
        if "empty-queue" in (item.get_attribute("class") or ""):
            break
        lease = item.get_attribute("data-lease")
        text = page.locator("mark.claim-hl").inner_text()
        target = targets[text.strip()]
        presses = 0
        for field, value in target.items():
            box = page.locator(f"fieldset[data-field='{field}'] input[value='{form_value(value)}']")
            if box.is_checked():
                continue
            key = page.locator(
                f'fieldset[data-field="{field}"] label[for="{box.get_attribute("id")}"]'
            )
            code = key.get_attribute("data-key")
            assert code, f"no key for {field}={value}"
            page.keyboard.press(code)
            presses += 1
            assert box.is_checked()
        page.keyboard.press("Enter")
        counts.append(presses + 1)
        page.wait_for_function(
            "prev => { const el = document.querySelector('.annotate-item');"
            " return el && el.getAttribute('data-lease') !== prev; }",
            arg=lease,
            timeout=15_000,
        )
    return counts


def test_keystrokes_with_and_without_suggestions(
    page, live_server, annotator, project, other_project
):
    units = held_out_units()
    assert len(units) == N_EN + N_AR
    Project.objects.filter(pk=project.pk).update(suggestions="on")
    Project.objects.filter(pk=other_project.pk).update(suggestions="off")
    membership_set(project=other_project, user=annotator, role="annotator")
    on_targets = load(project, units)
    off_targets = load(other_project, units)

    login(page, live_server, annotator)
    with_s = label_all(page, live_server, project, on_targets)
    without = label_all(page, live_server, other_project, off_targets)

    rows = [("suggestions on", with_s), ("suggestions off", without)]
    print(f"\nkeystrokes per claim, {len(units)} held-out units ({N_EN} en, {N_AR} ar)")
    print(
        f"{'arm':<16} {'claims':>6} {'total':>6} {'mean':>5} {'median':>6} {'max':>4} {'1 key':>6}"
    )
    for name, counts in rows:
        print(
            f"{name:<16} {len(counts):>6} {sum(counts):>6} {statistics.mean(counts):>5.2f} "
            f"{statistics.median(counts):>6} {max(counts):>4} {counts.count(1):>6}"
        )
    assert len(with_s) == len(without) == len(units)
    # The common case with suggestions (the median claim) takes at most 4 keystrokes.
    assert statistics.median(with_s) <= 4
    assert statistics.mode(with_s) <= 4
    assert sum(with_s) < sum(without)

    for proj, targets in ((project, on_targets), (other_project, off_targets)):
        labels = Label.objects.filter(item__project=proj, annotator=annotator).select_related(
            "item__claim"
        )
        assert labels.count() == len(units)
        for label in labels:
            target = targets[label.item.claim.text]
            assert {k: label.values.get(k) for k in target} == target
            assert label.suggested == (proj == project)
    assert Label.objects.filter(item__project=project, accepted=True).count() == with_s.count(1)
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == []


def test_model_page_in_chromium(page, live_server, reviewer, project):
    """The learning-curve page (server-side SVG) under the enforcing CSP: no violations."""
    from annotations.services.suggestions import model_train
    from tests.browser.conftest import shot
    from tests.suggestions.helpers import adjudicated

    adjudicated(project, per_class=17)
    model_train(project=project)
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/p/{project.slug}/model/")
    assert page.locator("svg.lc-chart").count() == 2
    shot(page, "suggestion-model")
    assert page.locator("svg.lc-chart circle.uncertain").count() >= 1
    assert page.locator("svg.lc-chart circle.curve").count() >= 2
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == []
