"""Storing what the ingest pipeline produces: documents, articles (deduplicated, with every
provenance), outlets, claims and queue items. Label suggestions are not computed here: the
import queues a ``suggest_fill`` job (services/suggest_fill.py) in its own transaction, which
fills ``Claim.suggestion`` once the claims are committed (``import_paths`` fills them at once).
The claims' text-index entries are left in the GIN pending lists by the import and merged into
the indexes by that follow-up (an ``index_merge`` job when suggestions are off): see
``defer_text_index_merge``.

Policy, per uploaded file (a zip counts as one file, JSONL too):

* all or nothing: the file is segmented and validated completely before anything is written,
  then stored inside one transaction; a bad zip member or one bad JSONL line stores nothing
  from that file and reports the member or the line;
* idempotent: a document is identified by its content (sha256 of its format and decoded text),
  so importing the same file again creates nothing (``skipped`` is true);
* an article whose normalised content was seen before in the project (same text imported
  twice, or reposted inside another page) is stored once; every place it was found is an
  ArticleProvenance row. A duplicate is never re-segmented, so admins' boundary fixes survive.

The pure work (decoding, segmenting) happens before the transaction opens, so the transaction
only holds bulk inserts (COPY on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, JSONField, Model, Value, When
from django.utils import timezone

from ..ingest import IngestError, Limits, SourceDoc, segment_file
from ..ingest.types import ArticleUnit
from ..models import (
    Article,
    ArticleProvenance,
    Claim,
    Document,
    Item,
    Job,
    NamedSource,
    Outlet,
    Project,
)
from .items import claim_is_queued, items_create_for_claims, order_key_for
from .jobs import JobError, ProgressFn, register

log = logging.getLogger(__name__)

BATCH = 5000
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
ProgressCb = Callable[..., None] | None

# Outlet kinds of the registry → the label schema's source_type for the suggestion detector.
OUTLET_SOURCE_TYPE: dict[str, str] = {
    Outlet.Kind.STATE_MEDIA: "state_media",
    Outlet.Kind.ARMED_GROUP: "armed_group",
    Outlet.Kind.NGO: "monitor_ngo",
    Outlet.Kind.INDEPENDENT: "other_media",
    Outlet.Kind.PARTISAN_BLOG: "other_media",
    Outlet.Kind.INTL_MEDIA: "other_media",
}

_BIDI_AND_CONTROLS = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Coreferent pronouns resolve to a named source in context but are not a name themselves.
_PRONOUNS = frozenset(
    [
        "he",
        "she",
        "it",
        "they",
        "we",
        "you",
        "him",
        "her",
        "them",
        "his",
        "its",
        "their",
        "this",
        "that",
        "هو",
        "هي",
        "هم",
        "هما",
        "نحن",
        "أنا",
    ]
)
_KEY_PUNCT = re.compile(r"[^\w\s]+")


# --- names and keys ---------------------------------------------------------------------------


def sanitise_filename(name: str) -> str:
    """The original file name, kept only as data: no path parts, NUL, controls or bidi marks."""
    name = _BIDI_AND_CONTROLS.sub("", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return name[:200] or "upload"


def registry_key(name: str) -> str:
    """Normalised name used to match outlets and named sources (unique per project)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = " ".join(_KEY_PUNCT.sub(" ", text).split())
    if text.startswith("the "):
        text = text[4:]
    return text[:200]


def document_sha(doc: SourceDoc) -> str:
    digest = hashlib.sha256(doc.format.encode())
    digest.update(b"\x00")
    digest.update(doc.text.encode("utf-8", errors="surrogatepass"))
    return digest.hexdigest()


