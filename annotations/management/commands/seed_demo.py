"""Create the demo accounts and a demo project holding the sample corpus. Safe to re-run.

Passwords are random, generated on the first run and kept in var/demo-accounts.json (mode
0600) so that later runs print the same ones; there is no default password.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from annotations.models import Project
from annotations.services.accounts import user_create_or_update
from annotations.services.projects import project_create

DEMO_USERS = [
    ("admin", "admin"),
    ("reviewer", "reviewer"),
    ("annotator1", "annotator"),
    ("annotator2", "annotator"),
]


def _credentials(path: Path) -> dict[str, str]:
    if path.exists():
        data = json.loads(path.read_text())
        if all(name in data for name, _ in DEMO_USERS):
            return data
    data = {name: secrets.token_urlsafe(9) for name, _ in DEMO_USERS}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)
    return data


class Command(BaseCommand):
    help = "Create the demo project (sample corpus) and demo accounts; prints the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--no-import", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        slug = opts["slug"]
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            project = project_create(
                slug=slug,
                name="Syrian war coverage (demo)",
                description="The sample page: 23 articles from several outlets, English and "
                "Arabic.",
                languages=["en", "ar"],
            )
        creds = _credentials(Path(settings.VAR_DIR) / "demo-accounts.json")
        for name, role in DEMO_USERS:
            user, _ = user_create_or_update(
                username=name, role=role, project=project, password=creds[name], validate=False
            )
            if role == "admin":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        summary: dict[str, Any] = {}
        if not opts["no_import"]:
            summary = self._import_sample(project)
        self.stdout.write(f"Demo project: {project.slug} {json.dumps(summary)}")
        self.stdout.write("Demo logins (username / password):")
        for name, role in DEMO_USERS:
            self.stdout.write(f"  {name:<11} {creds[name]:<14} ({role})")

    def _import_sample(self, project: Project) -> dict[str, Any]:
        try:
            from annotations.services.imports import import_paths
        except ImportError:
            return {"import": "ingest service not installed"}
        paths = sorted(Path(settings.SEED_DIR).glob("*.txt"))
        return import_paths(project=project, paths=paths, user=None)
