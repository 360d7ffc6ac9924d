"""Annotate pages without JS: plain form posts, fragments, skip, undo/edit, suggestions, blind."""

from __future__ import annotations

import json
import re

import pytest

from annotations.models import Assignment, Label
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next
from tests.queue.helpers import ATTRIBUTED_LABELS, GOOD_LABELS, make_article, make_claims

pytestmark = pytest.mark.django_db


def lease_of(html: str) -> int:
    return int(re.search(r'data-lease="(\d+)"', html).group(1))


def form_post(values: dict, key: str = "k1") -> dict:
    data: dict = {"idempotency_key": key}
    for name, value in values.items():
        if isinstance(value, list) and name.endswith("_span"):
            data[name] = f"{value[0]},{value[1]}"
        elif isinstance(value, list):
            data[name] = [json.dumps(v) for v in value]
        else:
            data[name] = json.dumps(value)
    return data


def test_page_shows_claim_in_context_with_keys_and_no_inline_code(project, annotator, client_for):
    claims = make_article(project, ["One before.", "The claim itself.", "One after."])
    from annotations.services.items import items_create_for_claims

    items_create_for_claims(project=project, claims=claims)
    client = client_for(annotator)
    page = client.get(f"/p/{project.slug}/annotate/")
    html = page.content.decode()
    assert page.status_code == 200
    assert len(page.content) < 100_000
    assert 'class="claim-hl' in html and "The claim itself." in html  # context after
    assert "<kbd>F</kbd>" in html and "<kbd>Enter</kbd>" in html
    assert "style=" not in html and " onclick" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "https://" not in html.replace('href="https://', "")  # no external resource
    assert 'dir="auto"' in html
    # A reload shows the same lease, not a new one.
    again = client.get(f"/p/{project.slug}/annotate/")
    assert lease_of(again.content.decode()) == lease_of(html)
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_arabic_claim_is_rtl(project, annotator, client_for):
    from annotations.services.items import items_create_for_claims

    claims = make_article(project, ["قال المرصد إن القوات دخلت البلدة."], language="ar")
    items_create_for_claims(project=project, claims=claims)
    html = client_for(annotator).get(f"/p/{project.slug}/annotate/").content.decode()
    assert re.search(r'<mark class="claim-hl rtl" dir="rtl"', html)


def test_plain_form_post_submits_and_redirects(project, annotator, client_for):
    make_claims(project, 2)
    client = client_for(annotator)
    lease = lease_of(client.get(f"/p/{project.slug}/annotate/").content.decode())
    url = f"/p/{project.slug}/annotate/leases/{lease}/"
    values = {**ATTRIBUTED_LABELS, "source_span": [0, 5]}
    response = client.post(url, form_post(values))
    assert response.status_code == 302
    label = Label.objects.get(annotator=annotator)
    assert label.values == values
    # Replaying the same form (double click) stores nothing new.
    assert client.post(url, form_post(values)).status_code == 302
    assert Label.objects.count() == 1


