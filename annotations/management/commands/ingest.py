"""Import files into a project: `ingest PATH… --project SLUG`. Idempotent per file content.

Prints the JSON summary (per file and totals). Exits non-zero, naming the file and the line or
byte, when a file cannot be imported; such a file stores nothing (the others still import).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.imports import import_file


class Command(BaseCommand):
    help = "Import .txt, .html, .jsonl or .zip files into a project; prints a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--project", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(slug=opts["project"]).first()
        if project is None:
            raise CommandError(f"No project {opts['project']!r}.")
        files = []
        problems = []
        for raw in opts["paths"]:
            path = Path(raw)
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(f"{path}: cannot read ({exc.strerror or exc})")
                continue
            summary = import_file(project=project, filename=path.name, data=data)
            files.append(summary)
            for error in summary["errors"]:
                where = [str(error.get("file") or summary["file"])]
                if error.get("line") is not None:
                    where.append(f"line {error['line']}")
                if error.get("byte") is not None:
                    where.append(f"byte {error['byte']}")
                problems.append(f"{', '.join(where)}: {error['message']}")
        totals = {
            k: sum(f[k] for f in files) for k in ("documents", "articles", "duplicates", "claims")
        }
        self.stdout.write(json.dumps({**totals, "files": files}, ensure_ascii=False, indent=2))
        if problems:
            raise CommandError("\n".join(["some files were not imported:", *problems]))
