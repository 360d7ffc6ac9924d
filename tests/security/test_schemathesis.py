"""schemathesis against /api/schema/ (target R7).

The OpenAPI schema the app serves is loaded through the app itself (WSGI, in-process, token
auth) and every operation is fuzzed by two annotators: A, a member of the project the world
is built in, and O, an annotator of another project. Cases come in both of schemathesis'
generation modes (valid and invalid data), once with generated path parameters and once with
path parameters naming the project's real objects, so the fuzzer reaches past the lookups.
No response may be a server error.

Object-level authorization: every request of A's that succeeded is replayed by O, and every
operation that names objects is called by O with the ids harvested from A's responses (under
A's project slug and under O's own): O gets 403/404 only, sees none of A's project's content,
and the database stays byte-for-byte as it was.

Hypothesis runs derandomized (the same cases on every run, so CI is reproducible); set
WORKBENCH_FUZZ_EXAMPLES to fuzz harder locally.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from tests.factories import make_user
from tests.security.world import (
    B_CANARIES,
    World,
    build_world,
    db_diff,
    db_fingerprint,
    db_rows,
    object_id,
)

EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "8"))
# The two annotators of R7; add "admin" to reach the admin-only code paths too.
FUZZ_ROLES = os.environ.get("WORKBENCH_FUZZ_ROLES", "ann_a,ann_o").split(",")
pytestmark = pytest.mark.slow

# Strings only annotator A's project holds (the other project imported "Beta only").
A_PROJECT_CANARIES = ("Ministry reports strikes near Idlib", "قصف قرب إدلب", *B_CANARIES)
# Path segment before an id → the kind of object it names.
KINDS = {
    "documents": "document",
    "articles": "article",
    "claims": "claim",
    "items": "item",
    "labels": "label",
    "leases": "lease",
    "jobs": "job",
    "pairs": "pair",
    "events": "cluster",
    "versions": "version",
    "files": "version_file",
}


@dataclass
class Api:
    world: World
    schema: Any
    tokens: dict[str, str]  # role → token key
    app: Any
    harvested: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[role]}"}


@pytest.fixture
def api(db, settings, tmp_path) -> Iterator[Api]:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world(media_root=settings.MEDIA_ROOT)
    world.users["ann_o"] = make_user("oscar_other", "annotator", world.other)
    tokens = {
        role: Token.objects.create(user=world.users[role]).key
        for role in ("ann_a", "ann_o", "admin")
    }
    # Requests go through the WSGI handler inside the test's transaction: like Django's test
    # client, do not let request signals close that connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = get_wsgi_application()  # (re)configures logging: quieten the request log after it
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)  # thousands of 4xx are logged otherwise
    try:
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", app, headers={"Authorization": f"Token {tokens['ann_a']}"}
        )
        yield Api(world=world, schema=schema, tokens=tokens, app=app)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def operations(api: Api) -> list[Any]:
    found = [result.ok() for result in api.schema.get_all_operations()]
    assert len(found) > 30, "the schema should describe every API operation"
    return found


def params_of(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def kind_of(path: str, param: str) -> str:
    if param == "slug":
        return "project"
    segments = path.strip("/").split("/")
    before = segments[segments.index("{" + param + "}") - 1]
    return KINDS[before]


def real_parameters(api: Api, path: str) -> dict[str, Any]:
    """Path parameters naming objects of A's project."""
    out: dict[str, Any] = {}
    for param in params_of(path):
        kind = kind_of(path, param)
        if kind == "project":
            out[param] = api.world.project.slug
        elif kind == "version_file":
            out[param] = api.world.objs.get("version_file", "records.jsonl")
        else:
            out[param] = object_id(api.world, kind)
    return out


@dataclass
class Sent:
    """A request that succeeded, to be replayed by someone else."""

    method: str
    path: str
    query: dict[str, Any]
    body: Any


