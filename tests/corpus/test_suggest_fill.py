"""Label suggestions filled by a job after the import commits (services/suggest_fill.py)."""

from __future__ import annotations

import time

import pytest

from annotations.ingest.types import CLAIM_KINDS
from annotations.models import Claim, Job, NamedSource, Outlet, Project
from annotations.services.imports import (
    import_file,
    import_job_create,
    suggestion_registry,
    text_indexes_merge,
)
from annotations.services.jobs import job_run
from annotations.services.suggest_fill import suggestions_fill
from annotations.suggest import suggest_labels

from .helpers import ARTICLE_EN, ARTICLE_EN_2, SAMPLE

pytestmark = pytest.mark.django_db


def claim_bearing(project: Project):
    return Claim.objects.filter(project=project, unit_kind__in=sorted(CLAIM_KINDS))


def test_import_stores_claims_without_suggestions_and_queues_one_fill_job(project):
    summary = import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes())
    assert summary["claims"] > 400
    assert not Claim.objects.filter(project=project, suggestion__isnull=False).exists()
    (job,) = Job.objects.filter(project=project, kind="suggest_fill")
    assert job.state == "queued"
    assert job.params == {"document_ids": summary["document_ids"]}


def test_fill_equals_the_rules_for_every_claim_bearing_unit_and_nothing_else(project):
    Outlet.objects.create(project=project, key="sana", name="SANA", kind=Outlet.Kind.STATE_MEDIA)
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    registry = suggestion_registry(project)
    result = suggestions_fill(project=project, batch_size=97)  # several batches
    bearing = list(claim_bearing(project))
    assert result["filled"] == result["claims"] == len(bearing) > 300
    for claim in bearing:
        expected = suggest_labels(claim.text, claim.language, registry=registry).to_dict()
        assert claim.suggestion == expected
    others = Claim.objects.filter(project=project).exclude(unit_kind__in=sorted(CLAIM_KINDS))
    assert others.exists() and not others.filter(suggestion__isnull=False).exists()


def test_fill_is_idempotent_and_counts_each_named_source_once(project):
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    suggestions_fill(project=project)
    mentions = dict(NamedSource.objects.filter(project=project).values_list("key", "mentions"))
    assert sum(mentions.values()) > 0
    stored = dict(claim_bearing(project).values_list("pk", "suggestion"))
    again = suggestions_fill(project=project)
    assert again["filled"] == again["claims"] == 0
    assert dict(NamedSource.objects.filter(project=project).values_list("key", "mentions")) == (
        mentions
    )
    assert dict(claim_bearing(project).values_list("pk", "suggestion")) == stored


def test_a_claim_filled_meanwhile_is_not_overwritten_nor_counted(project):
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    first = claim_bearing(project).order_by("pk").first()
    manual = {"labels": {"verifiability": "opinion"}, "confidence": {}, "source": "model"}
    Claim.objects.filter(pk=first.pk).update(suggestion=manual)
    result = suggestions_fill(project=project)
    assert result["filled"] == claim_bearing(project).count() - 1
    first.refresh_from_db()
    assert first.suggestion == manual


def test_fill_limited_to_documents_leaves_the_others(project):
    a = import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode(), fill="none")
    b = import_file(project=project, filename="b.txt", data=ARTICLE_EN_2.encode(), fill="none")
    suggestions_fill(project=project, document_ids=a["document_ids"])
    in_a = claim_bearing(project).filter(article__document_id__in=a["document_ids"])
    in_b = claim_bearing(project).filter(article__document_id__in=b["document_ids"])
    assert in_a.count() == 3 and in_b.count() == 2
    assert not in_a.filter(suggestion__isnull=True).exists()
    assert not in_b.filter(suggestion__isnull=False).exists()


def test_suggestions_off_queue_no_job_and_fill_does_nothing(project):
    Project.objects.filter(pk=project.pk).update(suggestions=Project.Suggestions.OFF)
    project.refresh_from_db()
    import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    assert not Job.objects.filter(project=project, kind="suggest_fill").exists()
    assert suggestions_fill(project=project)["filled"] == 0
    assert not Claim.objects.filter(project=project, suggestion__isnull=False).exists()


def test_the_queued_job_runs_after_the_import_commits(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_file(project=project, filename="a.txt", data=ARTICLE_EN.encode())
    job = Job.objects.get(project=project, kind="suggest_fill")  # ran at commit (eager Celery)
    assert job.state == "done", job.error
    assert job.result["filled"] == claim_bearing(project).count() > 0
    assert not claim_bearing(project).filter(suggestion__isnull=True).exists()
    job_run(job_id=str(job.pk))  # a finished job is left alone
    job.refresh_from_db()
    assert job.attempts == 1


def test_fill_job_without_project_fails_cleanly(db):
    job = Job.objects.create(kind="suggest_fill", params={})
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "failed" and "project" in job.error


@pytest.mark.postgres
@pytest.mark.services
def test_import_then_fill_through_a_real_worker(live_worker, project, admin):
    job = import_job_create(project=project, user=admin, files=[("s.txt", SAMPLE.read_bytes())])
    deadline = time.monotonic() + 180
    fill = None
    while time.monotonic() < deadline:
        fill = Job.objects.filter(project=project, kind="suggest_fill").first()
        if fill is not None and fill.finished:
            break
        time.sleep(0.3)
    job.refresh_from_db()
    assert job.state == "done", job.error
    assert fill is not None and fill.state == "done", fill and fill.error
    bearing = claim_bearing(project)
    assert fill.result["filled"] == bearing.count() > 300
    assert not bearing.filter(suggestion__isnull=True).exists()
    assert NamedSource.objects.filter(project=project, mentions__gt=0).exists()


@pytest.mark.postgres
def test_import_leaves_text_index_entries_pending_and_the_follow_up_merges_them(project):
    Project.objects.filter(pk=project.pk).update(suggestions=Project.Suggestions.OFF)
    project.refresh_from_db()
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes())
    (job,) = Job.objects.filter(project=project, kind="index_merge")
    assert not Job.objects.filter(project=project, kind="suggest_fill").exists()
    # searchable before the merge: GIN reads its pending list too
    hit = claim_bearing(project).order_by("pk").first()
    word = max(hit.text.split(), key=len)
    assert Claim.objects.filter(project=project, text__icontains=word).exists()
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "done", job.error
    merged = job.result["merged"]
    assert "claim_text_fts" in merged  # and claim_text_trgm where pg_trgm is installed
    assert all(pages > 0 for pages in merged.values())  # the import left them pending
    assert set(text_indexes_merge().values()) == {0}  # nothing left
    assert Claim.objects.filter(project=project, text__icontains=word).exists()


@pytest.mark.postgres
def test_fill_merges_the_pending_text_index_entries(project):
    import_file(project=project, filename="a.txt", data=SAMPLE.read_bytes(), fill="none")
    result = suggestions_fill(project=project)
    assert result["filled"] > 300
    assert result["merged"] and all(pages > 0 for pages in result["merged"].values())
