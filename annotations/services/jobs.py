"""Background jobs: create a Job row, enqueue its task after commit, report progress.

Each job kind maps to a runner: a plain function `runner(job, progress) -> result` where
`progress(fraction, message="")` records progress. Runners must be idempotent: a worker killed
mid-run (acks_late) runs the job again from the start, so they write atomically.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..models import Job, Project

log = logging.getLogger(__name__)

ProgressFn = Callable[..., None]
Runner = Callable[[Job, ProgressFn], Any]
_RUNNERS: dict[str, Runner] = {}
# First key of the jobs' advisory locks (the second is a hash of the job id).
JOB_LOCK_CLASS = 0x4A0B


class JobError(Exception):
    """A job failed for a reason the user should read (bad input, not a bug)."""


def register(kind: str) -> Callable[[Runner], Runner]:
    def decorator(fn: Runner) -> Runner:
        _RUNNERS[kind] = fn
        return fn

    return decorator


def job_create(
    *,
    kind: str,
    project: Project | None = None,
    user: Any = None,
    params: dict[str, Any] | None = None,
) -> Job:
    """Create a queued job and enqueue it once the surrounding transaction commits."""
    from ..tasks import run_job

    if kind not in _RUNNERS:
        _load_runners()
    if kind not in _RUNNERS:
        raise ValueError(f"Unknown job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        project=project,
        created_by=user if user is not None and user.is_authenticated else None,
        params=params or {},
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: _enqueue(run_job, job_id))
    return job


def _enqueue(task: Any, job_id: str) -> None:
    """A job created by a running job goes to the queue its parent came from (a worker that
    serves a dedicated queue then runs the follow-up too); otherwise the default queue."""
    from celery import current_task

    queue = None
    request = getattr(current_task, "request", None) if current_task else None
    if request is not None and not getattr(request, "is_eager", True):
        queue = (getattr(request, "delivery_info", None) or {}).get("routing_key")
    if queue:
        task.apply_async([job_id], queue=queue)
    else:
        task.delay(job_id)


RESEND_AFTER_SECONDS = 120


def job_resend_if_stale(job: Job, *, after: int = RESEND_AFTER_SECONDS) -> bool:
    """Send a job that has sat in the queue state for `after` seconds to the broker again.

    Redis runs without persistence: a message still waiting when Redis restarts is gone and
    its job would stay queued for ever. Whoever looks at such a job (its progress bar polls,
    the jobs API, a worker starting) sends it again, at most once per `after` seconds per job.
    A copy of a job that did arrive is harmless: job_run leaves finished jobs alone and a copy
    of a running one waits for it (_job_lock). Returns whether it was sent."""
    from django.core.cache import cache

    from ..tasks import run_job

    if job.state != Job.State.QUEUED:
        return False
    if (timezone.now() - job.created_at).total_seconds() < after:
        return False
    if not cache.add(f"job-resent:{job.pk}", 1, after):
        return False
    log.warning("job %s (%s) still queued after %s s: sending it again", job.pk, job.kind, after)
    _enqueue(run_job, str(job.pk))
    return True


def jobs_resend_stale(*, after: int = RESEND_AFTER_SECONDS) -> int:
    """job_resend_if_stale for every stale queued job (called when a worker starts)."""
    cutoff = timezone.now() - timedelta(seconds=after)
    stale = Job.objects.filter(state=Job.State.QUEUED, created_at__lt=cutoff).order_by("created_at")
    return sum(job_resend_if_stale(job, after=after) for job in stale[:1000])


def _load_runners() -> None:
    # Runners register themselves on import; import the modules that define them.
    from importlib import import_module

    for module in (
        "imports",
        "suggest_fill",
        "pairs",
        "agreement_jobs",
        "exports",
        "suggestions",
    ):
        try:
            import_module(f"annotations.services.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"annotations.services.{module}":
                raise


def job_run(*, job_id: str) -> None:
    """Run a job (called by the Celery task). Idempotent: finished jobs are left alone, and a
    second delivery of a job that is still running waits for that run (see _job_lock)."""
    _load_runners()
    with _job_lock(job_id):
        _job_run(job_id)


@contextlib.contextmanager
def _job_lock(job_id: str) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock on the job for as long as it runs. The broker
    delivers a job again when its message stays unacknowledged past the visibility timeout
    (the worker died, or the job is just long); the copy waits here, then finds the job
    finished. If the worker holding the lock dies, PostgreSQL releases it with the connection
    and the copy runs the job from the start (runners are idempotent)."""
    if connection.vendor != "postgresql":
        yield
        return
    key: list[int | str] = [JOB_LOCK_CLASS, str(job_id)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s::int, hashtext(%s))", key)
    try:
        yield
    finally:
        if connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s::int, hashtext(%s))", key)


def _job_run(job_id: str) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return
        job.state = Job.State.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.progress = 0.0
        job.save(update_fields=["state", "started_at", "attempts", "progress"])

    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        now = time.monotonic()
        if fraction < 1.0 and now - last[0] < 0.25:
            return
        last[0] = now
        Job.objects.using(_progress_db()).filter(pk=job_id).update(
            progress=fraction, message=message[:300]
        )

    runner = _RUNNERS[job.kind]
    try:
        result = runner(job, progress)
    except JobError as exc:
        _finish(job_id, state=Job.State.FAILED, error=str(exc))
        return
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        _finish(
            job_id,
            state=Job.State.FAILED,
            error=f"Internal error: {type(exc).__name__}. See the server log.",
        )
        log.debug("%s", traceback.format_exc())
        return
    _finish(job_id, state=Job.State.DONE, result=result)


def _progress_db() -> str:
    from django.conf import settings

    return "progress" if "progress" in settings.DATABASES else "default"


def _finish(job_id: str, *, state: str, result: Any = None, error: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        state=state,
        progress=1.0 if state == Job.State.DONE else _current_progress(job_id),
        result=result,
        error=error,
        finished_at=timezone.now(),
    )


def _current_progress(job_id: str) -> float:
    value = Job.objects.filter(pk=job_id).values_list("progress", flat=True).first()
    return float(value or 0.0)


@register("sleep")
def _sleep_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """A harmless job for checking the worker: counts to `steps` with progress."""
    steps = max(1, min(int(job.params.get("steps", 5)), 100))
    delay = max(0.0, min(float(job.params.get("delay", 0.1)), 5.0))
    for i in range(steps):
        time.sleep(delay)
        progress((i + 1) / steps, f"step {i + 1} of {steps}")
    return {"steps": steps}
