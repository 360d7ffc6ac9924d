"""project create SLUG [--overlap K] [--lease-seconds S] [--name NAME]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.projects import project_create


class Command(BaseCommand):
    help = "Create a project with the default label schema."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a project")
        create.add_argument("slug")
        create.add_argument("--name", default="")
        create.add_argument("--overlap", type=int, default=2)
        create.add_argument("--lease-seconds", type=int, default=600)

    def handle(self, *args: Any, **opts: Any) -> None:
        slug = opts["slug"]
        if Project.objects.filter(slug=slug).exists():
            raise CommandError(f"Project {slug!r} already exists.")
        try:
            project = project_create(
                slug=slug,
                name=opts["name"],
                overlap=opts["overlap"],
                lease_seconds=opts["lease_seconds"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created project {project.slug} (overlap {project.overlap}, "
            f"lease {project.lease_seconds}s)."
        )