def fuzz(
    api: Api, operation: Any, role: str, *, pinned: bool, mode: GenerationMode
) -> tuple[list[str], list[Sent]]:
    """Run `EXAMPLES` cases of one operation: the server errors, and the requests that
    succeeded (their responses' ids are harvested)."""
    errors: list[str] = []
    successes: list[Sent] = []
    headers = api.headers(role)
    fixed = real_parameters(api, operation.path) if pinned else None
    strategy = operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=fixed)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            errors.append(
                f"{operation.label} as {role} ({mode.value}, {'real' if pinned else 'generated'}"
                f" ids): {response.status_code}\n    {case.as_curl_command()}\n"
                f"    {response.text[:300]}"
            )
        elif response.status_code < 300:
            harvest(api, operation.path, response)
            path = operation.path.format(**(case.path_parameters or {}))
            body = case.body if isinstance(case.body, (dict, list)) else None
            successes.append(Sent(operation.method.upper(), path, dict(case.query or {}), body))

    try:
        run()
    except Unsatisfiable:
        # Negative mode where nothing can be made invalid (e.g. only a free-form string
        # parameter, or every path parameter fixed and no query or body).
        assert mode == GenerationMode.NEGATIVE, operation.label
    return errors, successes


def harvest(api: Api, path: str, response: Any) -> None:
    """Ids of objects A's responses name, by kind: list results, and nested objects."""
    try:
        body = response.json()
    except ValueError:
        return
    collection = path.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(body, dict) and collection in KINDS and isinstance(body.get("results"), list):
        key = "number" if collection == "versions" else "id"
        for row in body["results"]:
            if isinstance(row, dict) and key in row:
                api.harvested[KINDS[collection]].add(row[key])
    kinds = set(KINDS.values())

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = key[:-3] if key.endswith("_id") else key
                if name in kinds and isinstance(inner, int) and not isinstance(inner, bool):
                    api.harvested[name].add(inner)
                elif name in kinds and isinstance(inner, dict) and isinstance(inner.get("id"), int):
                    api.harvested[name].add(inner["id"])
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(body)


def test_fuzzing_every_operation_gives_no_server_error(api):
    started = time.monotonic()
    errors: list[str] = []
    calls = 0
    for operation in operations(api):
        for role in FUZZ_ROLES:
            for pinned in (False, True):
                if pinned and not params_of(operation.path):
                    continue
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    found, _sent = fuzz(api, operation, role, pinned=pinned, mode=mode)
                    errors.extend(found)
                    calls += 1
    print(f"\nfuzzed {calls} (operation, user, mode) sets in {time.monotonic() - started:.1f} s")
    assert not errors, f"{len(errors)} server errors:\n" + "\n".join(errors)


# --- object-level authorization ---------------------------------------------------------------


def call(api: Api, role: str, method: str, path: str, body: Any = None, query: Any = None) -> Any:
    from werkzeug.test import Client

    client = Client(api.app)
    # Submits need an Idempotency-Key; other operations ignore it.
    headers = {**api.headers(role), "Idempotency-Key": uuid.uuid4().hex}
    kwargs: dict[str, Any] = {"headers": headers, "query_string": query or None}
    if method not in ("GET", "DELETE"):
        kwargs["data"] = json.dumps(body if body is not None else {})
        kwargs["content_type"] = "application/json"
    return client.open(path, method=method, **kwargs)


def a_works_the_queue(api: Api) -> dict[str, Any]:
    """What A does on an ordinary day, through the API: lease, label, correct the label.
    Returns a valid body per operation label, for O to send to A's objects."""
    slug = api.world.project.slug
    bodies: dict[str, Any] = {}
    lease = call(api, "ann_a", "POST", f"/api/v1/projects/{slug}/leases/", {})
    assert lease.status_code in (201, 204), lease.get_data()[:300]
    if lease.status_code == 201:
        lease_id = lease.get_json()["lease"]["id"]
        labels = {"is_attributed": False, "verifiability": "opinion"}
        body = {"labels": labels, "seconds": 3.0}
        done = call(api, "ann_a", "POST", f"/api/v1/leases/{lease_id}/labels/", body)
        assert done.status_code in (200, 201), done.get_data()[:300]
        bodies["POST /api/v1/leases/{lease_id}/labels/"] = body
        bodies["PUT /api/v1/labels/{label_id}/"] = {"labels": labels}
        bodies["PATCH /api/v1/labels/{label_id}/"] = {"labels": labels}
    return bodies


