"""Authorization matrix (issue 8, target R4).

Every URL pattern of the site (found by walking the resolver) × six users (anonymous,
annotator A, annotator B, reviewer, admin, an admin of another project) × GET/POST/PUT/PATCH/
DELETE, as a page request, an htmx request (HX-Request) and — for the API — a JSON request.
Path parameters are ids of real objects of the project; lease and label routes name annotator
A's lease and label, so annotator B is "the other annotator".

EXPECTED says who may use each route and method. Every other cell must be refused (403/404,
405 for a method the route lacks, 401 for anonymous API calls, 302 to the login page for
anonymous pages) AND leave every annotations_*/auth_* row byte-for-byte as it was. Each request
runs inside a transaction that is rolled back, so allowed writes do not leak into later cells.

A member of another project also tries its own project's slug with this project's object ids
(the cross-organisation reads of Label Studio GHSA-w4mg-6m8q-6723): always refused.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from tests.security.world import (
    METHODS,
    ROLES,
    Route,
    all_routes,
    build_world,
    db_diff,
    db_fingerprint,
    db_rows,
    fill,
)

ANON, A, B, REV, ADM, OUT = ROLES
ANN = frozenset({A, B})
REVIEW = frozenset({REV, ADM})
ADMIN = frozenset({ADM})
MEMBERS = ANN | REVIEW
SIGNED_IN = MEMBERS | {OUT}
EVERYONE = frozenset(ROLES)
OWNER = frozenset({A})  # lease and label routes name annotator A's own objects
NOBODY: frozenset[str] = frozenset()

# Routes anyone may call; checked only for "no 5xx and the database unchanged".
PUBLIC = {"login", "logout", "healthz", "api-schema", "api-docs"}

# route name -> method -> roles allowed. A method not listed is refused for everybody.
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    # pages
    "home": {"GET": SIGNED_IN},
    "projects-archived": {"GET": SIGNED_IN},  # lists only the user's own archived projects
    "project-settings": {"GET": ADMIN, "POST": ADMIN},
    "project-archive": {"GET": ADMIN, "POST": ADMIN},
    "schema": {"GET": ADMIN, "POST": ADMIN},
    "members": {"GET": ADMIN, "POST": ADMIN},
    "member-role": {"POST": ADMIN},
    "member-remove": {"POST": ADMIN},
    "progress": {"GET": ADMIN},
    "lease-release": {"POST": ADMIN},
    "lease-reassign": {"POST": ADMIN},
    "registry": {"GET": ADMIN},
    "outlet-edit": {"GET": ADMIN, "POST": ADMIN},
    "source-edit": {"GET": ADMIN, "POST": ADMIN},
    "suggestion-model": {"GET": REVIEW},
    "suggestion-model-train": {"POST": REVIEW},
    "events": {"GET": REVIEW},
    "event": {"GET": REVIEW},
    "events-merge": {"POST": ADMIN},
    "event-split": {"POST": ADMIN},
    "pairs-compute": {"POST": ADMIN},
    "pairing-settings": {"POST": ADMIN},
    "job-detail": {"GET": ADMIN},  # the job's creator and the project's admins
    "project-create": {"GET": NOBODY, "POST": NOBODY},  # site admins only
    "project-detail": {"GET": MEMBERS},
    "import": {"GET": ADMIN, "POST": ADMIN},
    "documents": {"GET": REVIEW},
    "document": {"GET": REVIEW},
    "article": {"GET": REVIEW},
    "claims": {"GET": REVIEW},
    "claim-split": {"POST": ADMIN},
    "claim-merge": {"POST": ADMIN},
    "annotate": {"GET": ANN},
    "annotate-pairs": {"GET": ANN},
    "annotate-next": {"GET": ANN},
    "annotate-undo": {"POST": ANN},
    "annotate-submit": {"POST": OWNER},
    "annotate-skip": {"POST": OWNER},
    "annotate-edit": {"GET": OWNER, "POST": OWNER},
    "review-queue": {"GET": REVIEW},
    "review-aggregate": {"POST": REVIEW},
    "review-item": {"GET": REVIEW, "POST": REVIEW},
    "review-reopen": {"POST": REVIEW},
    "review-gold": {"POST": ADMIN},
    "versions": {"GET": REVIEW},
    "version-freeze": {"POST": ADMIN},
    "version-file": {"GET": REVIEW},
    "agreement": {"GET": REVIEW},
    "agreement-recompute": {"POST": REVIEW},
    # API
    "api-projects": {"GET": SIGNED_IN},
    "api-project": {"GET": MEMBERS},
    "api-job": {"GET": ADMIN},
    "api-documents": {"GET": REVIEW, "POST": ADMIN},
    "api-document": {"GET": REVIEW},
    "api-articles": {"GET": REVIEW},
    "api-article": {"GET": REVIEW},
    "api-claims": {"GET": REVIEW},
    "api-claim": {"GET": REVIEW},
    "api-leases": {"POST": ANN},
    "api-own-labels": {"GET": MEMBERS},  # each sees only their own labels
    "api-lease-labels": {"POST": OWNER},
    "api-lease-skip": {"POST": OWNER},
    "api-label": {"GET": OWNER, "PATCH": OWNER, "PUT": OWNER},
    "api-review-queue": {"GET": REVIEW},
    "api-gold-items": {"GET": REVIEW, "POST": ADMIN},
    "api-claim-adjudication": {"POST": REVIEW},
    "api-pair-adjudication": {"POST": REVIEW},
    "api-review-item": {"GET": REVIEW},
    "api-item-decisions": {"GET": REVIEW},
    "api-item-reopen": {"POST": REVIEW},
    "api-agreement": {"GET": REVIEW, "POST": REVIEW},
    "api-export": {"GET": REVIEW},
    "api-versions": {"GET": REVIEW, "POST": ADMIN},
    "api-version": {"GET": REVIEW},
    "api-version-file": {"GET": REVIEW},
    "api-claim-suggestions": {"GET": REVIEW},
    "api-claim-candidates": {"GET": REVIEW},
    "api-pairs": {"GET": REVIEW},
    "api-events": {"GET": REVIEW},
    "api-event": {"GET": REVIEW},
    "api-events-merge": {"POST": ADMIN},
    "api-event-split": {"POST": ADMIN},
}
# Cells that may go either way. Annotators get a claim's suggestions only when their
# suggestion arm shows them and the claim was given to them.
EITHER: dict[tuple[str, str], frozenset[str]] = {
    ("api-claim-suggestions", "GET"): ANN,
}

RARE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
RARE_METHOD_ROLES = frozenset({ANON, B, REV, OUT})

ROUTES = all_routes()


def expected_roles(route: Route, method: str) -> tuple[frozenset[str], bool]:
    """(roles allowed, strict). Public routes allow everybody. A route missing from the table
    (test_every_route_is_classified fails for it) is checked loosely: nobody anonymous or from
    another project may use it; members are not checked."""
    if route.name in PUBLIC:
        return EVERYONE, False
    table = EXPECTED.get(route.name)
    if table is None:
        return MEMBERS, False
    return table.get(method, NOBODY), True


def refused(route: Route, role: str, status: int, location: str) -> bool:
    if status in (403, 404, 405):
        return True
    if role == ANON and route.is_api and status == 401:
        return True
    return role == ANON and status == 302 and location.startswith("/accounts/login/")


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        c = Client(raise_request_exception=False)
        user = world.user(role)
        if user is not None:
            c.force_login(user)
        clients[role] = c
    return clients


def _send(client: Client, method: str, path: str, *, htmx: bool, api: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    if api:
        return client.generic(
            method, path, data=b"{}", content_type="application/json", headers=headers
        )
    if method == "GET":
        return client.get(path, headers=headers)
    return client.generic(
        method, path, data=b"", content_type="application/x-www-form-urlencoded", headers=headers
    )


def check_route(
    route: Route, world, clients: dict[str, Client], notes: list[str] | None = None
) -> tuple[list[str], dict]:
    """Run every cell of one route; return the failures and the 2xx responses per role."""
    notes = notes if notes is not None else []
    failures: list[str] = []
    seen: dict[str, list] = {role: [] for role in ROLES}
    baseline = db_fingerprint()
    baseline_rows = db_rows()
    variants = [("api", False)] if route.is_api else [("page", False), ("htmx", True)]
    targets = [(role, fill(route, world), False) for role in ROLES]
    if any(name == "slug" for _c, name in route.params) and len(route.params) > 1:
        # cross-project: the other project's admin names their own project with our ids
        targets.append((OUT, fill(route, world, slug=world.other.slug), True))
    for role, path, cross in targets:
        for method in METHODS:
            allowed, strict = expected_roles(route, method)
            uses_route = not cross and any(
                role in expected_roles(route, m)[0] for m in METHODS if m != method
            )
            either = role in EITHER.get((route.name, method), NOBODY)
            if not route.is_api and method in RARE_METHODS and role not in RARE_METHOD_ROLES:
                # Function views check permissions before looking at the method; PUT/PATCH/
                # DELETE on pages are sent by the attackers that matter (time budget).
                continue
            for variant, htmx in variants:
                if htmx and method not in ("GET", "POST"):
                    continue
                cell = f"{route.name} {method} {path} as {role} ({variant})"
                diff: list[str] = []
                client = clients[role]
                session = client.cookies.get(settings.SESSION_COOKIE_NAME)
                with transaction.atomic():
                    response = _send(client, method, path, htmx=htmx, api=route.is_api)
                    changed = db_fingerprint() != baseline
                    if changed:
                        diff = db_diff(baseline_rows, db_rows())
                    transaction.set_rollback(True)
                if session is not None:
                    # a logout (or login) changed the cookie; the rolled-back session still exists
                    client.cookies[settings.SESSION_COOKIE_NAME] = session.value
                status = response.status_code
                location = response.get("Location", "")
                if status >= 500:
                    failures.append(f"{cell}: server error {status}")
                    continue
                if route.name in PUBLIC:
                    if changed and route.name not in ("login", "logout"):
                        failures.append(f"{cell}: public route changed the database {diff}")
                    continue
                if role in allowed and not cross:
                    if (
                        strict
                        and not either
                        and (status in (401, 403, 404) or (status == 302 and "/login/" in location))
                    ):
                        failures.append(f"{cell}: allowed but refused with {status}")
                    if status < 300:
                        seen[role].append((cell, response))
                    continue
                if status < 300:
                    seen[role].append((cell, response))
                if not refused(route, role, status, location):
                    if either:
                        pass
                    elif (
                        uses_route
                        and not changed
                        and (status < 300 or (status == 302 and "/login/" not in location))
                    ):
                        # a view that does not restrict its methods answers this one like
                        # another it allows the user: harmless (no write), noted for the report
                        notes.append(f"{route.name} answers {method} without 405")
                        continue
                    else:
                        failures.append(f"{cell}: should be refused, got {status} {location}")
                if changed:
                    failures.append(f"{cell}: refused request changed the database {diff}")
    return failures, seen


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(media_root=settings.MEDIA_ROOT)


def test_every_route_is_classified():
    """A new route must be added to EXPECTED (or PUBLIC) so its permissions are checked."""
    missing = sorted({r.name for r in ROUTES} - set(EXPECTED) - PUBLIC)
    assert not missing, f"add these routes to EXPECTED in {__file__}: {missing}"


def test_routes_are_named_and_unique():
    names = [r.name for r in ROUTES]
    assert len(names) == len(set(names)), "two URL patterns share a name"


@pytest.fixture
def quiet_request_log():
    """403/404 are logged with tracebacks by django.request; thousands of them are noise."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.slow
def test_authorization_matrix(world, quiet_request_log) -> None:
    """All routes with one world (building it per route would multiply the run time)."""
    clients = _clients(world)
    failures: list[str] = []
    notes: list[str] = []
    for route in ROUTES:
        started = time.monotonic()
        route_failures, _seen = check_route(route, world, clients, notes)
        print(f"{route.name}: {time.monotonic() - started:.2f}s")
        failures.extend(route_failures)
    for note in sorted(set(notes)):
        print("note:", note)
    assert not failures, f"{len(failures)} cells wrong:\n" + "\n".join(failures)
