"""Backup drill (target R6): a pg_dump taken while annotators keep working restores into an
empty database whose schema matches this release (`migrate --check`) and whose export is
byte-identical to the export taken in the same snapshot as the dump."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, transaction

from annotations.services.exports import export_stream
from tests.exports.helpers import OPINION, T0, build_world, label

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def _pg(db: dict) -> list[str]:
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]


def _url(db: dict, name: str) -> str:
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _annotate_meanwhile(item, user) -> None:
    """An annotator submits a label on its own connection while the dump runs."""
    try:
        label(item, user, OPINION, at=T0 + dt.timedelta(hours=1))
    finally:
        connection.close()


def test_dump_during_annotation_restores_to_the_same_export(project, tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world(project)
    db = connection.settings_dict
    dump = tmp_path / "workbench.dump"
    restored = f"{db['NAME']}_restored_{os.getpid()}"

    # One REPEATABLE READ snapshot, shared by our export and by pg_dump (--snapshot).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        before = b"".join(export_stream(project=project, kind="claims", include="labelled"))
        dumper = subprocess.Popen(
            [
                "pg_dump",
                *_pg(db),
                "-Fc",
                "--no-owner",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                db["NAME"],
            ],
            stderr=subprocess.PIPE,
        )
        # Annotation goes on during the dump: a label on an unlabelled item, committed.
        writer = threading.Thread(
            target=_annotate_meanwhile, args=(world.items[-1], world.users["c"])
        )
        writer.start()
        writer.join(timeout=60)
        _, err = dumper.communicate(timeout=120)
        assert dumper.returncode == 0, err.decode()
    assert before.count(b"\n") >= 2, "the export should hold labelled claims"
    after_write = b"".join(export_stream(project=project, kind="claims", include="labelled"))
    assert after_write != before, "the label written during the dump changed the live export"

    subprocess.run(["createdb", *_pg(db), restored], check=True)
    try:
        restore = subprocess.run(
            ["pg_restore", *_pg(db), "--no-owner", f"--dbname={restored}", str(dump)],
            capture_output=True,
            text=True,
        )
        assert restore.returncode == 0, restore.stderr
        url = _url(db, restored)
        out = tmp_path / "restored.jsonl"
        # Both commands read the restored database only: run side by side.
        with ThreadPoolExecutor(2) as pool:
            checking = pool.submit(_manage, url, "migrate", "--check")
            exporting = pool.submit(
                _manage, url, "export", project.slug, "--format", "jsonl", "--out", str(out)
            )
            check, exported = checking.result(), exporting.result()
        assert check.returncode == 0, check.stdout + check.stderr
        assert exported.returncode == 0, exported.stdout + exported.stderr
        assert out.read_bytes() == before
    finally:
        subprocess.run(["dropdb", *_pg(db), "--if-exists", restored], check=False)