def _article_key(doc_sha: str, article: ArticleUnit, text: str) -> str:
    """The article's dedup key: the pipeline's content hash, unless the article has no
    claim-bearing text (then every such article would collide): hash its whole span instead."""
    if article.content_hash != EMPTY_HASH:
        return article.content_hash
    body = text[article.start : article.end].strip()
    if body:
        return hashlib.sha256(("span\x00" + " ".join(body.split())).encode()).hexdigest()
    return hashlib.sha256(f"empty\x00{doc_sha}\x00{article.start}".encode()).hexdigest()


def _iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# --- suggestions --------------------------------------------------------------------------------


def suggestion_registry(project: Project) -> dict[str, str]:
    """Names → source_type from the project's outlet and named-source registry."""
    registry: dict[str, str] = {}
    for name, kind in Outlet.objects.filter(project=project).values_list("name", "kind"):
        if kind in OUTLET_SOURCE_TYPE:
            registry[name] = OUTLET_SOURCE_TYPE[kind]
    for name, source_type in (
        NamedSource.objects.filter(project=project)
        .exclude(source_type="")
        .values_list("name", "source_type")
    ):
        registry[name] = source_type
    return registry


def _suggester() -> Callable[..., Any] | None:
    try:
        from ..suggest import suggest_labels
    except ImportError:  # the suggestion module is optional
        return None
    return suggest_labels


def suggestion_for(
    suggest: Callable[..., Any] | None, text: str, language: str, registry: dict[str, str]
) -> dict[str, Any] | None:
    if suggest is None:
        return None
    try:
        return suggest(text, language, registry=registry or None).to_dict()
    except Exception:  # a detector bug must not block an import; the claim just has none
        log.exception("suggestion failed for a unit of %d characters", len(text))
        return None


# --- import -----------------------------------------------------------------------------------


def _limits() -> Limits:
    return Limits(max_uncompressed_bytes=settings.MAX_ZIP_UNCOMPRESSED_BYTES)


def _summary(name: str) -> dict[str, Any]:
    return {
        "file": name,
        "documents": 0,
        "articles": 0,
        "duplicates": 0,
        "claims": 0,
        "skipped": False,
        "errors": [],
        "document_ids": [],
    }


def ingest_errors(exc: IngestError) -> list[dict[str, Any]]:
    """Per-line errors when the pipeline gave them, else the one error."""
    items = exc.errors or (exc,)
    return [
        {"file": e.filename, "line": e.line, "byte": e.byte, "message": e.message} for e in items
    ]


def segment_upload(filename: str, data: bytes) -> list[SourceDoc]:
    """Validate and segment an upload (raises IngestError)."""
    return segment_file(filename, data, max_bytes=settings.MAX_UPLOAD_BYTES, limits=_limits())


def import_file(
    *,
    project: Project,
    filename: str,
    data: bytes,
    user: Any = None,
    progress: ProgressCb = None,
    job: Job | None = None,
    fill: str = "job",
) -> dict[str, Any]:
    """Import one file (txt, html, jsonl or zip) into the project; returns its summary.

    Bad input is reported in ``errors`` (file, line, byte, message) and stores nothing.
    ``fill``: how the new claims get their label suggestions: ``"job"`` queues a
    ``suggest_fill`` job with the import's commit, ``"now"`` fills them before returning,
    ``"none"`` leaves them for a later fill."""
    name = sanitise_filename(filename)
    summary = _summary(name)
    report = progress or (lambda fraction, message="": None)
    report(0.0, f"{name}: segmenting")
    try:
        docs = segment_upload(name, data)
    except IngestError as exc:
        summary["errors"] = ingest_errors(exc)
        return summary
    report(0.3, f"{name}: storing")
    for attempt in range(3):
        try:
            summary = _store(project, name, docs, summary, user, job, report, fill)
            break
        except IntegrityError:
            # A concurrent import stored some of the same documents or articles first; the
            # transaction rolled back, so start again: what is there now is skipped.
            if attempt == 2:
                raise
            summary = _summary(name)
    if fill == "now" and summary["claims"]:
        from .suggest_fill import suggestions_fill

        suggestions_fill(project=project, document_ids=summary["document_ids"])
    return summary


