"""`export SLUG --format jsonl|csv|parquet --out FILE [--version N] [--include …] [--kind …]`

Without --version: the live export, the same bytes as the API at the same state. With
--version: the frozen file of that version, copied byte for byte."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.exports import (
    FORMATS,
    INCLUDES,
    KINDS,
    export_stream,
    version_file_path,
    version_get,
)


class Command(BaseCommand):
    help = "Write the project's dataset (live, or a frozen version) to a file."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version (a dataset version) replaces Django's --version (its own version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="jsonl")
        parser.add_argument("--out", required=True, help="Output file ('-' for stdout).")
        parser.add_argument("--version", dest="number", type=int, default=None)
        parser.add_argument("--include", choices=INCLUDES, default="labelled")
        parser.add_argument("--kind", choices=KINDS, default="claims")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["slug"]).first()
        if project is None:
            raise CommandError(f"No project {options['slug']!r}.")
        fmt, kind, include = options["fmt"], options["kind"], options["include"]
        out = options["out"]
        if options["number"] is not None:
            if include != "labelled":
                raise CommandError("A frozen version holds include=labelled records only.")
            version = version_get(project=project, number=options["number"])
            if version is None:
                raise CommandError(f"No version {options['number']} in {project.slug}.")
            path = version_file_path(version, f"{kind}.{fmt}")
            if path is None or not path.is_file():
                raise CommandError(f"Version {version.number} is not frozen (or has no file).")
            with path.open("rb") as source:
                if out == "-":
                    shutil.copyfileobj(source, sys.stdout.buffer)
                else:
                    with Path(out).open("wb") as target:
                        shutil.copyfileobj(source, target)
            return
        stream = export_stream(project=project, kind=kind, include=include, fmt=fmt)
        if out == "-":
            for chunk in stream:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        tmp = Path(out + ".part")
        with tmp.open("wb") as target:
            for chunk in stream:
                target.write(chunk)
        tmp.replace(out)
