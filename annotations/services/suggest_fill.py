"""Label suggestions for imported claims, filled in after the import has committed.

An import stores claims with ``suggestion`` NULL and queues one ``suggest_fill`` job for the
documents it stored (in the import's transaction, so the job exists exactly when the claims do).
The job computes the rules' suggestion (:func:`annotations.suggest.suggest_labels`) for the
claim-bearing units that have none and writes them in batches, each batch in its own
transaction: one ``UPDATE ... FROM unnest(...)`` on PostgreSQL. Only rows still NULL are
written (``RETURNING`` tells which), and the named sources found in exactly those rows are
counted into the registry in the same transaction, so a killed and re-run job, or two fill jobs
over the same claims, neither recompute what is stored nor count a mention twice.

The fill is also the import's index follow-up: its updates, like the import's inserts, leave the
claims' text-index entries in the GIN pending lists (imports.defer_text_index_merge), and it
merges those lists into the indexes when it is done (imports.text_indexes_merge).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, transaction

from ..ingest.types import CLAIM_KINDS
from ..models import Claim, Job, Project
from .imports import (
    _suggester,
    count_named_sources,
    defer_text_index_merge,
    suggestion_for,
    suggestion_registry,
    text_indexes_merge,
)
from .jobs import JobError, ProgressFn, register

FILL_BATCH = 2000


def suggestions_fill(
    *,
    project: Project,
    document_ids: Sequence[int] | None = None,
    progress: Callable[..., None] | None = None,
    batch_size: int = FILL_BATCH,
) -> dict[str, Any]:
    """Fill ``Claim.suggestion`` for the project's claim-bearing claims that have none (only
    those of ``document_ids`` when given), then merge the text indexes' pending lists; returns
    ``{"claims", "filled", "seconds", "merged"}``.

    Idempotent; fills nothing when the project's suggestions are off."""
    started = time.perf_counter()
    result: dict[str, Any] = {"claims": 0, "filled": 0, "seconds": 0.0}
    suggest = _suggester()
    if project.suggestions == Project.Suggestions.OFF:
        result["skipped"] = "suggestions are off"
    elif suggest is None:
        result["skipped"] = "the suggestion module is not installed"
    else:
        _fill(project, document_ids, suggest, progress, batch_size, result)
    result["merged"] = text_indexes_merge()
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _fill(
    project: Project,
    document_ids: Sequence[int] | None,
    suggest: Callable[..., Any],
    progress: Callable[..., None] | None,
    batch_size: int,
    result: dict[str, Any],
) -> None:
    report = progress or (lambda fraction, message="": None)
    registry = suggestion_registry(project)
    todo = Claim.objects.filter(
        project=project, suggestion__isnull=True, unit_kind__in=sorted(CLAIM_KINDS)
    )
    if document_ids is not None:
        todo = todo.filter(article__document_id__in=list(document_ids))
    total = todo.count()
    last = 0
    seen = 0
    while True:
        rows = list(
            todo.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "text", "language")[:batch_size]
        )
        if not rows:
            break
        last = rows[-1][0]
        values: list[tuple[int, str, dict[str, Any]]] = []
        for pk, text, language in rows:
            value = suggestion_for(suggest, text, language, registry)
            if value is not None:
                values.append((pk, text, value))
        with transaction.atomic():
            defer_text_index_merge()
            written = _write_suggestions(values)
            count_named_sources(project, ((t, v) for pk, t, v in values if pk in written))
        result["filled"] += len(written)
        seen += len(rows)
        result["claims"] = seen
        report(min(1.0, seen / max(1, total)), f"suggestions: {seen} of {total} claims")


def _write_suggestions(values: Iterable[tuple[int, str, dict[str, Any]]]) -> set[int]:
    """Set the suggestions of claims that still have none; the ids actually written."""
    values = list(values)
    if not values:
        return set()
    table = connection.ops.quote_name(Claim._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # one JSON document for the batch: a single parameter to send, not two arrays
            # quoted element by element
            cursor.execute(
                f"UPDATE {table} AS c SET suggestion = v.s"  # noqa: S608 - model table
                " FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, s jsonb)"
                " WHERE c.id = v.id AND c.suggestion IS NULL RETURNING c.id",
                [json.dumps([{"id": pk, "s": v} for pk, _, v in values])],
            )
            return {row[0] for row in cursor.fetchall()}
    written: set[int] = set()
    for pk, _, value in values:
        if Claim.objects.filter(pk=pk, suggestion__isnull=True).update(suggestion=value):
            written.add(pk)
    return written


def suggest_fill_job_create(
    *, project: Project, user: Any = None, document_ids: Sequence[int] | None = None
) -> Job:
    """Queue a fill job (runs after the surrounding transaction commits).

    Called from a job running in a worker (an import), the task goes to the queue that worker
    took its job from, not to Celery's default queue: a worker consuming a named queue (the
    benchmarks, the worker tests) would otherwise never see it, and a worker of another
    database on the same Redis DB could take it and drop it (no such job row there)."""
    params = {} if document_ids is None else {"document_ids": [int(i) for i in document_ids]}
    return followup_job_create(kind="suggest_fill", project=project, user=user, params=params)


def followup_job_create(
    *, kind: str, project: Project, user: Any = None, params: dict[str, Any] | None = None
) -> Job:
    """Queue a job of ``kind`` that runs after the surrounding transaction commits, on the
    queue of the worker job that queues it (see suggest_fill_job_create)."""
    from ..tasks import run_job
    from .jobs import job_create

    queue = _worker_queue()
    if queue is None:
        return job_create(kind=kind, project=project, user=user, params=params or {})
    job = Job.objects.create(
        kind=kind,
        project=project,
        created_by=user if user is not None and user.is_authenticated else None,
        params=params or {},
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: run_job.apply_async([job_id], queue=queue))
    return job


def _worker_queue() -> str | None:
    """The queue of the Celery task this process is running, if any (not when eager)."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return None
    info = getattr(request, "delivery_info", None) or {}
    queue = info.get("routing_key")
    return queue if isinstance(queue, str) and queue else None


@register("suggest_fill")
def run_suggest_fill(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """Fill the suggestions of the job's documents (or of the whole project)."""
    if job.project is None:
        raise JobError("A suggestion job needs a project.")
    ids = job.params.get("document_ids")
    if ids is not None and not isinstance(ids, list):
        raise JobError("document_ids must be a list.")
    return suggestions_fill(
        project=job.project,
        document_ids=None if ids is None else [int(i) for i in ids],
        progress=progress,
    )
