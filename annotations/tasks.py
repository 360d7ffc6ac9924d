"""Thin Celery tasks: ids in, call a service."""

from __future__ import annotations

from celery import shared_task

from .services.jobs import job_run


@shared_task(name="annotations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> None:
    job_run(job_id=job_id)


@shared_task(name="annotations.progress_stats_refresh", ignore_result=True)
def progress_stats_refresh(project_id: int) -> None:
    from .models import Project
    from .services.progress import progress_stats_compute

    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        progress_stats_compute(project)
