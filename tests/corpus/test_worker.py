"""An import through a real Celery worker: the job goes to done with the rows committed."""

from __future__ import annotations

import time

import pytest

from annotations.models import Article, Claim, Document
from annotations.services.imports import import_job_create

from .helpers import SAMPLE


@pytest.mark.services
def test_import_job_runs_in_a_real_worker(live_worker, project, admin):
    job = import_job_create(
        project=project, user=admin, files=[("sample.txt", SAMPLE.read_bytes())]
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            break
        time.sleep(0.3)
    assert job.state == "done", job.error
    assert job.result["files"][0]["articles"] == 23
    assert Document.objects.filter(project=project, job=job).count() == 1
    assert Article.objects.filter(project=project).count() == 23
    assert Claim.objects.filter(project=project).count() == job.result["claims"] > 400