def _store(
    project: Project,
    name: str,
    docs: list[SourceDoc],
    summary: dict[str, Any],
    user: Any,
    job: Job | None,
    report: Callable[..., None],
    fill: str = "job",
) -> dict[str, Any]:
    shas = [document_sha(d) for d in docs]
    known = set(
        Document.objects.filter(project=project, sha256__in=set(shas)).values_list(
            "sha256", flat=True
        )
    )
    todo: list[tuple[SourceDoc, str]] = []
    for doc, sha in zip(docs, shas, strict=True):
        if sha in known:
            continue
        known.add(sha)
        todo.append((doc, sha))
    if not todo:
        summary["skipped"] = True
        summary["document_ids"] = list(
            Document.objects.filter(project=project, sha256__in=set(shas))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        report(1.0, f"{name}: already imported")
        return summary

    keyed: list[tuple[int, ArticleUnit, str]] = []  # (doc index in todo, article, key)
    for index, (doc, sha) in enumerate(todo):
        for article in doc.articles:
            keyed.append((index, article, _article_key(sha, article, doc.text)))

    report(0.7, f"{name}: writing")
    with transaction.atomic():
        defer_text_index_merge()
        summary = _write(project, name, todo, keyed, summary, user, job, report)
        if fill == "job" and summary["claims"]:
            from .suggest_fill import followup_job_create, suggest_fill_job_create

            if project.suggestions != Project.Suggestions.OFF:
                # fills the suggestions, then merges the text indexes
                suggest_fill_job_create(
                    project=project, user=user, document_ids=summary["document_ids"]
                )
            else:
                followup_job_create(kind="index_merge", project=project, user=user)
    report(1.0, f"{name}: done")
    return summary


# --- the claims' text indexes -----------------------------------------------------------------

# The claim table's full-text and trigram indexes (GIN, migration 0002) were most of the database
# work of an import: each insert flushed GIN's pending list into the index every 4 MB. Inside an
# import (and a suggestion fill) the list may grow to this size instead; the follow-up job merges
# it once the rows are committed (gin_clean_pending_list, in larger, cheaper batches). Rows in the
# pending list are already indexed: searches read the list too.
PENDING_LIST_LIMIT = "1GB"


def defer_text_index_merge() -> None:
    """Let this transaction's inserts and updates of claims leave their text-index entries in the
    GIN pending lists (see PENDING_LIST_LIMIT); call inside the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL gin_pending_list_limit = '{PENDING_LIST_LIMIT}'")


def text_indexes_merge() -> dict[str, int]:
    """Merge the pending lists of the claim table's GIN indexes into the indexes; pages merged per
    index. Needs the table's owner (as for VACUUM); without that, autovacuum does it later."""
    if connection.vendor != "postgresql":
        return {}
    merged: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = %s::regclass AND a.amname = 'gin'"
            " ORDER BY 1",
            [Claim._meta.db_table],
        )
        for (name,) in cursor.fetchall():
            try:
                with transaction.atomic():
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
                    merged[name] = int(cursor.fetchone()[0])
            except DatabaseError:
                log.warning("could not merge the pending list of %s (not the owner?)", name)
    return merged


