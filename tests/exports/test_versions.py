"""Frozen dataset versions: the freeze job, files and their sha256, changelog, immutability,
downloads (API, page, command)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.models import DatasetVersion, Job
from annotations.services.exports import VERSION_FILES, version_dir
from tests.exports.helpers import FACT, T0, decide, label

VERSIONS = "/api/v1/projects/alpha/versions/"


def freeze(client, django_capture_on_commit_callbacks, note="first"):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERSIONS, {"note": note}, content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()


def test_admin_freezes_a_version_with_every_file(
    world, media, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.users["admin"])
    answer = freeze(client, django_capture_on_commit_callbacks)
    assert answer["number"] == 1
    job = Job.objects.get(pk=answer["job"])
    assert job.kind == "export" and job.state == "done", job.error
    assert job.progress == 1.0
    version = DatasetVersion.objects.get(project=world.project, number=1)
    assert version.frozen_at is not None and version.note == "first"
    assert set(version.files) == {*VERSION_FILES, "datasheet.md", "changelog.json"}
    folder = version_dir(world.project, 1)
    assert folder == Path(media) / "exports" / "alpha" / "1"
    for name, entry in version.files.items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert version.record_counts == {"claims": 4, "pairs": 1}
    records = [json.loads(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    assert {r["dataset_version"] for r in records} == {1}
    datasheet = (folder / "datasheet.md").read_text()
    assert datasheet == version.datasheet
    for needle in (
        "SANA",
        "state_media",
        "Syrian government",
        "2019-08-21 to 2019-08-23",
        "annotators: 3",
        "verifiability",
        "0.710",
        "[0.600, 0.800]",
        "| train |",
    ):
        assert needle in datasheet, needle
    for user in world.users.values():
        assert user.username not in datasheet
    listing = client.get(VERSIONS).json()
    assert listing[0]["number"] == 1 and listing[0]["state"] == "frozen"
    assert {f["name"] for f in listing[0]["files"]} == set(version.files)


def test_changelog_counts_added_removed_and_gold_changes(
    world, media, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.users["admin"])
    freeze(client, django_capture_on_commit_callbacks)
    items, claims = world.items, world.claims
    # Add a label to the unlabelled opinion (added), change a gold (changed), and delete the
    # only label of the Arabic unit (removed).
    label(items[3], world.users["a"], FACT, at=T0)
    decide(items[2], world.users["reviewer"], FACT, changed=["verifiability"])
    items[4].labels.all().delete()
    second = freeze(client, django_capture_on_commit_callbacks, note="second")
    version = DatasetVersion.objects.get(project=world.project, number=second["number"])
    changelog = json.loads((version_dir(world.project, 2) / "changelog.json").read_text())
    assert changelog["previous_version"] == 1
    assert changelog["added"] == [f"claim-{claims[3].pk}"]
    assert changelog["removed"] == [f"claim-{claims[4].pk}"]
    assert changelog["gold_changed"] == [f"claim-{claims[2].pk}"]
    assert changelog["counts"] == {"added": 1, "removed": 1, "gold_changed": 1, "split_changed": 0}
    assert "1 records added, 1 removed, gold changed in 1" in version.changelog


def test_a_frozen_version_never_changes(
    world, media, client_for, django_capture_on_commit_callbacks
):
    from annotations.services.jobs import job_run

    client = client_for(world.users["admin"])
    answer = freeze(client, django_capture_on_commit_callbacks)
    version = DatasetVersion.objects.get(project=world.project, number=1)
    before = {n: (version_dir(world.project, 1) / n).read_bytes() for n in version.files}
    # Running the job again (a redelivered task) leaves the version and its files alone.
    Job.objects.filter(pk=answer["job"]).update(state="queued")
    label(world.items[3], world.users["a"], FACT, at=T0)
    job_run(job_id=answer["job"])
    again = DatasetVersion.objects.get(pk=version.pk)
    assert (again.files, again.frozen_at, again.datasheet) == (
        version.files,
        version.frozen_at,
        version.datasheet,
    )
    assert before == {n: (version_dir(world.project, 1) / n).read_bytes() for n in version.files}
    # No update path in the API.
    url = f"{VERSIONS}1/"
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url, {}, content_type="application/json").status_code == 405
    # Files are written read-only.
    for name in version.files:
        assert not os.access(version_dir(world.project, 1) / name, os.W_OK) or os.geteuid() == 0
        assert (version_dir(world.project, 1) / name).stat().st_mode & 0o222 == 0


def test_download_is_an_attachment_with_the_recorded_bytes(
    world, media, client_for, django_capture_on_commit_callbacks, tmp_path
):
    freeze(client_for(world.users["admin"]), django_capture_on_commit_callbacks)
    client = client_for(world.users["reviewer"])
    version = DatasetVersion.objects.get(project=world.project, number=1)
    for name in version.files:
        for url in (f"{VERSIONS}1/files/{name}", f"/p/alpha/versions/1/files/{name}"):
            response = client.get(url)
            assert response.status_code == 200, url
            data = b"".join(response.streaming_content)
            assert hashlib.sha256(data).hexdigest() == version.files[name]["sha256"]
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "html" not in response["Content-Type"]
    # The command with --version copies the frozen bytes: equal to the API download.
    for fmt in ("jsonl", "csv", "parquet"):
        for kind in ("claims", "pairs"):
            out = tmp_path / f"{kind}.{fmt}"
            call_command(
                "export",
                "alpha",
                "--format",
                fmt,
                "--kind",
                kind,
                "--version",
                "1",
                "--out",
                str(out),
            )
            api = b"".join(client.get(f"{VERSIONS}1/files/{kind}.{fmt}").streaming_content)
            assert out.read_bytes() == api
    with pytest.raises(CommandError):
        call_command("export", "alpha", "--version", "9", "--out", str(tmp_path / "x"))


@pytest.mark.parametrize(
    "name", ["../1/claims.jsonl", "secret.txt", "claims.jsonl.tmp", "%2e%2e", "datasheet.MD"]
)
def test_unknown_file_names_are_404(
    world, media, client_for, django_capture_on_commit_callbacks, name
):
    freeze(client_for(world.users["admin"]), django_capture_on_commit_callbacks)
    client = client_for(world.users["reviewer"])
    assert client.get(f"{VERSIONS}1/files/{name}").status_code == 404
    assert client.get(f"{VERSIONS}2/files/claims.jsonl").status_code == 404


def test_permissions_on_versions(
    world, media, client_for, outsider, django_capture_on_commit_callbacks
):
    freeze(client_for(world.users["admin"]), django_capture_on_commit_callbacks)
    reviewer, annotator = client_for(world.users["reviewer"]), None
    assert reviewer.get(VERSIONS).status_code == 200
    assert reviewer.post(VERSIONS, {}, content_type="application/json").status_code == 403
    assert reviewer.post("/p/alpha/versions/freeze/").status_code == 403
    annotator = client_for(world.users["a"])
    for url in (
        VERSIONS,
        f"{VERSIONS}1/",
        f"{VERSIONS}1/files/claims.jsonl",
        "/p/alpha/versions/",
        "/p/alpha/versions/1/files/claims.jsonl",
    ):
        assert annotator.get(url).status_code == 403, url
    other = client_for(outsider)
    for url in (VERSIONS, f"{VERSIONS}1/files/claims.jsonl", "/p/alpha/versions/"):
        assert other.get(url).status_code == 404, url
    assert other.post(VERSIONS, {}, content_type="application/json").status_code == 404
    assert DatasetVersion.objects.count() == 1


def test_versions_page_lists_versions_and_freezes(
    world, media, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.users["admin"])
    page = client.get("/p/alpha/versions/")
    assert page.status_code == 200 and b"No dataset version" in page.content
    assert b"Freeze version" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/alpha/versions/freeze/", {"note": "from the page"})
    assert response.status_code == 302
    page = client.get("/p/alpha/versions/")
    assert b"from the page" in page.content and b"claims.parquet" in page.content
    assert b"/p/alpha/versions/1/files/datasheet.md" in page.content
    reviewer_page = client_for(world.users["reviewer"]).get("/p/alpha/versions/")
    assert reviewer_page.status_code == 200 and b"Freeze version" not in reviewer_page.content
    assert b"style=" not in page.content and b"onclick" not in page.content


def reference_files(project, number: int) -> tuple[dict[str, bytes], str]:
    """The files and datasheet the reference path writes for version `number` (the database as
    it is now)."""
    from annotations.services.datasheet import datasheet_markdown
    from annotations.services.exports import (
        FORMATS,
        KINDS,
        RECORDS,
        WRITERS,
        ExportContext,
        export_snapshot,
    )

    files = {}
    with export_snapshot():
        ctx = ExportContext.build(project, version=number)
        for kind in KINDS:
            writers = {fmt: WRITERS[fmt](kind) for fmt in FORMATS}
            parts = {fmt: [writer.start()] for fmt, writer in writers.items()}
            for records in RECORDS[kind](ctx, "labelled"):
                for fmt, writer in writers.items():
                    parts[fmt].append(writer.write(records))
            for fmt, writer in writers.items():
                files[f"{kind}.{fmt}"] = b"".join(parts[fmt]) + writer.finish()
        version = DatasetVersion.objects.get(project=project, number=number)
        datasheet = datasheet_markdown(ctx, version=version, note=version.note)
    return files, datasheet


@pytest.mark.postgres
def test_frozen_files_from_the_fast_path_are_the_reference_bytes(world, media, monkeypatch):
    """On PostgreSQL the freeze writes through the SQL-built path (claims: one pass per format;
    pairs: one pass): the same bytes, counts, datasheet and changelog as the reference path."""
    from annotations.services.exports import dataset_version_freeze, fast_pairs
    from annotations.services.exports import fast as fast_path

    passes = []

    def counting(real, fmt):
        def counted(*args, **kwargs):
            passes.append(fmt)
            return real(*args, **kwargs)

        return counted

    for name, fmt in (("claim_lines", "jsonl"), ("claim_csv", "csv"), ("claim_rows", "parquet")):
        monkeypatch.setattr(fast_path, name, counting(getattr(fast_path, name), fmt))
    monkeypatch.setattr(fast_pairs, "pair_rows", counting(fast_pairs.pair_rows, "pairs"))

    project, items = world.project, world.items
    for number, note in ((1, "first"), (2, "second")):
        if number == 2:  # a gold changes, a record is added, one is removed
            decide(items[2], world.users["reviewer"], FACT, changed=["verifiability"])
            label(items[3], world.users["a"], FACT, at=T0)
            items[4].labels.all().delete()
        version = dataset_version_freeze(project=project, user=world.users["admin"], note=note)
        job = Job.objects.get(pk=version.job_id)
        assert job.state == "done", job.error
        version.refresh_from_db()
        files, datasheet = reference_files(project, number)
        for name in VERSION_FILES:
            assert (version_dir(project, number) / name).read_bytes() == files[name], name
        assert version.datasheet == datasheet
        assert version.record_counts == {"claims": 4, "pairs": 1}
    assert passes == ["jsonl", "csv", "parquet", "pairs"] * 2
    changelog = json.loads((version_dir(project, 2) / "changelog.json").read_text())
    assert changelog["counts"] == {"added": 1, "removed": 1, "gold_changed": 1, "split_changed": 0}
    assert changelog["gold_changed"] == [f"claim-{world.claims[2].pk}"]
