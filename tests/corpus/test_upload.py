"""Uploads through the API and the import page: validation before storing, size limit,
permissions, and the job that imports."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Article, Claim, Document, Job

from .helpers import ARTICLE_EN, SAMPLE, jsonl, make_zip

pytestmark = pytest.mark.django_db

API = "/api/v1/projects/{slug}/documents/"


def nothing_stored() -> bool:
    return not (Document.objects.exists() or Article.objects.exists() or Job.objects.exists())


def upload(client, slug, name, data, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(API.format(slug=slug), {"file": SimpleUploadedFile(name, data)}, **extra)


def test_api_upload_returns_202_and_the_job_imports(
    client_for, admin, project, django_capture_on_commit_callbacks
):
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, project.slug, "sample.txt", SAMPLE.read_bytes())
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == "import" and job.state == "done", job.error
    (result,) = job.result["files"]
    assert result["file"] == "sample.txt" and result["articles"] == 23
    assert Claim.objects.filter(project=project).count() == result["claims"]
    # the job's status is readable by its owner
    body = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["state"] == "done" and body["progress"] == 1.0
    # the uploaded bytes were removed after the import
    from annotations.services.imports import upload_dir

    assert not upload_dir(job.pk).exists()


@pytest.mark.parametrize(
    ("name", "data", "needle", "line"),
    [
        ("empty.txt", b"", "empty", None),
        ("nul.txt", b"first\nab\x00c", "NUL", 2),
        ("bad.txt", b"line one\nline \xe2\x28\xa1 two", "invalid UTF-8", 2),
        ("pic.png", b"\x89PNG\r\n\x1a\n\x00\x00", "wrong type", None),
        ("doc.txt", b"%PDF-1.7\n", "PDF", None),
        ("feed.jsonl", b'{"title": "A", "text": "x."}\n{"title": 1}\n', "", 2),
        ("slip.zip", make_zip([("../../evil.txt", ARTICLE_EN.encode())]), "zip-slip", None),
    ],
)
def test_api_bad_inputs_are_400_naming_file_and_line(
    client_for, admin, project, name, data, needle, line
):
    response = upload(client_for(admin), project.slug, name, data)
    assert response.status_code == 400, response.content
    body = response.json()
    assert name in body["detail"] and needle in body["detail"]
    if line is not None:
        assert body["errors"][0]["line"] == line
        assert body["errors"][0]["byte"] is not None
    assert nothing_stored()


def test_api_zip_bomb_is_rejected(client_for, admin, project):
    bomb = make_zip([("bomb.txt", b"a" * (30 * 1024 * 1024))])
    response = upload(client_for(admin), project.slug, "bomb.zip", bomb)
    assert response.status_code == 400
    assert "zip bomb" in response.json()["detail"]
    assert nothing_stored()


def test_api_oversize_is_413_and_stores_nothing(client_for, admin, project, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = upload(client_for(admin), project.slug, "big.txt", b"x. " * 1000)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    assert nothing_stored()


def test_api_no_file_is_400(client_for, admin, project):
    response = client_for(admin).post(API.format(slug=project.slug), {})
    assert response.status_code == 400
    assert nothing_stored()


def test_upload_permissions(client_for, annotator, reviewer, outsider, project):
    for user, expected in ((annotator, 403), (reviewer, 403), (outsider, 404)):
        client = client_for(user)
        assert upload(client, project.slug, "a.txt", ARTICLE_EN.encode()).status_code == expected
        page = client.post(reverse("import", args=[project.slug]), {})
        assert page.status_code == expected
        assert client.get(reverse("import", args=[project.slug])).status_code == expected
    assert nothing_stored()


def test_import_page_upload_several_files(
    client_for, admin, project, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(admin)
    url = reverse("import", args=[project.slug])
    assert client.get(url).status_code == 200
    files = [
        SimpleUploadedFile("one.txt", ARTICLE_EN.encode()),
        SimpleUploadedFile(
            "two.jsonl", jsonl([{"title": "T", "text": "Officials said 40 trucks arrived."}])
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": files})
    assert response.status_code == 302
    jobs = Job.objects.filter(project=project, kind="import")
    assert jobs.count() == 2 and set(jobs.values_list("state", flat=True)) == {"done"}
    page = client.get(url)
    html = page.content.decode()
    assert "one.txt" in html and "two.jsonl" in html
    for document in Document.objects.all():
        assert reverse("document", args=[project.slug, document.pk]) in html


def test_import_page_rejects_bad_files_with_their_line(client_for, admin, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(admin)
    files = [
        SimpleUploadedFile("good.txt", ARTICLE_EN.encode()),
        SimpleUploadedFile("bad.txt", b"fine\nnot \xff fine"),
    ]
    response = client.post(reverse("import", args=[project.slug]), {"file": files})
    assert response.status_code == 400
    html = response.content.decode()
    assert "bad.txt" in html and "invalid UTF-8" in html and "<td>2</td>" in html
    assert nothing_stored()


def test_import_page_oversize_is_413(client_for, admin, project, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MAX_UPLOAD_BYTES = 500
    client = client_for(admin)
    response = client.post(
        reverse("import", args=[project.slug]),
        {"file": [SimpleUploadedFile("huge.txt", b"word " * 400)]},
    )
    assert response.status_code == 413
    assert "huge.txt" in response.content.decode()
    assert nothing_stored()


def test_import_page_needs_csrf(admin, project):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(
        reverse("import", args=[project.slug]),
        {"file": [SimpleUploadedFile("a.txt", ARTICLE_EN.encode())]},
    )
    assert response.status_code == 403
    assert nothing_stored()
