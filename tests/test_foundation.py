"""The foundation: health, settings, accounts and roles, commands, pages, jobs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from annotations.models import Job, Membership, Project, SchemaVersion
from annotations.services.jobs import job_create
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_broker(client, db, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "in-process")
    assert body["version"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_names_a_broker_that_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


@pytest.mark.postgres
def test_healthz_names_a_database_that_is_down(client):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = 1
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def _django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update({"WORKBENCH_TESTING": "0", "DEBUG": "0"})
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_secret_key_and_hosts():
    result = _django({}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ALLOWED_HOSTS" in result.stderr


def test_production_mode_passes_the_deploy_check():
    env = {
        "SECRET_KEY": "x" * 30 + "-production-key-for-the-deploy-check",
        "ALLOWED_HOSTS": "wb.example.org",
    }
    result = _django(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_workbench_user_command_creates_user_role_and_token(project, client, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    out = io.StringIO()
    call_command(
        "workbench_user",
        "create",
        "nadia",
        "--role",
        "reviewer",
        "--project",
        project.slug,
        "--password-stdin",
        "--print-token",
        stdout=out,
    )
    token = out.getvalue().strip().splitlines()[-1]
    assert len(token) == 40
    assert Membership.objects.get(user__username="nadia", project=project).role == "reviewer"
    assert client.login(username="nadia", password=PASSWORD)
    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == [project.slug]
    # Re-running updates, never duplicates.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command(
        "workbench_user",
        "create",
        "nadia",
        "--role",
        "annotator",
        "--project",
        project.slug,
        "--password-stdin",
        stdout=io.StringIO(),
    )
    assert Membership.objects.get(user__username="nadia").role == "annotator"


def test_user_without_password_cannot_log_in(db, client):
    call_command("workbench_user", "create", "nopw", "--role", "annotator", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="nopw")
    assert not user.has_usable_password()
    assert not client.login(username="nopw", password="")


def test_project_create_command_uses_default_schema(db):
    out = io.StringIO()
    call_command(
        "project", "create", "gamma", "--overlap", "3", "--lease-seconds", "120", stdout=out
    )
    project = Project.objects.get(slug="gamma")
    assert (project.overlap, project.lease_seconds) == (3, 120)
    schema = SchemaVersion.objects.get(project=project)
    names = [f["name"] for f in schema.schema["claim"]["fields"]]
    assert {"is_attributed", "verifiability", "source_span"} <= set(names)


def test_roles_are_per_project(project, other_project, client):
    from tests.factories import make_user

    user = make_user("dual", "annotator", project)
    Membership.objects.create(project=other_project, user=user, role="reviewer")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert project.name in page and other_project.name in page
    assert "annotator" in page and "reviewer" in page


def test_login_page_and_home_redirect(client, annotator, project):
    assert client.get("/").status_code == 302
    response = client.post(
        "/accounts/login/", {"username": annotator.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert project.name.encode() in home.content


def test_login_redirect_stays_on_site(client, annotator):
    for target in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "%2F%2Fevil.example",
    ]:
        response = client.post(
            "/accounts/login/?next=" + target,
            {"username": annotator.username, "password": PASSWORD, "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] in {"/", target} and not response["Location"].startswith(
            ("//", "http", "/\\")
        )
        client.logout()


def test_logout_requires_post_and_ends_session(client, annotator):
    client.force_login(annotator)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_base_layout_serves_htmx_locally_with_csrf_and_safe_config(client, annotator):
    client.force_login(annotator)
    html = client.get("/").content.decode()
    assert "/static/htmx/htmx.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
    assert '"allowEval": false' in html and '"selfRequestsOnly": true' in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/static/htmx/htmx.min.js").status_code == 200


def test_job_page_and_fragment_show_progress(client, admin, project):
    job = Job.objects.create(
        kind="sleep", project=project, created_by=admin, progress=0.4, state="running"
    )
    client.force_login(admin)
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    assert b'value="0.400"' in page.content and b'hx-trigger="every 1s"' in page.content
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and fragment.status_code == 200
    Job.objects.filter(pk=job.pk).update(state="done", progress=1.0, result={"steps": 3})
    done = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and b"hx-trigger" not in done.content


def test_job_is_private_to_owner_and_project_admins(client, annotator, admin, project):
    job = Job.objects.create(kind="sleep", project=project, created_by=admin)
    client.force_login(annotator)
    assert client.get(f"/jobs/{job.pk}/").status_code == 403
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 403


def test_job_runs_in_process_without_a_broker(
    db, admin, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="sleep", project=project, user=admin, params={"steps": 3, "delay": 0})
    job.refresh_from_db()
    assert job.state == "done" and job.progress == 1.0 and job.result == {"steps": 3}


def test_job_is_enqueued_only_after_commit(db, admin, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_create(kind="sleep", project=project, user=admin, params={"steps": 1, "delay": 0})
    job.refresh_from_db()
    assert job.state == "queued" and len(callbacks) == 1


def test_a_job_whose_message_was_lost_is_sent_again_when_looked_at(
    client, admin, project, django_capture_on_commit_callbacks
):
    """Redis keeps nothing on disk: a message lost in a restart leaves its job queued. Looking
    at the job after RESEND_AFTER_SECONDS sends it again, once per period; a recent job is not
    touched. (Without a broker the resent task runs at once, so the job finishes here.)"""
    from datetime import timedelta

    from django.utils import timezone

    from annotations.services.jobs import RESEND_AFTER_SECONDS

    with django_capture_on_commit_callbacks(execute=False):  # the message never leaves
        lost = job_create(kind="sleep", project=project, user=admin, params={"steps": 1})
        recent = job_create(kind="sleep", project=project, user=admin, params={"steps": 1})
    Job.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(seconds=RESEND_AFTER_SECONDS + 5)
    )
    client.force_login(admin)
    assert client.get(f"/api/v1/jobs/{recent.pk}/").json()["state"] == "queued"
    client.get(f"/api/v1/jobs/{lost.pk}/")
    lost.refresh_from_db()
    assert lost.state == "done" and lost.attempts == 1
    client.get(f"/jobs/{lost.pk}/")
    lost.refresh_from_db()
    assert lost.attempts == 1  # finished jobs are never sent again
    recent.refresh_from_db()
    assert recent.state == "queued" and recent.attempts == 0


def test_celery_is_configured_safely():
    from workbench.celery import app

    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1


@pytest.mark.services
def test_real_worker_runs_a_job_with_progress(live_worker, admin, project):
    import time

    job = job_create(kind="sleep", project=project, user=admin, params={"steps": 8, "delay": 0.4})
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.append((job.state, job.progress))
        if job.state in {"done", "failed"}:
            break
        time.sleep(0.1)
    assert job.state == "done", (seen, job.error)
    states = [s for s, _ in seen]
    assert "queued" in states or "running" in states
    partial = [p for s, p in seen if s == "running" and 0 < p < 1]
    assert partial, f"no intermediate progress seen: {seen}"
    progresses = [p for _, p in seen]
    assert progresses == sorted(progresses)
    assert job.result == {"steps": 8} and job.attempts == 1


def test_demo_seed_is_safe_to_rerun(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out1, out2 = io.StringIO(), io.StringIO()
    call_command("seed_demo", "--no-import", stdout=out1)
    call_command("seed_demo", "--no-import", stdout=out2)
    assert Project.objects.filter(slug="demo").count() == 1
    assert Membership.objects.filter(project__slug="demo").count() == 4
    # The same passwords are printed each time, and they are not a default.
    logins1 = [line for line in out1.getvalue().splitlines() if "(" in line]
    assert logins1 == [line for line in out2.getvalue().splitlines() if "(" in line]
    creds = json.loads((tmp_path / "demo-accounts.json").read_text())
    assert len(set(creds.values())) == 4 and all(len(v) >= 10 for v in creds.values())
