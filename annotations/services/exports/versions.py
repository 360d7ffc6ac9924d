"""Frozen dataset versions: the freeze job, files with their sha256, the changelog."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ...models import (
    DatasetVersion,
    Job,
    Project,
)
from ..jobs import JobError, ProgressFn, job_create, register
from . import fast as fast_path
from . import fast_pairs
from .common import CLAIM_COLUMNS, FORMATS, KINDS, PAIR_COLUMNS, _dumps, export_snapshot
from .formats import WRITERS, CsvWriter, ParquetWriter
from .records import RECORDS, ExportContext, export_count

CLAIM_NAMES = [name for name, _ in CLAIM_COLUMNS]
PAIR_NAMES = [name for name, _ in PAIR_COLUMNS]

# --- versions ---------------------------------------------------------------------------------

VERSION_FILES = [f"{kind}.{fmt}" for kind in KINDS for fmt in FORMATS]


def versions_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "exports"


def version_dir(project: Project, number: int) -> Path:
    return versions_root() / project.slug / str(number)


def version_file_path(version: DatasetVersion, name: str) -> Path | None:
    """The path of one file of a frozen version, or None: only names recorded in the version
    are ever opened (no path from the request reaches the file system)."""
    if version.frozen_at is None or name not in (version.files or {}):
        return None
    return version_dir(version.project, version.number) / name


def dataset_version_freeze(*, project: Project, user: Any, note: str = "") -> DatasetVersion:
    """Allocate the next version number and start the job that writes its files."""
    note = (note or "").strip()[:300]
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        last = DatasetVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"]
        version = DatasetVersion.objects.create(
            project=project,
            number=(last or 0) + 1,
            note=note,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        job = job_create(
            kind="export", project=project, user=user, params={"version_id": version.pk}
        )
        DatasetVersion.objects.filter(pk=version.pk).update(job=job)
        version.job = job
    return version


def _file_entry(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"sha256": digest.hexdigest(), "size": size}


def _previous_index(project: Project, number: int) -> dict[str, tuple[str, str | None]] | None:
    """record id -> (gold as canonical JSON, split) of the newest frozen version before
    `number`, read back from its JSONL files."""
    previous = (
        DatasetVersion.objects.filter(project=project, number__lt=number, frozen_at__isnull=False)
        .order_by("-number")
        .first()
    )
    if previous is None:
        return None
    index: dict[str, tuple[str, str | None]] = {}
    for kind in KINDS:
        path = version_dir(project, previous.number) / f"{kind}.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                index[record["id"]] = (_dumps(record.get("gold")), record.get("split"))
    index["__number__"] = (str(previous.number), None)
    return index


def _changelog(
    previous: dict[str, tuple[str, str | None]] | None,
    current: dict[str, tuple[str, str | None]],
) -> dict[str, Any]:
    if previous is None:
        return {
            "previous_version": None,
            "added": sorted(current, key=_id_order),
            "removed": [],
            "gold_changed": [],
            "split_changed": [],
            "counts": {"added": len(current), "removed": 0, "gold_changed": 0, "split_changed": 0},
        }
    number = int(previous.pop("__number__")[0])
    added = sorted((k for k in current if k not in previous), key=_id_order)
    removed = sorted((k for k in previous if k not in current), key=_id_order)
    both = [k for k in current if k in previous]
    gold_changed = sorted((k for k in both if current[k][0] != previous[k][0]), key=_id_order)
    split_changed = sorted((k for k in both if current[k][1] != previous[k][1]), key=_id_order)
    return {
        "previous_version": number,
        "added": added,
        "removed": removed,
        "gold_changed": gold_changed,
        "split_changed": split_changed,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "gold_changed": len(gold_changed),
            "split_changed": len(split_changed),
        },
    }


def _id_order(record_id: str) -> tuple[str, int]:
    kind, _, number = record_id.partition("-")
    return (kind, int(number) if number.isdigit() else 0)


def changelog_text(changelog: dict[str, Any]) -> str:
    counts = changelog["counts"]
    previous = changelog["previous_version"]
    against = f"against version {previous}" if previous else "first version"
    lines = [
        f"Changes {against}: {counts['added']} records added, {counts['removed']} removed, "
        f"gold changed in {counts['gold_changed']}, split changed in {counts['split_changed']}."
    ]
    for key in ("added", "removed", "gold_changed", "split_changed"):
        ids = changelog[key]
        if ids:
            shown = ", ".join(ids[:50]) + (f", … ({len(ids) - 50} more)" if len(ids) > 50 else "")
            lines.append(f"- {key.replace('_', ' ')}: {shown}")
    lines.append("The full lists are in changelog.json.")
    return "\n".join(lines)


def _claims_fast(
    ctx: ExportContext, folder: Path, current: dict[str, tuple[str, str | None]]
) -> Iterator[int]:
    """Write claims.jsonl, claims.csv and claims.parquet through the SQL-built path (the same
    bytes as the reference path: tests/exports/test_fast.py), one pass per format inside the
    version's snapshot; yields the records written per chunk. The Parquet pass also fills the
    changelog's index (record id -> gold as canonical JSON, split); the stats (datasheet) are
    those of one pass."""
    gold, split = CLAIM_NAMES.index("gold"), CLAIM_NAMES.index("split")
    with (folder / "claims.jsonl").open("wb") as handle:
        for lines in fast_path.claim_lines(ctx, "labelled"):
            handle.write(("\n".join(lines) + "\n").encode())
            yield len(lines)
    counted = {key: Counter(counter) for key, counter in ctx.stats.items()}
    with (folder / "claims.csv").open("wb") as handle:
        handle.write(CsvWriter("claims").start())
        for lines in fast_path.claim_csv(ctx, "labelled"):
            handle.write("".join(lines).encode())
            yield len(lines)
    with (folder / "claims.parquet").open("wb") as handle:
        writer = ParquetWriter("claims")
        handle.write(writer.start())
        for rows in fast_path.claim_rows(ctx, "labelled"):
            handle.write(writer.write_rows(rows))
            for row in rows:
                current[row[0]] = (row[gold] or "null", row[split])
            yield len(rows)
        handle.write(writer.finish())
    ctx.stats = defaultdict(Counter, counted)


def _pairs_fast(
    ctx: ExportContext, folder: Path, current: dict[str, tuple[str, str | None]]
) -> Iterator[int]:
    """Write pairs.jsonl, pairs.csv and pairs.parquet from one pass of the SQL-built rows."""
    gold, split = PAIR_NAMES.index("gold"), PAIR_NAMES.index("split")
    names = ("pairs.jsonl", "pairs.csv", "pairs.parquet")
    jsonl, csv, parquet = (folder / name for name in names)
    with jsonl.open("wb") as j, csv.open("wb") as c, parquet.open("wb") as p:
        writer = ParquetWriter("pairs")
        c.write(CsvWriter("pairs").start())
        p.write(writer.start())
        for rows in fast_pairs.pair_rows(ctx, "labelled"):
            j.write("".join(fast_pairs.jsonl_line(row) + "\n" for row in rows).encode())
            c.write("".join(map(fast_pairs.csv_line, rows)).encode())
            p.write(writer.write_rows(rows))
            for row in rows:
                current[row[0]] = (row[gold] or "null", row[split])
            yield len(rows)
        p.write(writer.finish())


@register("export")
def _freeze_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """Write every file of a dataset version, then freeze the version row. Idempotent: a frozen
    version is left alone; an interrupted run starts over in a fresh temporary folder."""
    from ..datasheet import datasheet_markdown

    version = (
        DatasetVersion.objects.select_related("project")
        .filter(pk=job.params.get("version_id"))
        .first()
    )
    if version is None:
        raise JobError("The dataset version no longer exists.")
    if version.frozen_at is not None:
        return {"version": version.number, "files": sorted(version.files)}
    project = version.project
    final = version_dir(project, version.number)
    if final.exists():
        raise JobError(f"Files for version {version.number} exist already; not overwritten.")
    tmp = final.parent / f".{version.number}.tmp-{job.pk}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    from ..jobs import _progress_db

    try:
        read_only = _progress_db() != "default"
        current: dict[str, tuple[str, str | None]] = {}
        counts: dict[str, int] = {}
        with export_snapshot(read_only=read_only):
            ctx = fast_path.build_context(project, version=version.number)
            totals = {k: export_count(project=project, kind=k, include="labelled") for k in KINDS}
            fast = fast_path.usable()
            # Progress in records written per pass: the fast path writes the claims once per
            # format, the pairs once.
            grand = max(1, sum(totals.values()) + (2 * totals["claims"] if fast else 0))
            done = 0
            for kind in KINDS:
                if fast:
                    write = _claims_fast if kind == "claims" else _pairs_fast
                    for written in write(ctx, tmp, current):
                        done += written
                        progress(0.95 * done / grand, f"{done} of {grand} records")
                    counts[kind] = totals[kind]
                    continue
                writers = {fmt: WRITERS[fmt](kind) for fmt in FORMATS}
                handles = {fmt: (tmp / f"{kind}.{fmt}").open("wb") for fmt in FORMATS}
                try:
                    for fmt, writer in writers.items():
                        handles[fmt].write(writer.start())
                    for records in RECORDS[kind](ctx, "labelled"):
                        for fmt, writer in writers.items():
                            handles[fmt].write(writer.write(records))
                        for record in records:
                            current[record["id"]] = (_dumps(record["gold"]), record["split"])
                        done += len(records)
                        progress(0.95 * done / grand, f"{done} of {grand} records")
                    for fmt, writer in writers.items():
                        handles[fmt].write(writer.finish())
                finally:
                    for handle in handles.values():
                        handle.close()
                counts[kind] = totals[kind]
            datasheet = datasheet_markdown(ctx, version=version, note=version.note)
        previous = _previous_index(project, version.number)
        changelog = _changelog(previous, current)
        (tmp / "datasheet.md").write_text(datasheet, encoding="utf-8")
        (tmp / "changelog.json").write_text(
            json.dumps(changelog, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        files = {}
        for name in [*VERSION_FILES, "datasheet.md", "changelog.json"]:
            path = tmp / name
            files[name] = _file_entry(path)
            path.chmod(0o444)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    updated = DatasetVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(
        files=files,
        changelog=changelog_text(changelog),
        datasheet=datasheet,
        record_counts=counts,
        frozen_at=timezone.now(),
    )
    if not updated:
        raise JobError("The version was frozen by another run.")
    progress(1.0, "frozen")
    return {"version": version.number, "records": counts, "changes": changelog["counts"]}


def versions_for(project: Project) -> Any:
    return DatasetVersion.objects.filter(project=project).select_related("job").order_by("-number")


def version_get(*, project: Project, number: int) -> DatasetVersion | None:
    return (
        DatasetVersion.objects.filter(project=project, number=number)
        .select_related("project", "job")
        .first()
    )
