"""`pair SLUG`: compute cross-source candidate pairs and event clusters now (what the pairs
background job does) and print a JSON summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.pairs import pairs_compute


class Command(BaseCommand):
    help = "Compute cross-source candidate pairs and event clusters; prints a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Rank every claim again, not only claims that were never paired.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(slug=opts["slug"]).first()
        if project is None:
            raise CommandError(f"No project {opts['slug']!r}.")
        summary = pairs_compute(project=project, incremental=not opts["full"])
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
