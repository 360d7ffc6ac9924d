"""Registry of outlets and named sources: admins edit; lists search, filter and paginate."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import NamedSource, Outlet

pytestmark = pytest.mark.django_db


def _outlets(project, n):
    return Outlet.objects.bulk_create(
        Outlet(project=project, key=f"outlet {i:03d}", name=f"Outlet {i:03d}") for i in range(n)
    )


def test_outlets_list_paginates_searches_filters(
    client_for, project, admin, django_assert_max_num_queries
):
    _outlets(project, 70)
    Outlet.objects.create(
        project=project,
        key="sana",
        name="SANA",
        kind="state_media",
        affiliation="Syrian government",
        reviewed=True,
    )
    client = client_for(admin)
    url = reverse("registry", args=[project.slug])
    with django_assert_max_num_queries(10):
        response = client.get(url)
    page = response.context["page"]
    assert page.paginator.count == 71 and len(page.object_list) == 50
    assert list(client.get(url, {"page": 2}).context["page"].object_list)[-1].name == "SANA"
    found = client.get(url, {"q": "syrian"}).context["page"].object_list
    assert [o.name for o in found] == ["SANA"]
    assert [
        o.name for o in client.get(url, {"kind": "state_media"}).context["page"].object_list
    ] == ["SANA"]
    assert client.get(url, {"reviewed": "no"}).context["page"].paginator.count == 70
    # Unknown filter values are ignored, never an error.
    assert client.get(url, {"kind": "bogus", "reviewed": "maybe", "page": "x"}).status_code == 200


def test_outlet_edit_saves_and_keeps_the_matching_key(client_for, project, admin):
    outlet = Outlet.objects.create(project=project, key="rt arabic", name="RT arabic")
    client = client_for(admin)
    url = reverse("outlet-edit", args=[project.slug, outlet.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "RT Arabic",
            "country": "Russia",
            "kind": "state_media",
            "affiliation": "Russian state",
            "reviewed": "on",
            "next": "?tab=outlets&q=rt",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?tab=outlets&q=rt")
    outlet.refresh_from_db()
    assert (outlet.name, outlet.kind, outlet.affiliation, outlet.reviewed, outlet.key) == (
        "RT Arabic",
        "state_media",
        "Russian state",
        True,
        "rt arabic",
    )
    bad = client.post(url, {"name": "", "kind": "nonsense"})
    assert bad.status_code == 400
    outlet.refresh_from_db()
    assert outlet.name == "RT Arabic"


def test_named_sources_tab_and_edit(client_for, project, admin):
    src = NamedSource.objects.create(project=project, key="hrw", name="HRW", mentions=4)
    NamedSource.objects.create(project=project, key="sohr", name="SOHR", mentions=9)
    client = client_for(admin)
    url = reverse("registry", args=[project.slug])
    names = [s.name for s in client.get(url, {"tab": "sources"}).context["page"].object_list]
    assert names == ["SOHR", "HRW"]
    client.post(
        reverse("source-edit", args=[project.slug, src.pk]),
        {
            "name": "Human Rights Watch",
            "source_type": "monitor_ngo",
            "affiliation": "NGO",
            "country": "",
            "reviewed": "on",
        },
    )
    src.refresh_from_db()
    assert (src.name, src.source_type, src.reviewed) == ("Human Rights Watch", "monitor_ngo", True)
    found = client.get(url, {"tab": "sources", "kind": "monitor_ngo"}).context["page"].object_list
    assert [s.name for s in found] == ["Human Rights Watch"]


def test_registry_edits_are_admin_only_and_project_scoped(
    client_for, project, other_project, reviewer, outsider, admin
):
    outlet = Outlet.objects.create(project=project, key="x", name="X")
    foreign = Outlet.objects.create(project=other_project, key="y", name="Y")
    data = {"name": "Hacked", "kind": "unknown"}
    assert (
        client_for(reviewer)
        .post(reverse("outlet-edit", args=[project.slug, outlet.pk]), data)
        .status_code
        == 403
    )
    assert (
        client_for(outsider)
        .post(reverse("outlet-edit", args=[project.slug, outlet.pk]), data)
        .status_code
        == 404
    )
    assert (
        client_for(admin)
        .post(reverse("outlet-edit", args=[project.slug, foreign.pk]), data)
        .status_code
        == 404
    )
    outlet.refresh_from_db()
    foreign.refresh_from_db()
    assert outlet.name == "X" and foreign.name == "Y"


def test_registry_text_is_escaped_and_rtl_safe(client_for, project, admin):
    Outlet.objects.create(project=project, key="evil", name="<script>alert(1)</script> الجزيرة")
    body = client_for(admin).get(reverse("registry", args=[project.slug])).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body
    assert 'dir="auto"' in body


def test_registry_htmx_gets_rows_only(client_for, project, admin):
    _outlets(project, 3)
    body = (
        client_for(admin)
        .get(reverse("registry", args=[project.slug]), {"q": "001"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "<html" not in body and "Outlet 001" in body and "Outlet 002" not in body