@register("index_merge")
def run_index_merge(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """The follow-up of an import into a project without suggestions (the fill job merges
    otherwise): merge the claims' text-index pending lists."""
    return {"merged": text_indexes_merge()}


def _existing_articles(project: Project, keys: Iterable[str]) -> dict[str, int]:
    keys = list(keys)
    found: dict[str, int] = {}
    for i in range(0, len(keys), BATCH):
        found.update(
            Article.objects.filter(project=project, content_hash__in=keys[i : i + BATCH])
            .values_list("content_hash", "pk")
            .iterator()
        )
    return found


def _outlets(project: Project, names: Iterable[str]) -> dict[str, int]:
    """Outlet ids by key, creating the missing ones."""
    wanted: dict[str, str] = {}
    for name in names:
        key = registry_key(name)
        if key and key not in wanted:
            wanted[key] = name.strip()[:200]
    if not wanted:
        return {}
    have = dict(
        Outlet.objects.filter(project=project, key__in=list(wanted)).values_list("key", "pk")
    )
    missing = [Outlet(project=project, key=k, name=n) for k, n in wanted.items() if k not in have]
    if missing:
        Outlet.objects.bulk_create(missing, ignore_conflicts=True)
        have = dict(
            Outlet.objects.filter(project=project, key__in=list(wanted)).values_list("key", "pk")
        )
    return have


def _write(
    project: Project,
    name: str,
    todo: list[tuple[SourceDoc, str]],
    keyed: list[tuple[int, ArticleUnit, str]],
    summary: dict[str, Any],
    user: Any,
    job: Job | None,
    report: Callable[..., None],
) -> dict[str, Any]:
    uploader = user if user is not None and getattr(user, "is_authenticated", False) else None
    # Plan first (which units are new articles, each document's counts), so every row is
    # written once: documents carry their stats from the start.
    existing = _existing_articles(project, {k for _, _, k in keyed})
    per_doc: list[Counter[str]] = [Counter() for _ in todo]
    fresh_units: list[tuple[int, int, ArticleUnit, str]] = []  # doc index, position, unit, key
    taken: set[str] = set(existing)
    positions: Counter[int] = Counter()
    for index, article, key in keyed:
        per_doc[index]["articles"] += 1
        doc_position = positions[index]
        positions[index] += 1
        if key in taken:
            summary["duplicates"] += 1
            per_doc[index]["duplicates"] += 1
            continue
        taken.add(key)
        fresh_units.append((index, doc_position, article, key))
        per_doc[index]["claims"] += len(article.sentences)

    documents = [
        Document(
            project=project,
            name=doc.name[:255],
            format=doc.format[:16],
            sha256=sha,
            size=len(doc.text.encode("utf-8", errors="surrogatepass")),
            text=doc.text,
            url=_doc_url(doc),
            uploaded_by=uploader,
            job=job,
            stats=dict(counts),
        )
        for (doc, sha), counts in zip(todo, per_doc, strict=True)
    ]
    _insert(documents)
    summary["documents"] = len(documents)
    summary["document_ids"] = [d.pk for d in documents]

    outlet_ids = _outlets(project, (a.outlet for _, _, a, _ in fresh_units if a.outlet))
    articles: list[Article] = []
    for index, doc_position, article, key in fresh_units:
        outlet_name = (article.outlet or "").strip()
        articles.append(
            Article(
                project=project,
                document=documents[index],
                position=doc_position,
                start=article.start,
                end=article.end,
                title=article.title[:1000],
                outlet_id=outlet_ids.get(registry_key(outlet_name)) if outlet_name else None,
                outlet_name=outlet_name[:200],
                byline=(article.byline or "")[:300],
                published=_iso_date(article.published),
                language=(article.language or "")[:12],
                content_hash=key,
            )
        )
    _insert(articles)
    summary["articles"] = len(articles)

    # Every place an article was found; the documents are new, so only a repeat inside this
    # file could collide with the unique (article, document, start).
    article_id: dict[str, int] = {**existing, **{a.content_hash: int(a.pk) for a in articles}}
    places: dict[tuple[int, int, int], ArticleProvenance] = {}
    for index, article, key in keyed:
        place = (article_id[key], index, article.start)
        if place not in places:
            places[place] = ArticleProvenance(
                article_id=place[0], document=documents[index], start=article.start, end=article.end
            )
    _insert(list(places.values()))

    # Claims of the new articles, in bulk, then their queue items.
    rows: list[ClaimRow] = []
    for (index, _position, article, _key), row in zip(fresh_units, articles, strict=True):
        text = todo[index][0].text
        for position, unit in enumerate(article.sentences):
            rows.append(
                (
                    int(row.pk),
                    position,
                    unit.start,
                    unit.end,
                    text[unit.start : unit.end],
                    (unit.language or "")[:12],
                    unit.unit_kind,
                    unit.unit_defect,
                    float(unit.claim_likelihood),
                )
            )
    total = len(rows) or 1
    for i in range(0, len(rows), BATCH):
        batch = rows[i : i + BATCH]
        if connection.vendor == "postgresql":
            # COPY straight from tuples: no model instances (they were most of the time here)
            ids = _copy_claims(project, batch)
            _copy_claim_items(project, zip(ids, (row[8] for row in batch), strict=True))
        else:
            claims = [_claim(project, row) for row in batch]
            Claim.objects.bulk_create(claims, batch_size=BATCH)
            items_create_for_claims(project=project, claims=claims, fresh=True)
        report(0.7 + 0.3 * (i + len(batch)) / total, f"{name}: writing claims")
    summary["claims"] = len(rows)
    return summary


def _insert(objs: Sequence[Model]) -> None:
    """bulk_create; on PostgreSQL with COPY (ids drawn from the sequence in one query, set on
    the objects): the ORM's multi-row INSERT of tens of thousands of rows was most of a large
    import's time. A unique violation raises IntegrityError as bulk_create would."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    fields = model._meta.concrete_fields
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    # Attribute values go to COPY as they are (psycopg adapts them): Field.get_db_prep_save per
    # value cost ~30 µs, a third of the write. JSON needs its adapter; created_at is one `now`.
    now = timezone.now()
    values: list[Callable[[Any], Any]] = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
        if isinstance(f, JSONField):
            values.append(partial(_json_value, f))
        else:
            values.append(attrgetter(f.attname))
    with connection.wrap_database_errors, connection.cursor() as cursor:
        ids = _next_ids(cursor, model._meta.db_table, len(objs))
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for pk, obj in zip(ids, objs, strict=True):
                obj.pk = pk
                copy.write_row([value(obj) for value in values])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _next_ids(cursor: Any, table: str, n: int) -> list[int]:
    """n ids drawn from the table's id sequence in one query (rows COPY'd with them)."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
    )
    return [row[0] for row in cursor.fetchall()]


