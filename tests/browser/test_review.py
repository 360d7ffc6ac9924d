"""A reviewer opens the review queue, sees two annotators' labels side by side, and settles a
disagreement by keyboard with a note."""

from __future__ import annotations

from annotations.models import Item
from tests.browser.conftest import csp_violations, login, shot
from tests.review.helpers import FACT, OPINION, annotators, labelled_item


def test_reviewer_adjudicates_a_disagreement_by_keyboard(page, live_server, reviewer, project):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/p/{project.slug}/review/")
    page.get_by_role("link", name=f"#{item.pk}").click()
    page.wait_for_selector("table.labels-side")
    headers = page.locator("table.labels-side thead th").all_inner_texts()
    assert headers[1:3] == ["Annotator 1", "Annotator 2"]
    row = page.locator("table.labels-side tr.disagree", has_text="Verifiability")
    assert "Checkable fact" in row.inner_text() and "Opinion" in row.inner_text()
    # Fields gated on is_attributed = yes stay hidden: both annotators said author's voice.
    assert page.locator('fieldset[data-field="source_type"]').is_hidden()

    page.locator("h1").click()
    page.keyboard.press("KeyP")  # Opinion
    assert page.locator('input[name="verifiability"][value="opinion"]').is_checked()
    page.focus("#review-note")
    page.keyboard.type("Evaluative predicate in the main clause")
    shot(page, "review")
    page.keyboard.press("Tab")  # to the Settle button
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")

    item.refresh_from_db()
    assert item.status == Item.Status.SETTLED
    assert item.gold == {"is_attributed": False, "verifiability": "opinion"}
    decision = item.decisions.get()
    assert decision.reviewer == reviewer
    assert decision.note == "Evaluative predicate in the main clause"
    assert "Evaluative predicate" in page.locator("ol.trail").inner_text()
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == []


def test_agreement_dashboard_draws_its_charts(page, live_server, reviewer, project):
    anns = annotators(project, 3)
    for i in range(12):
        labelled_item(project, anns, [FACT, FACT if i % 3 else OPINION, FACT if i % 4 else OPINION])
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/p/{project.slug}/agreement/")
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("#alpha-h").is_visible()
    assert "verifiability" in page.locator("svg.chart").first.inner_html()
    shot(page, "agreement")
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == []
