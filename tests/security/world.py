"""A small but complete project for security tests: every kind of object a route can name
(document, article, claim, item, pair, label, lease, job, version), made through the real
services, and the six roles of the authorization matrix.

Annotator B's data carries planted, distinctive values (username, full name, e-mail, skip
reason) so blindness tests can search annotator A's responses for them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from annotations.models import Assignment, ClaimPair, Item, Job, Label
from annotations.services.imports import import_file
from annotations.services.items import items_create_for_pairs
from annotations.services.labels import label_submit
from annotations.services.queue import item_lease_next, lease_skip
from tests.factories import make_project, make_user

ROLES = ("anon", "ann_a", "ann_b", "reviewer", "admin", "outsider")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

B_USERNAME = "bob_annotator"
B_FIRST = "Zelgadis"
B_LAST = "Quorrbright"
B_EMAIL = "zelgadis.quorrbright@example.org"
B_SKIP_REASON = "ZQ-skip-reason-of-bob-4417"
B_LABELS = {
    "is_attributed": True,
    "source_type": "witness_local",
    "source_named": "no",
    "author_stance": "distancing",
    "verifiability": "cannot_judge",
}
A_LABELS = {"is_attributed": False, "verifiability": "opinion"}
# Strings that must never reach annotator A.
B_CANARIES = (B_USERNAME, B_FIRST, B_LAST, B_EMAIL, B_SKIP_REASON)

RECORDS = [
    {
        "title": "Ministry reports strikes near Idlib",
        "outlet": "Example Wire",
        "published": "2019-08-21",
        "language": "en",
        "text": "The ministry said on Monday that airstrikes hit three villages near Idlib. "
        "Local sources reported that at least 12 civilians were killed in the raids. "
        "The government denied the reports and called them fabricated. "
        "Observers expect more strikes next week.",
    },
    {
        "title": "قصف قرب إدلب",
        "outlet": "وكالة المثال",
        "published": "2019-08-21",
        "language": "ar",
        "text": "قال المرصد السوري إن الغارات أصابت ثلاث قرى قرب إدلب. "
        "ونفت الوزارة التقارير عن قصف السوق. وأكد مصدر عسكري مقتل جنديين في الهجوم.",
    },
]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


@dataclass
class World:
    project: Any
    other: Any
    users: dict[str, Any]
    objs: dict[str, Any] = field(default_factory=dict)

    def user(self, role: str) -> Any:
        return self.users.get(role)


def build_world(*, media_root: Any = None) -> World:
    project = make_project("alpha")
    other = make_project("beta")
    users = {
        "ann_a": make_user("ann_annotator", "annotator", project),
        "ann_b": make_user(B_USERNAME, "annotator", project),
        "reviewer": make_user("rita_reviewer", "reviewer", project),
        "admin": make_user("ada_admin", "admin", project),
        "outsider": make_user("olga_outsider", "admin", other),
    }
    b = users["ann_b"]
    b.first_name, b.last_name, b.email = B_FIRST, B_LAST, B_EMAIL
    b.save(update_fields=["first_name", "last_name", "email"])
    world = World(project=project, other=other, users=users)
    o = world.objs

    summary = import_file(
        project=project, filename="feed.jsonl", data=jsonl(RECORDS), user=users["admin"]
    )
    assert not summary.get("errors"), summary
    import_file(
        project=other,
        filename="other.jsonl",
        data=jsonl([{**RECORDS[0], "title": "Beta only"}]),
        user=users["outsider"],
    )
    claims = list(project.claims.order_by("id"))
    assert len(claims) >= 4, "the import should give several claims"
    o["document"] = project.documents.order_by("id").first()
    o["article"] = project.articles.order_by("id").first()
    o["claim"] = claims[0]  # replaced below by the claim both annotators labelled
    o["user"] = users["ann_a"]
    en = [c for c in claims if c.language == "en"]
    ar = [c for c in claims if c.language == "ar"]
    pair = ClaimPair.objects.create(
        project=project,
        claim_a_id=min(en[0].pk, ar[0].pk),
        claim_b_id=max(en[0].pk, ar[0].pk),
        method="test",
        score=0.9,
    )
    items_create_for_pairs(project=project, pairs=[pair])
    o["pair"] = pair

    a = users["ann_a"]
    # A and B share item X (overlap 2): both label it, so it goes to review.
    lease_a = item_lease_next(project=project, user=a)
    lease_b = item_lease_next(project=project, user=b)
    assert lease_a and lease_b and lease_a.item_id == lease_b.item_id
    label_b, _ = label_submit(assignment=lease_b, user=b, values=B_LABELS, idempotency_key="b-1")
    label_a, _ = label_submit(assignment=lease_a, user=a, values=A_LABELS, idempotency_key="a-1")
    item_x = Item.objects.get(pk=lease_a.item_id)
    o["item"] = item_x
    o["claim_reviewed"] = o["claim"] = item_x.claim
    o["label"] = label_a
    o["label_b"] = label_b
    # A holds an open lease on item Y; B takes Y too and skips it with a planted reason.
    open_a = item_lease_next(project=project, user=a)
    assert open_a is not None
    o["lease"] = open_a
    skip_b = item_lease_next(project=project, user=b)
    assert skip_b is not None
    lease_skip(assignment=skip_b, user=b, reason=B_SKIP_REASON)
    o["lease_b"] = item_lease_next(project=project, user=b)

    from annotations.services.jobs import job_create, job_run

    # an import job: only its creator and the project's admins may see it
    job = job_create(kind="import", project=project, user=users["admin"], params={"files": []})
    o["job"] = job
    if media_root is not None:
        from annotations.services.exports import dataset_version_freeze

        version = dataset_version_freeze(project=project, user=users["admin"], note="v1")
        job_run(job_id=str(version.job_id))
        version.refresh_from_db()
        o["version"] = version
        o["version_file"] = sorted(version.files)[0] if version.files else "x"
    # Objects some pages create on first view: made now so the baseline holds them.
    for key in ("cluster", "outlet", "named_source", "membership"):
        _lazy_object(world, key)
    try:
        from annotations.services.pairs import pairing_settings

        pairing_settings(project)
    except ImportError:
        pass
    from annotations.services.agreement_jobs import report_store

    for kind in ("claim", "pair"):
        report_store(project=project, kind=kind)
    for c in (open_a, o["lease_b"]):
        assert c is None or c.state == Assignment.State.LEASED
    assert Label.objects.filter(item=item_x).count() == 2
    assert Job.objects.filter(pk=job.pk).exists()
    return world


# --- the URL walk -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # e.g. "api/v1/projects/<slug:slug>/documents/<int:pk>/"
    callback: str

    @property
    def params(self) -> list[tuple[str, str]]:
        return re.findall(r"<(?:(\w+):)?(\w+)>", self.pattern)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def all_routes() -> list[Route]:
    """Every named URL pattern of the site, found by walking the resolver recursively."""
    out: list[Route] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                cb = p.callback
                where = f"{getattr(cb, '__module__', '')}.{getattr(cb, '__name__', '')}"
                out.append(Route(p.name or prefix + str(p.pattern), prefix + str(p.pattern), where))

    walk(get_resolver(), "")
    return out


# Which object a path parameter names, by the path segment before it ("documents/<pk>").
SEGMENT_OBJECT = {
    "documents": "document",
    "articles": "article",
    "claims": "claim",
    "pairs": "pair",
    "items": "item",
    "review": "item",
    "labels": "label",
    "leases": "lease",
    "jobs": "job",
    "versions": "version",
    "clusters": "cluster",
    "events": "cluster",
    "outlets": "outlet",
    "sources": "named_source",
    "members": "membership",
}
# Adjudication routes name the reviewed claim (the one with labels).
ROUTE_OBJECT = {
    "api-claim-adjudication": "claim_reviewed",
}


def object_id(world: World, key: str) -> Any:
    obj = world.objs.get(key)
    if obj is None:
        obj = _lazy_object(world, key)
    if key == "version":
        return obj.number
    return obj.pk


def _lazy_object(world: World, key: str) -> Any:
    """Objects only some (future) routes name: made on first use."""
    p = world.project
    if key == "cluster":
        from annotations.models import EventCluster

        obj = EventCluster.objects.create(project=p, key="k1", title="Strikes near Idlib")
    elif key == "outlet":
        obj = p.outlets.order_by("id").first()
    elif key == "named_source":
        from annotations.models import NamedSource

        obj = NamedSource.objects.create(project=p, key="ministry", name="The ministry")
    elif key == "membership":
        obj = p.memberships.filter(user=world.users["ann_a"]).first()
    elif key == "version":
        from annotations.models import DatasetVersion

        obj = DatasetVersion.objects.create(project=p, number=1, note="placeholder")
    else:
        raise KeyError(f"no object for path parameter {key!r}: teach tests/security/world.py")
    world.objs[key] = obj
    return obj


def fill(route: Route, world: World, slug: str | None = None) -> str:
    """The route's path with every parameter set to an object of the project."""
    path = route.pattern
    segments = re.split(r"/", route.pattern)
    for conv, name in route.params:
        token = f"<{conv}:{name}>" if conv else f"<{name}>"
        if name == "slug":
            value: Any = slug or world.project.slug
        elif name == "name":
            value = world.objs.get("version_file", "records.jsonl")
        elif name in ("job_id",):
            value = object_id(world, "job")
        elif name.endswith("_id") and (
            name[:-3] in world.objs or name[:-3] in SEGMENT_OBJECT.values()
        ):
            value = object_id(world, name[:-3])
        else:
            index = segments.index(token)
            before = segments[index - 1] if index else ""
            key = ROUTE_OBJECT.get(route.name) or SEGMENT_OBJECT.get(before)
            if key is None:
                raise KeyError(f"{route.name}: cannot fill <{name}> after {before!r}")
            value = object_id(world, key)
        path = path.replace(token, str(value), 1)
    return "/" + path


# --- the database fingerprint ---------------------------------------------------------------


def db_tables() -> list[str]:
    names = connection.introspection.table_names()
    return sorted(n for n in names if n.startswith(("annotations_", "auth_", "authtoken_")))


_FINGERPRINT_SQL: dict[tuple[str, ...], str] = {}


def _table_hash_sql(quoted: str, name: str) -> str:
    # count and an order-independent sum of 64-bit row hashes, computed by PostgreSQL
    hashed = "coalesce(sum(hashtextextended(r::text, 7)::numeric), 0)::text"
    return f"SELECT '{name}' AS t, count(*)::text || ':' || {hashed} AS h FROM {quoted} r"  # noqa: S608


def db_fingerprint(tables: list[str] | None = None) -> str:
    """A hash of every row of every annotations_*/auth_* table (rows in a fixed order)."""
    tables = tables or db_tables()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip: each table's rows as text, sorted, hashed by the server.
            key = tuple(tables)
            if key not in _FINGERPRINT_SQL:
                parts = [_table_hash_sql(qn(t), t) for t in tables]
                union = " UNION ALL ".join(parts)
                _FINGERPRINT_SQL[key] = (
                    f"SELECT string_agg(t || h, ',' ORDER BY t) FROM ({union}) s"  # noqa: S608
                )
            cursor.execute(_FINGERPRINT_SQL[key])
            return str(cursor.fetchone()[0])
        digest = hashlib.sha256()
        for table in tables:
            cursor.execute(f"SELECT * FROM {qn(table)} ORDER BY 1")  # noqa: S608 - table names
            digest.update(table.encode())
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
    return digest.hexdigest()


def db_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row (for a readable diff when a fingerprint changes)."""
    qn = connection.ops.quote_name
    out: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for table in db_tables():
            cursor.execute(f"SELECT * FROM {qn(table)} ORDER BY 1")  # noqa: S608
            out[table] = cursor.fetchall()
    return out


def db_diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    changes = []
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            changes.append(f"{table}: -{len(old - new)} +{len(new - old)}")
    return changes
