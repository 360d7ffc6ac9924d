"""Review and agreement pages and APIs: ordering, adjudication over HTTP (409 on conflict),
the trail, gold items hidden from annotators, the stored agreement report, permissions."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotations.models import AgreementReport, Item
from annotations.services.adjudication import item_decide
from annotations.services.agreement_jobs import aggregates_store
from annotations.services.gold import gold_item_set
from tests.review.helpers import (
    FACT,
    OPINION,
    PREDICTION,
    add_label,
    annotators,
    labelled_item,
    make_item,
    make_pair_item,
)

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


# --- ordering ---------------------------------------------------------------------------------


def test_aggregates_order_the_queue_majority_vs_ds_conflicts_first(project, reviewer):
    """Three annotators: a and b agree on most items, c is a contrarian. On the item where c
    and a third annotator outvote a reliable pair, DS sides with the reliable ones."""
    anns = annotators(project, 4)
    a, b, c, d = anns
    items = []
    # 12 items where a and b agree, and c disagrees (c is unreliable); d agrees with c on some.
    for i in range(12):
        truth = FACT if i % 2 else OPINION
        wrong = OPINION if i % 2 else FACT
        items.append(labelled_item(project, [a, b, c], [truth, truth, wrong]))
    # Unanimous items: certain.
    calm = [labelled_item(project, [a, b, c], [FACT, FACT, FACT]) for _ in range(3)]
    # a alone against c and d: the majority says c/d, DS trusts a (and b's track record).
    contested = labelled_item(project, [a, c, d], [PREDICTION, OPINION, OPINION])
    aggregates_store(project=project, kind="claim")
    for item in [*items, *calm, contested]:
        item.refresh_from_db()
    agg = contested.aggregate["verifiability"]
    assert set(agg) >= {"majority", "share", "ds", "ds_posterior", "mace", "mace_posterior"}
    assert all(0 <= it.uncertainty <= 2 for it in items)

    from annotations.services.adjudication import review_queryset

    ordered = list(review_queryset(project).values_list("pk", "uncertainty", "aggregate"))
    # uncertainty never increases along the queue
    assert [u for _, u, _ in ordered] == sorted((u for _, u, _ in ordered), reverse=True)

    # items where DS is not among the most-voted labels come before all others
    def conflict(aggregate):
        return any(
            isinstance(v, dict)
            and v.get("ds") is not None
            and v["votes"].get(str(v["ds"]), 0) < max(v["votes"].values())
            for v in (aggregate or {}).values()
        )

    flags = [conflict(aggr) for _, _, aggr in ordered]
    assert flags == sorted(flags, reverse=True)
    # the contested item (majority opinion, DS not among the voted labels) comes first
    assert flags[0] and ordered[0][0] == contested.pk


def test_review_queue_api_lists_most_uncertain_first(project, reviewer, client_for):
    a, b = annotators(project, 2)
    low = labelled_item(project, [a, b], [FACT, FACT])
    high = labelled_item(project, [a, b], [FACT, OPINION])
    Item.objects.filter(pk=low.pk).update(uncertainty=0.1)
    Item.objects.filter(pk=high.pk).update(uncertainty=0.9)
    client = client_for(reviewer)
    response = client.get(f"/api/v1/projects/{project.slug}/review-queue/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [high.pk, low.pk]
    assert [lab["annotator"] for lab in results[0]["labels"]] == ["Annotator 1", "Annotator 2"]
    assert results[0]["claim"]["article"]["outlet"] == "Daily Wire"
    named = client.get(f"/api/v1/projects/{project.slug}/review-queue/?names=1").json()
    assert {lab["annotator"] for lab in named["results"][0]["labels"]} == {"ann0", "ann1"}
    assert client.get(f"/api/v1/projects/{project.slug}/review-queue/?bogus=1").status_code == 400
    assert client.get(f"/api/v1/projects/{project.slug}/review-queue/?kind=x").status_code == 400


def test_review_queue_page_lists_items_with_filters(project, reviewer, client_for):
    a, b = annotators(project, 2)
    en = labelled_item(project, [a, b], [FACT, OPINION])
    ar = labelled_item(project, [a, b], [FACT, OPINION], language="ar")
    client = client_for(reviewer)
    url = reverse("review-queue", args=[project.slug])
    page = client.get(url).content.decode()
    assert f"#{en.pk}" in page and f"#{ar.pk}" in page
    filtered = client.get(url, {"language": "ar"}).content.decode()
    assert f"#{ar.pk}" in filtered and f"#{en.pk}<" not in filtered
    assert 'style="' not in page and "<script>" not in page


# --- adjudication over HTTP -------------------------------------------------------------------


def test_claim_adjudication_api_and_conflict(project, reviewer, admin, client_for):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    url = f"/api/v1/claims/{item.claim_id}/adjudication/"
    client = client_for(reviewer)
    first = _post(client, url, {"labels": FACT, "note": "", "version": 0})
    assert first.status_code == 201, first.content
    assert first.json()["after"] == FACT and first.json()["reviewer"] == reviewer.username
    second = _post(client_for(admin), url, {"labels": OPINION, "note": "", "version": 0})
    assert second.status_code == 409
    body = second.json()
    assert body["version"] == 1 and body["gold"] == FACT
    assert body["decision"]["reviewer"] == reviewer.username
    bad = _post(client, url, {"labels": {"is_attributed": 3}, "note": "", "version": 1})
    assert bad.status_code == 400 and "is_attributed" in bad.json()
    assert _post(client, url, {"labels": FACT}).status_code == 400
    trail = client.get(f"/api/v1/items/{item.pk}/decisions/").json()
    assert trail["gold"] == trail["decisions"][-1]["after"] == FACT
    assert len(trail["decisions"]) == 1


def test_note_required_on_override_over_http(project, reviewer, client_for):
    anns = annotators(project, 3)
    item = labelled_item(project, anns, [FACT, FACT, OPINION])
    url = f"/api/v1/claims/{item.claim_id}/adjudication/"
    response = _post(client_for(reviewer), url, {"labels": OPINION, "version": 0})
    assert response.status_code == 400 and "note" in response.json()


def test_pair_adjudication(project, reviewer, client_for):
    a, b = annotators(project, 2)
    item = make_pair_item(project)
    add_label(item, a, {"same_event": "same", "relation": "agree"})
    add_label(item, b, {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]})
    from annotations.services.adjudication import item_complete

    item_complete(item=item)
    url = f"/api/v1/pairs/{item.pair_id}/adjudication/"
    labels = {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]}
    response = _post(client_for(reviewer), url, {"labels": labels, "note": "dates", "version": 0})
    assert response.status_code == 201, response.content
    item.refresh_from_db()
    assert item.gold == labels and item.status == "settled"
    page = client_for(reviewer).get(reverse("review-item", args=[project.slug, item.pk]))
    html = page.content.decode()
    assert "قال الجيش" in html and "The army said" in html and 'class="context rtl"' in html


def test_review_page_decides_by_form_and_shows_conflict(project, reviewer, admin, client_for):
    anns = annotators(project, 3)
    item = labelled_item(project, anns, [FACT, FACT, OPINION])
    other = labelled_item(project, anns[:2], [FACT, OPINION])
    url = reverse("review-item", args=[project.slug, item.pk])
    client = client_for(reviewer)
    html = client.get(url).content.decode()
    assert "Annotator 1" in html and "Annotator 3" in html and "ann0" not in html
    assert "ann0" in client.get(url, {"names": "1"}).content.decode()
    # majority is pre-filled: checkable_fact checked
    assert 'value="checkable_fact" data-key="KeyF" checked' in html
    form = {"version": "0", "is_attributed": "false", "verifiability": "opinion", "note": ""}
    refused = client.post(url, form)
    assert refused.status_code == 400 and "note" in refused.content.decode().lower()
    done = client.post(url, {**form, "note": "Evaluative predicate"})
    assert done.status_code == 302
    assert done["Location"] == reverse("review-item", args=[project.slug, other.pk])
    item.refresh_from_db()
    assert item.gold == OPINION and item.decisions.get().note == "Evaluative predicate"
    late = client_for(admin).post(url, {**form, "note": "late"})
    assert late.status_code == 409
    text = late.content.decode()
    assert "Someone else decided this item first" in text and reviewer.username in text


def test_reopen_from_page(project, reviewer, client_for):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)
    client = client_for(reviewer)
    url = reverse("review-reopen", args=[project.slug, item.pk])
    client.post(url, {"version": "1", "note": "Recheck the cue"})
    item.refresh_from_db()
    assert item.status == "review" and item.gold is None and item.version == 2


# --- gold items -------------------------------------------------------------------------------


def test_gold_items_api_and_accuracy(project, admin, reviewer, client_for):
    a, b = annotators(project, 2)
    gold = make_item(project)
    plain = labelled_item(project, [a, b], [FACT, OPINION])
    client = client_for(admin)
    response = _post(
        client, f"/api/v1/projects/{project.slug}/gold-items/", {"item": gold.pk, "expected": FACT}
    )
    assert response.status_code == 200 and response.json()["expected"] == FACT
    assert (
        _post(
            client,
            f"/api/v1/projects/{project.slug}/gold-items/",
            {"item": gold.pk, "expected": {}},
        ).status_code
        == 400
    )
    listed = client.get(f"/api/v1/projects/{project.slug}/gold-items/").json()["results"]
    assert [g["item"] for g in listed] == [gold.pk]
    # reviewers may list but not set
    assert (
        client_for(reviewer).get(f"/api/v1/projects/{project.slug}/gold-items/").status_code == 200
    )
    assert (
        _post(
            client_for(reviewer),
            f"/api/v1/projects/{project.slug}/gold-items/",
            {"item": plain.pk, "expected": FACT},
        ).status_code
        == 403
    )
    add_label(gold, a, FACT)
    add_label(gold, b, OPINION)
    response = client_for(reviewer).get(f"/api/v1/projects/{project.slug}/agreement/")
    assert response.status_code == 200
    by_name = {row["name"]: row for row in response.json()["annotators"]}
    assert by_name["ann0"]["gold_accuracy"] == 1.0
    # ann1 got is_attributed right, verifiability and claim_types wrong
    assert by_name["ann1"]["gold_accuracy"] == pytest.approx(1 / 3)


def test_gold_is_never_revealed_to_annotators(project, admin, annotator, client_for):
    item = make_item(project)
    gold_item_set(item=item, expected=FACT, user=admin)
    client = client_for(annotator)
    response = client.post(
        f"/api/v1/projects/{project.slug}/leases/", data="{}", content_type="application/json"
    )
    if response.status_code == 404:
        pytest.skip("the lease API is not installed")
    assert response.status_code == 201, response.content
    text = response.content.decode()
    assert "gold" not in text.lower()
    assert client.get(f"/api/v1/projects/{project.slug}/gold-items/").status_code == 403


def test_gold_item_page_action(project, admin, reviewer, client_for):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    item_decide(item_id=item.pk, reviewer=reviewer, labels=FACT, note="", version=0)
    url = reverse("review-gold", args=[project.slug, item.pk])
    assert client_for(reviewer).post(url, {"action": "set"}).status_code == 403
    client_for(admin).post(url, {"action": "set"})
    item.refresh_from_db()
    assert item.is_gold and item.gold_expected == FACT


# --- agreement --------------------------------------------------------------------------------


def test_agreement_job_stores_a_report_and_the_api_returns_it(
    project, reviewer, client_for, django_capture_on_commit_callbacks
):
    anns = annotators(project, 3)
    for i in range(8):
        labelled_item(project, anns, [FACT, FACT if i % 3 else OPINION, FACT])
    client = client_for(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/projects/{project.slug}/agreement/")
    assert started.status_code == 202
    job_id = started.json()["job"]
    job = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert job["state"] == "done", job
    report = AgreementReport.objects.get(project=project, kind="claim")
    body = client.get(f"/api/v1/projects/{project.slug}/agreement/").json()
    assert set(body) >= {"fields", "kappa", "spans", "annotators"}
    ver = body["fields"]["verifiability"]
    assert set(ver) >= {"alpha", "ci", "items", "missing_rate"}
    assert ver["items"] == 8 and ver["alpha"] < 1
    assert body["fields"]["is_attributed"]["alpha"] in (1.0, None)
    assert report.result["fields"]["verifiability"]["alpha"] == ver["alpha"]
    assert {a["items"] for a in body["annotators"]} == {8}
    assert sum(d["labels"] for d in body["progress"]) == 24
    # the job also refreshed the review-queue aggregates
    assert Item.objects.filter(project=project, aggregate__verifiability__ds__isnull=False).exists()
    page = client.get(reverse("agreement", args=[project.slug]))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "verifiability" in html
    assert 'style="' not in html and "<script>" not in html
    assert client.get(f"/api/v1/projects/{project.slug}/agreement/?kind=bad").status_code == 400


def test_agreement_is_computed_on_the_spot_for_small_projects(project, reviewer, client_for):
    a, b = annotators(project, 2)
    labelled_item(project, [a, b], [FACT, OPINION])
    response = client_for(reviewer).get(f"/api/v1/projects/{project.slug}/agreement/?kind=pairs")
    assert response.status_code == 200 and response.json()["n_labels"] == 0
    response = client_for(reviewer).get(f"/api/v1/projects/{project.slug}/agreement/")
    assert response.status_code == 200 and response.json()["n_labels"] == 2
    assert AgreementReport.objects.filter(project=project).count() == 2


def test_recompute_button_starts_a_job_with_progress(project, reviewer, client_for):
    client = client_for(reviewer)
    response = client.post(reverse("agreement-recompute", args=[project.slug]), {"kind": "claims"})
    assert response.status_code == 302 and "job=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/p/{slug}/review/",
        "/p/{slug}/review/{item}/",
        "/p/{slug}/agreement/",
        "/api/v1/projects/{slug}/review-queue/",
        "/api/v1/projects/{slug}/agreement/",
        "/api/v1/projects/{slug}/gold-items/",
        "/api/v1/items/{item}/decisions/",
        "/api/v1/items/{item}/",
    ],
)
def test_annotators_get_403_and_outsiders_404(url, project, annotator, outsider, client_for):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    url = url.format(slug=project.slug, item=item.pk)
    assert client_for(annotator).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404


@pytest.mark.parametrize(
    "url,body",
    [
        ("/api/v1/claims/{claim}/adjudication/", {"labels": FACT, "version": 0}),
        ("/p/{slug}/review/{item}/", None),
        ("/p/{slug}/review/{item}/reopen/", None),
        ("/p/{slug}/agreement/recompute/", None),
    ],
)
def test_forbidden_writes_change_nothing(url, body, project, annotator, outsider, client_for):
    a, b = annotators(project, 2)
    item = labelled_item(project, [a, b], [FACT, OPINION])
    url = url.format(slug=project.slug, item=item.pk, claim=item.claim_id)
    for user, code in ((annotator, 403), (outsider, 404)):
        client = client_for(user)
        if body is None:
            response = client.post(url, {"version": "0", "verifiability": "opinion", "note": "x"})
        else:
            response = _post(client, url, body)
        assert response.status_code == code
    item.refresh_from_db()
    assert item.version == 0 and item.gold is None and not item.decisions.exists()
    assert not AgreementReport.objects.exists()