def _json_value(field: JSONField, obj: Model) -> Any:
    return field.get_db_prep_save(getattr(obj, field.attname), connection)


# article_id, position, start, end, text, language, unit_kind, unit_defect, claim_likelihood
ClaimRow = tuple[int, int, int, int, str, str, str, str, float]


def _claim(project: Project, row: ClaimRow) -> Claim:
    article_id, position, start, end, text, language, kind, defect, likelihood = row
    return Claim(
        project=project,
        article_id=article_id,
        position=position,
        start=start,
        end=end,
        text=text,
        language=language,
        unit_kind=kind,
        unit_defect=defect,
        claim_likelihood=likelihood,
        suggestion=None,
    )


def _copy_claims(project: Project, rows: list[ClaimRow]) -> list[int]:
    """COPY new claims (suggestion NULL) with ids drawn from the sequence; their ids, in order."""
    table = Claim._meta.db_table
    columns = [
        "id", "project_id", "article_id", "position", "start", "end", "text", "language",
        "unit_kind", "unit_defect", "claim_likelihood", "created_at",
    ]  # fmt: skip
    now = timezone.now()
    project_id = project.pk
    with connection.cursor() as cursor:
        ids = _next_ids(cursor, table, len(rows))
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
        ) as copy:
            write = copy.write_row
            for pk, row in zip(ids, rows, strict=True):
                write((pk, project_id, *row, now))
    return ids


