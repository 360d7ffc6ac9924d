"""workbench_user create NAME --role annotator|reviewer|admin [--project SLUG]
[--password-stdin] [--print-token]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project, Role
from annotations.services.accounts import token_for, user_create_or_update


class Command(BaseCommand):
    help = "Create or update a user and give them a role (in a project, or site-wide admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create or update a user")
        create.add_argument("name")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--project", help="project slug for the role")
        create.add_argument("--email", default="")
        create.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        create.add_argument(
            "--print-token", action="store_true", help="print an API token on the last line"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        project = None
        if opts["project"]:
            project = Project.objects.filter(slug=opts["project"]).first()
            if project is None:
                raise CommandError(f"No project with slug {opts['project']!r}.")
        password = None
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        try:
            user, created = user_create_or_update(
                username=opts["name"],
                role=opts["role"],
                project=project,
                password=password,
                email=opts["email"],
            )
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        where = f" in project {project.slug}" if project else ""
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} user {user.username} with role {opts['role']}{where}.")
        if opts["print_token"]:
            self.stdout.write(token_for(user=user))
