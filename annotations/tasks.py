"""Thin Celery tasks: ids in, call a service."""

from __future__ import annotations

from celery import shared_task

from .services.jobs import job_run


@shared_task(name="annotations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> None:
    job_run(job_id=job_id)
