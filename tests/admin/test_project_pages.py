"""Project lifecycle pages: create, settings (queue filter re-applied), archive, schema
versions, members. Permissions: admins only; outsiders 404, other roles 403."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from annotations.models import Item, Label, Membership, Project, SchemaVersion
from annotations.schema.validation import default_schema
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next
from tests.queue.helpers import GOOD_LABELS, make_annotator, make_claims

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["project-settings", "schema", "members", "progress", "registry"]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_refuse_other_roles_and_hide_from_outsiders(
    name, client_for, project, annotator, reviewer, outsider
):
    url = reverse(name, args=[project.slug])
    assert client_for(annotator).get(url).status_code == 403
    assert client_for(reviewer).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    before = project.overlap
    assert client_for(reviewer).post(url, {"overlap": 5}).status_code == 403
    project.refresh_from_db()
    assert project.overlap == before


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_project_page_links_every_admin_page(name, client_for, project, admin):
    body = client_for(admin).get(reverse("project-detail", args=[project.slug])).content.decode()
    assert reverse(name, args=[project.slug]) in body


def test_site_admin_creates_a_project_with_its_settings(client_for, site_admin):
    response = client_for(site_admin).post(
        reverse("project-create"),
        {
            "name": "Gaza wires",
            "slug": "gaza-wires",
            "languages": ["en", "ar"],
            "overlap": 3,
            "lease_seconds": 900,
            "queue_order": "random",
            "queue_filter": "likely",
            "likelihood_threshold": 0.7,
            "auto_settle": "on",
            "suggestions": "half",
        },
    )
    assert response.status_code == 302
    p = Project.objects.get(slug="gaza-wires")
    assert (p.overlap, p.lease_seconds, p.queue_order, p.queue_filter) == (
        3,
        900,
        "random",
        "likely",
    )
    assert p.languages == ["en", "ar"] and p.auto_settle and p.suggestions == "half"
    assert p.likelihood_threshold == pytest.approx(0.7)
    assert Membership.objects.get(project=p, user=site_admin).role == "admin"
    assert p.schema_versions.count() == 1


def test_create_rejects_bad_values(client_for, site_admin):
    response = client_for(site_admin).post(
        reverse("project-create"),
        {"name": "x", "slug": "Bad Slug", "overlap": 0, "lease_seconds": 5},
    )
    assert response.status_code == 200
    assert not Project.objects.filter(name="x").exists()
    form = response.context["form"]
    assert {"slug", "overlap", "lease_seconds"} <= set(form.errors)


def _settings(project, **changes):
    data = {
        "name": project.name,
        "description": project.description,
        "languages": project.languages,
        "overlap": project.overlap,
        "lease_seconds": project.lease_seconds,
        "queue_order": project.queue_order,
        "queue_filter": project.queue_filter,
        "likelihood_threshold": project.likelihood_threshold,
        "suggestions": project.suggestions,
    }
    if project.auto_settle:
        data["auto_settle"] = "on"
    data.update(changes)
    return data


def test_settings_change_of_queue_filter_requeues_untouched_items(client_for, project, admin):
    items = make_claims(project, 6)
    for i, item in enumerate(items):
        item.claim.claim_likelihood = 0.9 if i % 2 else 0.1
        item.claim.save(update_fields=["claim_likelihood"])
    started = items[0]  # low likelihood but already leased: keeps its state
    item_lease_next(project=project, user=make_annotator("x1", project))
    started.refresh_from_db()
    assert started.n_leased == 1
    response = client_for(admin).post(
        reverse("project-settings", args=[project.slug]),
        _settings(project, queue_filter="likely", likelihood_threshold=0.5, lease_seconds=1200),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.queue_filter == "likely" and project.lease_seconds == 1200
    statuses = dict(Item.objects.filter(project=project).values_list("claim_id", "status"))
    for i, item in enumerate(items):
        if item.pk == started.pk:
            assert statuses[item.claim_id] != "excluded"
        else:
            assert statuses[item.claim_id] == ("open" if i % 2 else "excluded")
    # Back to all claims: every untouched item is queued again.
    client_for(admin).post(
        reverse("project-settings", args=[project.slug]), _settings(project, queue_filter="all")
    )
    assert not Item.objects.filter(project=project, status="excluded").exists()


def test_settings_overlap_change_raises_k_of_open_items(client_for, project, admin):
    make_claims(project, 3)
    client_for(admin).post(
        reverse("project-settings", args=[project.slug]), _settings(project, overlap=3)
    )
    assert set(Item.objects.filter(project=project).values_list("k", flat=True)) == {3}


def test_archive_hides_from_home_and_unarchive_restores(client_for, project, admin):
    client = client_for(admin)
    home = client.get("/").content.decode()
    assert reverse("project-detail", args=[project.slug]) in home
    assert client.post(reverse("project-archive", args=[project.slug]), {"archived": "1"})
    project.refresh_from_db()
    assert project.is_archived
    home = client.get("/").content.decode()
    assert reverse("project-detail", args=[project.slug]) not in home
    archived = client.get(reverse("projects-archived")).content.decode()
    assert reverse("project-detail", args=[project.slug]) in archived
    client.post(reverse("project-archive", args=[project.slug]), {"archived": "0"})
    project.refresh_from_db()
    assert not project.is_archived


def test_archived_list_shows_only_projects_the_user_administers(
    client_for, project, other_project, reviewer, outsider
):
    project.archived_at = other_project.archived_at = "2024-01-01T00:00:00Z"
    project.save()
    other_project.save()
    page = client_for(reviewer).get(reverse("projects-archived")).content.decode()
    assert project.name not in page
    page = client_for(outsider).get(reverse("projects-archived")).content.decode()
    assert other_project.name in page and f"/p/{project.slug}/" not in page


def test_schema_new_version_keeps_old_labels_on_their_version(client_for, project, admin):
    annotator = make_annotator("sv1", project)
    make_claims(project, 2)
    lease = item_lease_next(project=project, user=annotator)
    label, _ = label_submit(
        assignment=lease, user=annotator, values=GOOD_LABELS, idempotency_key="k1"
    )
    v1 = label.schema_version
    schema = default_schema()
    schema["claim"]["fields"][0]["label"] = "Attributed to a source?"
    response = client_for(admin).post(
        reverse("schema", args=[project.slug]),
        {"schema": json.dumps(schema), "guidelines": "# New rules", "note": "Clearer label"},
    )
    assert response.status_code == 302
    latest = SchemaVersion.objects.filter(project=project).order_by("-version").first()
    assert latest.version == v1.version + 1
    assert latest.guidelines == "# New rules" and latest.note == "Clearer label"
    assert latest.created_by == admin
    assert Label.objects.get(pk=label.pk).schema_version_id == v1.pk
    page = client_for(admin).get(reverse("schema", args=[project.slug])).content.decode()
    assert "Clearer label" in page and "Default schema" in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Not valid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"claim": {"fields": [{"name": "x", "type": "nope"}]}}), "type must be"),
    ],
)
def test_schema_errors_are_clear_and_nothing_is_saved(client_for, project, admin, text, message):
    response = client_for(admin).post(
        reverse("schema", args=[project.slug]), {"schema": text, "guidelines": "g"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert project.schema_versions.count() == 1


def test_members_add_existing_change_role_remove(client_for, project, admin):
    other = get_user_model().objects.create_user("zed", password=None)
    client = client_for(admin)
    url = reverse("members", args=[project.slug])
    assert client.post(url, {"username": "zed", "role": "reviewer"}).status_code == 302
    assert Membership.objects.get(project=project, user=other).role == "reviewer"
    client.post(reverse("member-role", args=[project.slug, other.pk]), {"role": "annotator"})
    assert Membership.objects.get(project=project, user=other).role == "annotator"
    client.post(reverse("member-remove", args=[project.slug, other.pk]))
    assert not Membership.objects.filter(project=project, user=other).exists()
    assert get_user_model().objects.filter(username="zed").exists()


def test_members_create_account_with_or_without_password(client_for, project, admin):
    client = client_for(admin)
    url = reverse("members", args=[project.slug])
    response = client.post(url, {"username": "newbie", "role": "annotator", "create": "on"})
    assert response.status_code == 302
    newbie = get_user_model().objects.get(username="newbie")
    assert not newbie.has_usable_password()
    page = client.get(url).content.decode()
    assert "--password-stdin" in page
    client.post(
        url,
        {"username": "withpw", "role": "reviewer", "create": "on", "password": "a long pass 9182"},
    )
    withpw = get_user_model().objects.get(username="withpw")
    assert withpw.check_password("a long pass 9182")
    assert Membership.objects.get(project=project, user=withpw).role == "reviewer"
    assert "a long pass 9182" not in client.get(url).content.decode()
    # A weak password is refused with the validator's message; no account is made.
    response = client.post(
        url, {"username": "weak", "role": "annotator", "create": "on", "password": "123"}
    )
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="weak").exists()


def test_members_never_change_an_existing_users_password(client_for, project, admin, outsider):
    old_hash = outsider.password
    response = client_for(admin).post(
        reverse("members", args=[project.slug]),
        {"username": outsider.username, "role": "annotator", "password": "takeover pass 77"},
    )
    assert response.status_code == 400
    outsider.refresh_from_db()
    assert outsider.password == old_hash
    assert not Membership.objects.filter(project=project, user=outsider).exists()


def test_members_unknown_user_without_create_is_an_error(client_for, project, admin):
    response = client_for(admin).post(
        reverse("members", args=[project.slug]), {"username": "ghost", "role": "annotator"}
    )
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_last_admin_cannot_be_removed_or_demoted(client_for, project, admin):
    client = client_for(admin)
    client.post(reverse("member-remove", args=[project.slug, admin.pk]))
    client.post(reverse("member-role", args=[project.slug, admin.pk]), {"role": "annotator"})
    assert Membership.objects.get(project=project, user=admin).role == "admin"


def test_member_actions_are_scoped_to_the_project(
    client_for, project, other_project, outsider, admin
):
    # An admin of `project` cannot remove a member of another project through this project.
    response = client_for(admin).post(reverse("member-remove", args=[project.slug, outsider.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(project=other_project, user=outsider).exists()


def test_members_list_searches_filters_and_paginates(
    client_for, project, admin, django_assert_max_num_queries
):
    for i in range(60):
        make_annotator(f"member{i:02d}", project)
    client = client_for(admin)
    url = reverse("members", args=[project.slug])
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.context["page"].paginator.count == 61
    assert len(page.context["page"].object_list) == 50
    assert "page=2" in page.content.decode()
    found = client.get(url, {"q": "member07"}).context["page"]
    assert [m.user.username for m in found.object_list] == ["member07"]
    admins = client.get(url, {"role": "admin"}).context["page"]
    assert [m.user.username for m in admins.object_list] == [admin.username]


def test_home_page_query_count_is_flat(client_for, admin, django_assert_max_num_queries):
    from annotations.services.accounts import membership_set
    from tests.factories import make_project

    for i in range(15):
        membership_set(project=make_project(f"p{i}"), user=admin, role="annotator")
    client = client_for(admin)
    with django_assert_max_num_queries(6):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count("/p/") >= 16
