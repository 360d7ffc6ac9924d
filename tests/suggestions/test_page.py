"""The suggestion model page /p/<slug>/model/ and its Train button."""

from __future__ import annotations

import re

import pytest

from annotations.models import Job
from annotations.services.suggestions import model_train
from tests.suggestions.helpers import adjudicated

pytestmark = pytest.mark.django_db


def page(slug: str) -> str:
    return f"/p/{slug}/model/"


def test_roles(client_for, project, reviewer, admin, annotator, outsider):
    assert client_for(reviewer).get(page(project.slug)).status_code == 200
    assert client_for(admin).get(page(project.slug)).status_code == 200
    assert client_for(annotator).get(page(project.slug)).status_code == 403
    assert client_for(outsider).get(page(project.slug)).status_code == 404
    assert client_for(annotator).post(f"{page(project.slug)}train/").status_code == 403
    assert client_for(outsider).post(f"{page(project.slug)}train/").status_code == 404
    assert not Job.objects.filter(kind="train").exists()


def test_anonymous_is_sent_to_login(client, project):
    response = client.get(page(project.slug))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_a_model(client_for, project, reviewer):
    html = client_for(reviewer).get(page(project.slug)).content.decode()
    assert "No model yet" in html
    assert "Suggestions A/B" in html


def test_train_button_starts_one_job(client_for, project, admin):
    api = client_for(admin)
    response = api.post(f"{page(project.slug)}train/")
    job = Job.objects.get(kind="train", project=project)
    assert response.status_code == 302 and response["Location"].endswith(f"?job={job.pk}")
    api.post(f"{page(project.slug)}train/")  # while queued: the same job, not a second one
    assert Job.objects.filter(kind="train", project=project).count() == 1
    html = api.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}"' in html
    assert api.get(f"{page(project.slug)}train/").status_code == 405


def test_with_a_model_draws_the_curves(client_for, project, reviewer):
    adjudicated(project, per_class=17)
    model_train(project=project)
    html = client_for(reviewer).get(page(project.slug)).content.decode()
    assert html.count('<svg class="lc-chart"') == 2
    assert re.search(r'<polyline class="curve" points="[\d., ]+"', html)
    assert re.search(r'<polyline class="uncertain" points="[\d., ]+"', html)
    assert re.search(r'<polyline class="random" points="[\d., ]+"', html)
    assert "Cross-validated macro-F1" in html and "51" in html
    assert "simulated on 51" in html.lower()
    # CSP: no inline style or script.
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
