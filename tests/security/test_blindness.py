"""Annotators are blind to each other (issue 8, R4) and cannot assign themselves rights.

Blindness: every response annotator A can get — every page, htmx fragment and API answer of
every route, GET and the writes A may make — is searched for annotator B's planted username,
full name, e-mail and skip reason; API answers are also walked for any label, name or count
that is not A's own. A differential check renders A's views of the item both annotators
labelled before and after B's label exists: they must be identical.

Mass assignment: A sends `role`, `is_staff`, `project`, annotator/user ids and other users'
item ids in every endpoint A may write to; the request is refused or the extra keys ignored,
and nothing outside A's own labels and leases changes.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.db import transaction
from django.test import Client

from annotations.models import Assignment, Label, Membership
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next
from tests.security.test_authz_matrix import EXPECTED, ROUTES
from tests.security.world import (
    A_LABELS,
    B_CANARIES,
    B_LABELS,
    build_world,
    db_fingerprint,
    fill,
)


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    yield build_world(media_root=settings.MEDIA_ROOT)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


def _client(user) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    return c


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _a_requests(world):
    """(description, method, path, htmx, api) for everything annotator A may ask."""
    for route in ROUTES:
        if route.name in ("logout",):
            continue
        path = fill(route, world)
        table = EXPECTED.get(route.name, {})
        methods = ["GET"] + [m for m, roles in table.items() if m != "GET" and "ann_a" in roles]
        for method in methods:
            if route.is_api:
                yield f"{method} {path}", method, path, False, True
            else:
                yield f"{method} {path}", method, path, False, False
                yield f"{method} {path} (htmx)", method, path, True, False


def _walk_json(value, where="$"):
    if isinstance(value, dict):
        for k, v in value.items():
            yield where, k, v
            yield from _walk_json(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_json(v, f"{where}[{i}]")


def test_annotator_never_sees_another_annotators_data(world) -> None:
    a = world.users["ann_a"]
    client = _client(a)
    leaks: list[str] = []
    answered = 0
    for what, method, path, htmx, api in _a_requests(world):
        headers = {"HX-Request": "true"} if htmx else {}
        with transaction.atomic():
            if api:
                response = client.generic(
                    method, path, data=b"{}", content_type="application/json", headers=headers
                )
            elif method == "GET":
                response = client.get(path, headers=headers)
            else:
                response = client.post(path, {}, headers=headers)
            text = _body(response)
            transaction.set_rollback(True)
        if response.status_code >= 400:
            continue
        answered += 1
        for canary in B_CANARIES:
            if canary.lower() in text.lower():
                leaks.append(f"{what}: contains {canary!r}")
        if api and response.get("Content-Type", "").startswith("application/json") and text:
            for where, key, value in _walk_json(json.loads(text)):
                named = key in ("annotator", "annotator_id", "user", "user_id", "username")
                if named and value not in (a.pk, a.username, None):
                    leaks.append(f"{what}: {where}.{key} = {value!r}")
                if key in ("n_done", "n_leased", "annotators", "label_count", "votes"):
                    leaks.append(f"{what}: {where}.{key} reveals others' work")
                if key in ("labels", "values") and value == B_LABELS:
                    leaks.append(f"{what}: {where}.{key} holds B's labels")
    assert answered > 10, "annotator A should reach pages, fragments and API answers"
    assert not leaks, "\n".join(leaks)


def _normalise(text: str) -> str:
    text = re.sub(r"\b[A-Za-z0-9]{32,64}\b", "TOKEN", text)  # CSRF tokens
    text = re.sub(r'"expires_at": ?"[^"]+"', "", text)
    text = re.sub(r"\b1\d{9}(\.\d+)?\b", "TIME", text)  # epoch seconds (page timers)
    return re.sub(r"\s+", " ", text)


def test_a_views_do_not_change_when_b_labels_the_same_item(world) -> None:
    """Non-interference: A holds a lease on item Z; what A sees of Z (annotate page, its
    fragment, the lease API, A's own labels) is the same before and after B labels Z."""
    project = world.project
    a, b = world.users["ann_a"], world.users["ann_b"]
    client = _client(a)
    b_lease = world.objs["lease_b"]
    assert b_lease is not None
    a_lease = item_lease_next(project=project, user=a)
    # A's open leases come back oldest first; ensure A and B now share an item.
    # The queue's article order is deterministic: A's next lease is the item B holds.
    shared = Assignment.objects.filter(annotator=a, item_id=b_lease.item_id).first()
    assert shared is not None, "set-up: A and B must hold leases on the same item"
    assert a_lease is not None
    slug = project.slug
    views = [
        ("page", f"/p/{slug}/annotate/", {}),
        ("fragment", f"/p/{slug}/annotate/", {"HX-Request": "true"}),
        ("own labels", f"/api/v1/projects/{slug}/labels/", {}),
        ("suggestions", f"/api/v1/claims/{b_lease.item.claim_id}/suggestions/", {}),
    ]

    def look() -> dict[str, str]:
        return {
            name: f"{(r := client.get(path, headers=h)).status_code} {_normalise(_body(r))}"
            for name, path, h in views
        }

    before = look()
    label_submit(assignment=b_lease, user=b, values=B_LABELS, idempotency_key="b-late")
    after = look()
    for name in before:
        assert before[name] == after[name], f"A's {name} changed when B labelled the item"


HOSTILE = {
    "role": "admin",
    "is_staff": True,
    "is_superuser": True,
    "project": "beta",
    "project_id": 1,
    "annotator": None,
    "annotator_id": None,
    "user": None,
    "user_id": None,
    "item": None,
    "item_id": None,
    "assignment": None,
    "state": "submitted",
}


def _hostile(world) -> dict:
    b = world.users["ann_b"]
    body = dict(HOSTILE)
    for key in ("annotator", "annotator_id", "user", "user_id"):
        body[key] = b.pk
    body["item"] = body["item_id"] = world.objs["lease_b"].item_id
    body["assignment"] = world.objs["lease_b"].pk
    body["project_id"] = world.other.pk
    return body


def _others_rows(a) -> tuple:
    labels = sorted(
        Label.objects.exclude(annotator=a).values_list("pk", "item_id", "annotator_id", "values")
    )
    leases = sorted(Assignment.objects.exclude(annotator=a).values_list("pk", "item_id", "state"))
    return labels, leases


def test_mass_assignment_is_ignored_or_refused(world) -> None:
    a = world.users["ann_a"]
    client = _client(a)
    hostile = _hostile(world)
    lease = world.objs["lease"]
    label = world.objs["label"]
    slug = world.project.slug
    protected = [
        t for t in ("auth_user", "auth_group", "auth_user_groups", "auth_user_user_permissions")
    ] + ["annotations_membership", "annotations_project", "authtoken_token"]
    cases = [
        ("POST", f"/api/v1/projects/{slug}/leases/", {"kind": "claim", **hostile}, "json"),
        ("POST", f"/api/v1/leases/{lease.pk}/labels/", {"labels": A_LABELS, **hostile}, "json"),
        (
            "POST",
            f"/api/v1/leases/{lease.pk}/labels/",
            {"labels": {**A_LABELS, "annotator": world.users["ann_b"].pk}, **hostile},
            "json",
        ),
        ("PATCH", f"/api/v1/labels/{label.pk}/", {"labels": A_LABELS, **hostile}, "json"),
        ("PUT", f"/api/v1/labels/{label.pk}/", {"labels": A_LABELS, **hostile}, "json"),
        ("POST", f"/api/v1/leases/{lease.pk}/skip/", {"reason": "unclear", **hostile}, "json"),
        (
            "POST",
            f"/p/{slug}/annotate/leases/{lease.pk}/",
            {"is_attributed": "false", "verifiability": "opinion", **hostile},
            "form",
        ),
        ("POST", f"/p/{slug}/annotate/leases/{lease.pk}/skip/", {"reason": "x", **hostile}, "form"),
        (
            "POST",
            f"/p/{slug}/annotate/labels/{label.pk}/",
            {"verifiability": "opinion", **hostile},
            "form",
        ),
    ]
    problems = []
    for method, path, body, kind in cases:
        with transaction.atomic():
            before_protected = db_fingerprint(protected)
            before_others = _others_rows(a)
            if kind == "json":
                response = client.generic(
                    method,
                    path,
                    data=json.dumps(body),
                    content_type="application/json",
                    headers={"Idempotency-Key": f"mass-{method}-{len(problems)}-{path}"},
                )
            else:
                response = client.post(path, {k: v for k, v in body.items() if v is not None})
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {path}: {status}")
            if db_fingerprint(protected) != before_protected:
                problems.append(f"{method} {path}: users, memberships or projects changed")
            if _others_rows(a) != before_others:
                problems.append(f"{method} {path}: another user's labels or leases changed")
            a.refresh_from_db()
            if a.is_staff or a.is_superuser:
                problems.append(f"{method} {path}: A became staff")
            role = Membership.objects.get(project=world.project, user=a).role
            if role != "annotator":
                problems.append(f"{method} {path}: A's role became {role}")
            for mine in Label.objects.filter(annotator=a):
                if mine.item.project_id != world.project.pk:
                    problems.append(f"{method} {path}: A's label moved to another project")
            transaction.set_rollback(True)
    assert not problems, "\n".join(problems)