def _copy_claim_items(project: Project, claims: Iterable[tuple[int, float]]) -> None:
    """COPY the queue items of claims just inserted in this transaction (none can have one):
    the rows items.items_create_for_claims(fresh=True) writes, without model instances."""
    columns = [
        "project_id", "kind", "claim_id", "k", "n_done", "n_leased", "status", "order_key",
        "uncertainty", "is_gold", "version", "created_at",
    ]  # fmt: skip
    now = timezone.now()
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(Item._meta.db_table)
    project_id, kind, k = project.pk, Item.Kind.CLAIM.value, project.overlap
    opened, excluded = Item.Status.OPEN.value, Item.Status.EXCLUDED.value
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        write = copy.write_row
        for claim_id, likelihood in claims:
            status = opened if claim_is_queued(project, likelihood) else excluded
            order_key = order_key_for(project, "claim", claim_id)
            write((project_id, kind, claim_id, k, 0, 0, status, order_key, 0.0, False, 0, now))


def _pk(value: Article | int) -> int:
    return value if isinstance(value, int) else int(value.pk)


def _doc_url(doc: SourceDoc) -> str:
    for article in doc.articles:
        if article.url and article.url.startswith(("http://", "https://")):
            return article.url[:2000]
    return ""


_MENTIONS_SQL = (  # NamedSource._meta.db_table
    "UPDATE annotations_namedsource AS n SET mentions = n.mentions + v.n"
    " FROM jsonb_to_recordset(%s::jsonb) AS v(key text, n integer)"
    " WHERE n.project_id = %s AND n.key = v.key"
)


def count_named_sources(
    project: Project, suggested: Iterable[tuple[str, dict[str, Any] | None]]
) -> None:
    """Count named sources (from the suggestions' source spans) into the registry;
    ``suggested`` holds (claim text, suggestion) pairs."""
    counts: Counter[str] = Counter()
    names: dict[str, tuple[str, str]] = {}
    for text, suggestion in suggested:
        labels = (suggestion or {}).get("labels") or {}
        span = labels.get("source_span")
        if labels.get("source_named") != "yes" or not span or len(span) != 2:
            continue
        surface = text[span[0] : span[1]].strip()
        key = registry_key(surface)
        if len(key) < 3 or key in _PRONOUNS or len(surface) > 200:
            continue
        counts[key] += 1
        names.setdefault(key, (surface, str(labels.get("source_type") or "")[:32]))
    if not counts:
        return
    keys = list(counts)
    have = set(
        NamedSource.objects.filter(project=project, key__in=keys).values_list("key", flat=True)
    )
    NamedSource.objects.bulk_create(
        [
            NamedSource(project=project, key=k, name=names[k][0], source_type="", mentions=0)
            for k in keys
            if k not in have
        ],
        ignore_conflicts=True,
    )
    # source_type stays empty: it is filled in by a reviewer, not by the detector's guess.
    if connection.vendor == "postgresql":  # one statement, the counts as one JSON parameter
        with connection.cursor() as cursor:
            cursor.execute(
                _MENTIONS_SQL,
                [json.dumps([{"key": k, "n": n} for k, n in counts.items()]), project.pk],
            )
        return
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        NamedSource.objects.filter(project=project, key__in=chunk).update(
            mentions=F("mentions")
            + Case(
                *[When(key=k, then=Value(counts[k])) for k in chunk],
                default=Value(0),
                output_field=IntegerField(),
            )
        )


def import_paths(*, project: Project, paths: Sequence[str | Path], user: Any = None) -> dict:
    """Import files from disk (commands and the demo seed); one summary per file. The label
    suggestions are filled before returning (no job)."""
    files = []
    for path in paths:
        path = Path(path)
        files.append(
            import_file(
                project=project, filename=path.name, data=path.read_bytes(), user=user, fill="now"
            )
        )
    return _totals(files)