def test_another_projects_annotator_cannot_read_or_change_a_projects_objects(api):
    slug, own_slug = api.world.project.slug, api.world.other.slug
    ops = operations(api)
    bodies = a_works_the_queue(api)
    # A reads everything it may, with real ids: the responses name A's project's objects.
    for operation in ops:
        if operation.method.upper() != "GET":
            continue
        path = operation.path.format(**real_parameters(api, operation.path))
        response = call(api, "ann_a", "GET", path)
        if response.status_code < 300:
            harvest(api, operation.path, _Json(response))
    replay: list[Sent] = []
    for operation in ops:
        if params_of(operation.path) and operation.method.upper() == "GET":
            replay += fuzz(api, operation, "ann_a", pinned=True, mode=GenerationMode.POSITIVE)[1]
    assert replay, "A should read some of its project's objects"
    # An annotator's responses name its leases, labels and claims; the project's other
    # objects (documents, articles, items, pairs, jobs, versions...) come from the world.
    harvested = {kind: sorted(ids)[:4] for kind, ids in api.harvested.items()}
    for kind in ("lease", "label", "claim"):
        assert harvested.get(kind), f"A's responses named no {kind}: {sorted(harvested)}"

    baseline, rows = db_fingerprint(), db_rows()
    failures: list[str] = []
    tried = 0
    for operation in ops:
        params = params_of(operation.path)
        if not params:
            continue
        method = operation.method.upper()
        body = bodies.get(operation.label, {})
        for slug_value in (slug, own_slug) if "slug" in params else (None,):
            if slug_value == own_slug and params == ["slug"]:
                continue  # O's own project, no object of A's named: O's business
            for values in _combinations(api, operation.path, params, harvested, slug_value):
                path = operation.path.format(**values)
                response = call(api, "ann_o", method, path, body)
                tried += 1
                text = response.get_data(as_text=True)
                if response.status_code not in (403, 404):
                    failures.append(f"{method} {path}: {response.status_code} {text[:200]}")
                leaked = [c for c in A_PROJECT_CANARIES if c in text]
                if leaked:
                    failures.append(f"{method} {path}: response holds {leaked}")
    # Every read of A's that succeeded, replayed by O word for word.
    for sent in replay:
        response = call(api, "ann_o", sent.method, sent.path, sent.body, sent.query)
        tried += 1
        text = response.get_data(as_text=True)
        if response.status_code not in (403, 404):
            failures.append(f"replay {sent}: {response.status_code} {text[:200]}")
        leaked = [c for c in A_PROJECT_CANARIES if c in text]
        if leaked:
            failures.append(f"replay {sent}: response holds {leaked}")
    assert db_fingerprint() == baseline, db_diff(rows, db_rows())
    print(f"\nO tried {tried} requests on A's objects; harvested {harvested}")
    assert not failures, f"{len(failures)} object-level authorization failures:\n" + "\n".join(
        failures
    )


class _Json:
    """A werkzeug response with the .json() of a requests-like response (for harvest)."""

    def __init__(self, response: Any):
        self.response = response

    def json(self) -> Any:
        data = self.response.get_data(as_text=True)
        return json.loads(data) if data else None


def _combinations(
    api: Api, path: str, params: list[str], harvested: dict[str, list], slug: str | None
) -> list[dict[str, Any]]:
    """Up to four parameter sets: each harvested id of the named kind (the last parameter
    varies; earlier ones take their first harvested value)."""
    fixed: dict[str, Any] = {}
    last = params[-1]
    for param in params:
        kind = kind_of(path, param)
        if kind == "project":
            fixed[param] = slug
        elif param != last:
            fixed[param] = (harvested.get(kind) or [object_id(api.world, kind)])[0]
    kind = kind_of(path, last)
    if kind == "project":
        return [fixed]
    if kind == "version_file":
        return [{**fixed, last: api.world.objs.get("version_file", "records.jsonl")}]
    values = harvested.get(kind) or [object_id(api.world, kind)]
    return [{**fixed, last: value} for value in values]