def test_invalid_form_rerenders_with_errors(project, annotator, client_for):
    make_claims(project, 1)
    client = client_for(annotator)
    lease = lease_of(client.get(f"/p/{project.slug}/annotate/").content.decode())
    response = client.post(
        f"/p/{project.slug}/annotate/leases/{lease}/",
        {"idempotency_key": "x", "is_attributed": "true"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Label.objects.exists()
    bad = client.post(
        f"/p/{project.slug}/annotate/leases/{lease}/",
        {"idempotency_key": "y", "is_attributed": "{not json", "verifiability": '"opinion"'},
    )
    assert bad.status_code == 400


def test_fetch_submit_answers_204_and_next_fragment_is_another_item(project, annotator, client_for):
    make_claims(project, 3)
    client = client_for(annotator)
    first = lease_of(client.get(f"/p/{project.slug}/annotate/").content.decode())
    nxt = client.get(
        f"/p/{project.slug}/annotate/next/?kind=claim&exclude={first}",
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert nxt.status_code == 200 and "<html" not in nxt.content.decode()
    second = lease_of(nxt.content.decode())
    assert second != first
    done = client.post(
        f"/p/{project.slug}/annotate/leases/{first}/",
        form_post(GOOD_LABELS),
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert done.status_code == 204


def test_skip_form_and_undo_edit(project, annotator, client_for):
    make_claims(project, 3)
    client = client_for(annotator)
    lease = lease_of(client.get(f"/p/{project.slug}/annotate/").content.decode())
    skip_url = f"/p/{project.slug}/annotate/leases/{lease}/skip/"
    assert client.post(skip_url, {"reason": ""}).status_code == 302
    assert Assignment.objects.get(pk=lease).state == "leased"
    assert client.post(skip_url, {"reason": "unreadable"}).status_code == 302
    assert Assignment.objects.get(pk=lease).state == "skipped"
    # Undo with nothing submitted yet says so.
    assert client.post(f"/p/{project.slug}/annotate/undo/", {"kind": "claim"}).status_code == 302
    lease2 = lease_of(client.get(f"/p/{project.slug}/annotate/").content.decode())
    client.post(f"/p/{project.slug}/annotate/leases/{lease2}/", form_post(GOOD_LABELS))
    undo = client.post(f"/p/{project.slug}/annotate/undo/", {"kind": "claim"})
    label = Label.objects.get(annotator=annotator)
    assert undo["Location"] == f"/p/{project.slug}/annotate/labels/{label.pk}/"
    edit_page = client.get(undo["Location"]).content.decode()
    assert "Editing your earlier labels" in edit_page
    assert re.search(r'value="&quot;opinion&quot;" checked', edit_page)
    saved = client.post(
        undo["Location"], form_post({**GOOD_LABELS, "verifiability": "prediction"}, key="edit-1")
    )
    assert saved.status_code == 302
    label.refresh_from_db()
    assert label.values["verifiability"] == "prediction" and label.revisions.count() == 2


def test_suggestions_preselected_and_marked(project, annotator, client_for):
    (item,) = make_claims(project, 1)
    item.claim.suggestion = {"labels": GOOD_LABELS, "confidence": {}, "source": "rules"}
    item.claim.save()
    html = client_for(annotator).get(f"/p/{project.slug}/annotate/").content.decode()
    assert "choice suggested" in html and "Pre-filled suggestions" in html
    assert re.search(r'value="&quot;opinion&quot;" checked', html)


def test_page_blind_to_other_annotators(project, annotator, annotator_b, client_for):
    make_claims(project, 1)
    b = item_lease_next(project=project, user=annotator_b)
    label_submit(
        assignment=b,
        user=annotator_b,
        values={**ATTRIBUTED_LABELS, "source_type": "armed_group"},
        idempotency_key="b",
    )
    client = client_for(annotator)
    pages = [client.get(f"/p/{project.slug}/annotate/")]
    lease = lease_of(pages[0].content.decode())
    pages.append(
        client.get(f"/p/{project.slug}/annotate/next/?kind=claim", HTTP_X_REQUESTED_WITH="fetch")
    )
    for response in pages:
        html = response.content.decode()
        assert "bob_annotator" not in html
        assert "armed_group" not in html.split("<fieldset")[0]  # nothing pre-checked from B
        assert 'value="&quot;armed_group&quot;" checked' not in html
        assert "n_done" not in html and "n_leased" not in html
    client.post(f"/p/{project.slug}/annotate/leases/{lease}/", form_post(GOOD_LABELS))
    undo = client.post(f"/p/{project.slug}/annotate/undo/", {"kind": "claim"})
    edit = client.get(undo["Location"]).content.decode()
    assert 'value="&quot;armed_group&quot;" checked' not in edit


def test_roles_and_other_users_leases(project, annotator, annotator_b, reviewer, client_for):
    make_claims(project, 2)
    a = item_lease_next(project=project, user=annotator)
    assert client_for(reviewer).get(f"/p/{project.slug}/annotate/").status_code == 403
    client = client_for(annotator_b)
    assert (
        client.post(
            f"/p/{project.slug}/annotate/leases/{a.pk}/", form_post(GOOD_LABELS)
        ).status_code
        == 404
    )
    assert client.get(f"/p/{project.slug}/annotate/pairs/").status_code == 200
