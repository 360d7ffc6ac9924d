"""Hostile input over the whole API surface (issue 8, part 3), walked generically:

- every list endpoint: `page_size=10^9`, unknown orderings (`password`), and any `__` lookup
  (`user__password__startswith=p`) are 400s, never passed to the ORM;
- ids beyond 2^63 in any path are 404 (never a 500 from an out-of-range integer);
- ids beyond 2^63, NUL bytes and lone surrogates inside JSON bodies (labels, spans, skip
  reasons, adjudication notes and versions) are 400, never 500, and nothing is stored.

Would have caught: filter-based data leaks through ORM lookups (CVE-2023-23936-style
`?user__password__startswith=` oracles in DRF filter backends), unbounded page sizes (DoS),
and PostgreSQL's "cannot store NUL"/out-of-range 500s.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client

from tests.security.world import all_routes, build_world, db_diff, db_fingerprint, db_rows, fill

HUGE = (2**63, 2**64 + 7)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()


def _surrogate_key_bodies(world) -> list[tuple[str, str, str]]:
    lease_a = world.objs["lease"].pk
    good = {"is_attributed": False, "verifiability": "opinion"}
    path = f"/api/v1/leases/{lease_a}/labels/"
    fact = {**good, "verifiability": "checkable_fact"}
    out = []
    for bad in ("\x00", "\ud800", "ok\udfffok", "a\x00\ud800"):
        out.append(("ann_a", path, json.dumps({"labels": {**good, bad: True}})))
        out.append(("ann_a", path, json.dumps({"labels": {**fact, "claim_types": [bad]}})))
    return out


def _client(user) -> Client:
    client = Client(raise_request_exception=False)  # a crash is a 500 to report, like in prod
    client.force_login(user)
    return client


def _list_endpoints(world) -> list[tuple[str, str, Client]]:
    """(route name, path, client) for every API route that answers a paginated list."""
    clients = {role: _client(world.user(role)) for role in ("admin", "ann_a")}
    found = []
    for route in all_routes():
        if not route.is_api or route.name in ("api-schema", "api-docs"):
            continue
        path = fill(route, world)
        for client in clients.values():
            response = client.get(path)
            if (
                response.get("Content-Type", "").startswith("application/json")
                and response.status_code == 200
            ):
                body = response.json()
                if isinstance(body, dict) and "results" in body:
                    found.append((route.name, path, client))
                    break
    return found


HOSTILE_QUERIES = (
    {"page_size": "1000000000"},
    {"page_size": str(2**64)},
    {"ordering": "password"},
    {"ordering": "-user__password"},
    {"ordering": "no_such_field"},
    {"user__password__startswith": "p"},
    {"annotator__username__startswith": "b"},
    {"project__slug": "beta"},
    {"id__gt": "0"},
)


def test_list_endpoints_reject_hostile_query_parameters(world):
    endpoints = _list_endpoints(world)
    names = {name for name, _, _ in endpoints}
    assert len(endpoints) >= 8, sorted(names)
    assert {"api-claims", "api-documents", "api-review-queue"} <= names
    bad = []
    for name, path, client in endpoints:
        for params in HOSTILE_QUERIES:
            response = client.get(path, params)
            if response.status_code != 400:
                bad.append(f"{name} {params}: {response.status_code}")
            elif "json" not in response.get("Content-Type", ""):
                bad.append(f"{name} {params}: error is not JSON")
    assert bad == [], "\n".join(bad)


# Member routes crash on SQLite (OverflowError): tested apart, as a known defect there.
SQLITE_OVERFLOW = {"member-role", "member-remove"}


def test_ids_beyond_2_63_in_paths_are_404(world):
    _huge_paths(world, [r for r in all_routes() if r.name not in SQLITE_OVERFLOW], minimum=60)


def test_ids_beyond_2_63_in_member_paths_are_404(world):
    _huge_paths(world, [r for r in all_routes() if r.name in SQLITE_OVERFLOW], minimum=12)


def _huge_paths(world, routes, *, minimum: int) -> None:
    client, annotator = _client(world.user("admin")), _client(world.user("ann_a"))
    checked, bad = 0, []
    for route in routes:
        ints = [name for conv, name in route.params if conv == "int"]
        if not ints:
            continue
        base = fill(route, world)
        for huge in HUGE:
            # replace each <int:...> parameter, one at a time, by an out-of-range id
            for name in ints:
                path = _replace_param(route, world, name, huge)
                for method in ("get", "post", "delete"):
                    response = getattr(client, method)(path)
                    if response.status_code == 403:  # an annotator's route: ask as one
                        response = getattr(annotator, method)(path)
                    checked += 1
                    ok = (404, 405, 400) if method == "post" else (404, 405)  # 400: empty body
                    if response.status_code not in ok:
                        bad.append(f"{method.upper()} {path}: {response.status_code}")
        assert base
    assert checked >= minimum
    assert bad == [], "\n".join(bad)


def _replace_param(route, world, name: str, value: int) -> str:
    marker = 987654321012
    pattern = re.sub(rf"<int:{name}>", str(marker), route.pattern)
    filled = fill(type(route)(route.name, pattern, route.callback), world)
    return filled.replace(str(marker), str(value))


def _post(client: Client, path: str, raw: str):
    # a fresh Idempotency-Key each time (label submissions require one)
    key = uuid.uuid4().hex
    return client.post(
        path, data=raw, content_type="application/json", headers={"Idempotency-Key": key}
    )


def _bodies(world) -> list[tuple[str, str, str]]:
    """(who, path, raw JSON body) of hostile writes; raw so lone surrogates stay escaped."""
    lease_a = world.objs["lease"].pk
    claim = world.objs["claim_reviewed"].pk
    item = world.objs["item"]
    labels = f"/api/v1/leases/{lease_a}/labels/"
    skip = f"/api/v1/leases/{lease_a}/skip/"
    adjudicate = f"/api/v1/claims/{claim}/adjudication/"
    reopen = f"/api/v1/items/{item.pk}/reopen/"
    good = {"is_attributed": False, "verifiability": "opinion"}
    span = {"is_attributed": True, "source_span": [0, 5], "verifiability": "opinion"}
    out = []
    # ids / offsets beyond 2^63 in bodies
    for huge in HUGE:
        out.append(("ann_a", labels, json.dumps({"labels": {**span, "source_span": [0, huge]}})))
        out.append(
            ("ann_a", labels, json.dumps({"labels": {**span, "source_span": [huge, huge + 1]}}))
        )
        out.append(("ann_a", labels, json.dumps({"labels": good, "seconds": huge})))
        out.append(
            ("reviewer", adjudicate, json.dumps({"labels": good, "note": "n", "version": huge}))
        )
        out.append(("reviewer", reopen, json.dumps({"note": "n", "version": huge})))
    # NUL bytes and lone surrogates (json.dumps escapes them: the request body is ASCII)
    for bad in ("\x00", "\ud800", "ok\udfffok", "a\x00\ud800"):
        out.append(("ann_a", labels, json.dumps({"labels": {**good, "verifiability": bad}})))
        fact = {**good, "verifiability": "checkable_fact"}  # claim_types applies to facts only
        if "\ud800" not in bad and "\udfff" not in bad:  # surrogates: see the xfail below
            out.append(("ann_a", labels, json.dumps({"labels": {**fact, "claim_types": [bad]}})))
        out.append(("ann_a", skip, json.dumps({"reason": f"too hard {bad}"})))
        out.append(
            (
                "reviewer",
                adjudicate,
                json.dumps({"labels": good, "note": f"note {bad}", "version": item.version}),
            )
        )
        out.append(
            (
                "reviewer",
                adjudicate,
                json.dumps(
                    {"labels": {**good, "verifiability": bad}, "note": "n", "version": item.version}
                ),
            )
        )
        out.append(("reviewer", reopen, json.dumps({"note": f"why {bad}", "version": 1})))
    return out


def test_hostile_json_bodies_are_400_and_store_nothing(world):
    clients = {role: _client(world.user(role)) for role in ("ann_a", "reviewer")}
    bodies = _bodies(world)
    assert len(bodies) >= 30
    before, rows = db_fingerprint(), db_rows()
    bad = []
    for who, path, raw in bodies:
        response = _post(clients[who], path, raw)
        if response.status_code != 400:
            bad.append(f"{who} POST {path} {raw[:90]}: {response.status_code}")
    assert bad == [], "\n".join(bad)
    assert db_fingerprint() == before, db_diff(rows, db_rows())
    # Control: the same endpoints accept a clean body, so the 400s above were about the input.
    lease, item = world.objs["lease"].pk, world.objs["item"]
    good = {"is_attributed": False, "verifiability": "opinion"}
    ok = _post(clients["ann_a"], f"/api/v1/leases/{lease}/labels/", json.dumps({"labels": good}))
    assert ok.status_code in (200, 201), ok.content
    claim = world.objs["claim_reviewed"].pk
    body = {"labels": good, "note": "clean note", "version": item.version}
    ok = _post(clients["reviewer"], f"/api/v1/claims/{claim}/adjudication/", json.dumps(body))
    assert ok.status_code in (200, 201), ok.content
    assert db_fingerprint() != before


def test_lone_surrogate_in_label_names_or_choices_is_400(world):
    client = _client(world.user("ann_a"))
    before = db_fingerprint()
    codes = [_post(client, path, raw).status_code for _, path, raw in _surrogate_key_bodies(world)]
    assert codes == [400] * len(codes)
    assert db_fingerprint() == before
