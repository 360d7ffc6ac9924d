"""The pairs job through a real Celery worker: it reaches done with progress 1 and the
pairs, vectors and clusters committed."""

from __future__ import annotations

import time

import pytest

from annotations.models import ClaimEmbedding, ClaimPair, Item
from annotations.services.pairs import pairs_job_create

from .helpers import make_corpus


@pytest.mark.services
def test_pairs_job_runs_in_a_real_worker(live_worker, project, admin):
    make_corpus(project)
    job = pairs_job_create(project=project, user=admin)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            break
        time.sleep(0.5)
    assert job.state == "done", job.error
    assert job.progress == 1.0
    assert job.result["pairs_total"] == ClaimPair.objects.filter(project=project).count() > 0
    assert job.result["embedded"] == ClaimEmbedding.objects.count() == 8
    assert job.result["items_added"] == Item.objects.filter(project=project, kind="pair").count()
