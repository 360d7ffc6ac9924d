"""How the features meet: archive stops the queue, the k-th label hands over to adjudication,
and the suggestion model page is reachable from the project page."""

from __future__ import annotations

from annotations.models import Item
from annotations.services.labels import label_submit
from annotations.services.projects import project_archive, project_update
from annotations.services.queue import item_lease_next
from tests.queue.helpers import make_claims

LABELS = {"is_attributed": False, "verifiability": "checkable_fact", "commitment": "asserts"}


def test_archived_project_leases_nothing(client_for, project, annotator):
    make_claims(project, 2)
    project_archive(project=project)
    response = client_for(annotator).post(
        f"/api/v1/projects/{project.slug}/leases/", {}, content_type="application/json"
    )
    assert response.status_code == 204
    project_archive(project=project, archived=False)
    assert item_lease_next(project=project, user=annotator) is not None


def _label_both(project, annotator, annotator_b, second):
    items = []
    for user, values in ((annotator, LABELS), (annotator_b, second)):
        lease = item_lease_next(project=project, user=user)
        label_submit(assignment=lease, user=user, values=values, idempotency_key=f"k-{user.pk}")
        items.append(lease.item_id)
    assert items[0] == items[1]
    return Item.objects.get(pk=items[0])


def test_kth_label_goes_to_review_when_annotators_disagree(project, annotator, annotator_b):
    make_claims(project, 1)
    item = _label_both(project, annotator, annotator_b, {**LABELS, "verifiability": "opinion"})
    assert item.status == "review" and item.gold is None


def test_kth_label_auto_settles_when_allowed_and_unanimous(project, annotator, annotator_b):
    project_update(project=project, auto_settle=True)
    make_claims(project, 1)
    item = _label_both(project, annotator, annotator_b, dict(LABELS))
    assert item.status == "settled"
    assert item.gold["verifiability"] == "checkable_fact"
    assert item.decisions.get().action == "auto_settle"


def test_project_page_links_every_reviewer_page(client_for, project, reviewer):
    page = client_for(reviewer).get(f"/p/{project.slug}/").content.decode()
    for path in ("/review/", "/agreement/", "/model/", "/versions/", "/events/", "/claims/"):
        assert f"/p/{project.slug}{path}" in page, path
