"""An annotator labels five claims (one Arabic) with the keyboard only, in Chromium."""

from __future__ import annotations

from annotations.models import Label
from annotations.services.items import items_create_for_claims
from tests.browser.conftest import csp_violations, login, shot
from tests.queue.helpers import make_article


def _wait_for_next(page, previous: str) -> str:
    page.wait_for_function(
        "prev => { const el = document.querySelector('.annotate-item');"
        " return el && el.getAttribute('data-lease') !== prev; }",
        arg=previous,
        timeout=10_000,
    )
    return page.locator(".annotate-item").get_attribute("data-lease")


def test_five_claims_by_keyboard_including_arabic(page, live_server, annotator, project):
    en = make_article(
        project,
        [
            "Troops entered the town on Wednesday.",
            "The Russian side said two soldiers were killed.",
            "Officials announced a ceasefire in the north.",
            "It is a dangerous game that Ankara is playing.",
        ],
    )
    ar = make_article(
        project,
        ["قال المرصد السوري إن القوات الحكومية دخلت بلدة خان شيخون."],
        language="ar",
        title="دخول خان شيخون",
        outlet="عنب بلدي",
    )
    items_create_for_claims(project=project, claims=en + ar)
    login(page, live_server, annotator)
    page.goto(f"{live_server.url}/p/{project.slug}/annotate/")
    lease = page.locator(".annotate-item").get_attribute("data-lease")
    keys = page.keyboard

    # 1: author's voice, checkable fact: N F Enter (3 keystrokes).
    assert "Troops entered" in page.locator("mark.claim-hl").inner_text()
    for key in ("n", "f", "Enter"):
        keys.press(key)
    lease = _wait_for_next(page, lease)

    # 2: attributed, official (foreign) via 2, checkable fact, source span by caret:
    # → selects the first word, Shift+→ extends to "Russian", Q sets the source span.
    assert page.locator("fieldset[data-field=source_span]").is_hidden()
    keys.press("a")
    assert page.locator("fieldset[data-field=source_span]").is_visible()
    keys.press("ArrowRight")
    keys.press("Shift+ArrowRight")
    keys.press("q")
    assert page.locator("#f-source_span").input_value() == "0,11"
    for key in ("2", "f", "Enter"):
        keys.press(key)
    lease = _wait_for_next(page, lease)

    # 3: opinion; 4: prediction with a skip opened and closed by Escape on the way.
    keys.press("n")
    keys.press("p")
    keys.press("Enter")
    lease = _wait_for_next(page, lease)
    keys.press("s")
    assert page.locator("#skip-reason").is_visible()
    keys.press("Escape")
    assert page.locator("#skip-form").is_hidden()
    for key in ("n", "r", "Enter"):
        keys.press(key)
    lease = _wait_for_next(page, lease)

    # 5: the Arabic claim, right to left.
    mark = page.locator("mark.claim-hl")
    assert "خان شيخون" in mark.inner_text()
    assert mark.get_attribute("dir") == "rtl" and "rtl" in mark.get_attribute("class")
    shot(page, "annotate-arabic")
    for key in ("a", "1", "f", "v", "Enter"):
        keys.press(key)
    _wait_for_next(page, lease)
    page.wait_for_selector(".empty-queue")
    assert page.locator("#progress-text").inner_text().startswith("5 of 5")

    stored = {
        label.item.claim.text: label.values
        for label in Label.objects.filter(annotator=annotator).select_related("item__claim")
    }
    assert stored == {
        en[0].text: {"is_attributed": False, "verifiability": "checkable_fact"},
        en[1].text: {
            "is_attributed": True,
            "source_span": [0, 11],
            "source_type": "official_foreign",
            "verifiability": "checkable_fact",
        },
        en[2].text: {"is_attributed": False, "verifiability": "opinion"},
        en[3].text: {"is_attributed": False, "verifiability": "prediction"},
        ar[0].text: {
            "is_attributed": True,
            "source_type": "official_domestic",
            "verifiability": "checkable_fact",
            "claim_types": ["event"],
        },
    }
    assert all(label.seconds is not None for label in Label.objects.all())
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == [] and page.watch.dialogs == []

    # Z reopens the last submission for editing; Enter saves it.
    keys.press("z")
    page.wait_for_selector(".editing-note")
    assert "خان شيخون" in page.locator("mark.claim-hl").inner_text()
    keys.press("j")  # can't judge
    keys.press("Enter")
    page.wait_for_selector(".empty-queue")
    label = Label.objects.get(annotator=annotator, item__claim=ar[0])
    assert label.values["verifiability"] == "cannot_judge"
    assert label.revisions.count() == 2
    assert Label.objects.filter(annotator=annotator).count() == 5