def _totals(files: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {
        k: sum(f[k] for f in files) for k in ("documents", "articles", "duplicates", "claims")
    }
    return {**totals, "errors": sum(len(f["errors"]) for f in files), "files": files}


# --- uploads and the job runner -------------------------------------------------------------


def upload_dir(job_id: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / str(job_id)


def import_job_create(*, project: Project, user: Any, files: Sequence[tuple[str, bytes]]) -> Job:
    """Save uploaded files under MEDIA_ROOT/uploads/<job id>/ (generated names; the original
    name is kept only as data) and queue one import job for them (runs after commit)."""
    from .jobs import job_create

    with transaction.atomic():
        job = job_create(kind="import", project=project, user=user)
        folder = upload_dir(job.pk)
        folder.mkdir(parents=True, exist_ok=True)
        saved: list[dict[str, Any]] = []
        for original, data in files:
            stored = f"{uuid.uuid4().hex}.upload"
            (folder / stored).write_bytes(data)
            saved.append({"name": sanitise_filename(original), "stored": stored, "size": len(data)})
        job.params = {"files": saved}
        job.message = ", ".join(str(f["name"]) for f in saved)[:300]
        job.save(update_fields=["params", "message"])
    return job


@register("import")
def run_import(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """Import the job's uploaded files one by one; per-file results in the job result."""
    if job.project is None:
        raise JobError("An import job needs a project.")
    entries = list(job.params.get("files") or [])
    folder = upload_dir(job.pk)
    results: list[dict[str, Any]] = []
    for n, entry in enumerate(entries):
        stored = Path(str(entry.get("stored", ""))).name
        name = sanitise_filename(str(entry.get("name", stored)))
        path = folder / stored
        if not stored or not path.is_file():
            raise JobError(f"{name}: the uploaded file is no longer available; upload it again.")

        def step(fraction: float, message: str = "", n: int = n) -> None:
            progress((n + fraction) / max(1, len(entries)), message)

        results.append(
            import_file(
                project=job.project,
                filename=name,
                data=path.read_bytes(),
                user=job.created_by,
                progress=step,
                job=job,
            )
        )
    for entry in entries:
        (folder / Path(str(entry.get("stored", "x"))).name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()
    _pairs_after_import(job, results)
    return _totals(results)


def _pairs_after_import(job: Job, results: list[dict[str, Any]]) -> None:
    """New claims get cross-source candidates incrementally, as a follow-up job. Only with a
    real worker: in-process (the embedded default) the sentence encoder would hold up the
    upload request, so there an admin starts pairing from the events page or `pair SLUG`."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.WORKBENCH_AUTO_PAIR:
        return
    if job.project is None or not any(r.get("claims") for r in results):
        return
    from .pairs import pairs_job_create

    pairs_job_create(project=job.project, user=job.created_by)


# --- upload validation (before anything is stored) ------------------------------------------

# Files up to this size are segmented completely when uploaded, so every error (including a
# bad JSONL line) is reported at once; larger ones get the cheap checks here and the rest in
# their job's result (which still stores nothing from a bad file).
FULL_CHECK_BYTES = 4 * 1024 * 1024


def upload_validate(*, filename: str, data: bytes) -> None:
    """Raise IngestError (naming the file and line/byte) for an upload that cannot be imported."""
    name = sanitise_filename(filename)
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise IngestError(
            name, f"file is {len(data)} bytes; the limit is {settings.MAX_UPLOAD_BYTES}"
        )
    if len(data) <= FULL_CHECK_BYTES:
        segment_upload(name, data)
        return
    from ..ingest import decode_bytes, detect_format
    from ..ingest.archive import read_zip

    if detect_format(name, data) == "zip":
        for member, content in read_zip(name, data, _limits()):
            where = f"{name}/{member}"
            detect_format(where, content)
            decode_bytes(content, where)
    else:
        decode_bytes(data, name)


# The suggest_fill runner registers itself on import; jobs._load_runners imports this module.
from . import suggest_fill as _suggest_fill  # noqa: E402, F401
