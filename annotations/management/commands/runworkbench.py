"""What `make run` does: migrate, seed the demo, then serve (gunicorn) and, when REDIS_URL is
set, start a Celery worker beside the web server. Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, seed the demo project and serve the workbench (plus a worker with Redis)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not opts["no_seed"]:
            call_command("seed_demo")
        host, port = opts["host"], str(opts["port"])
        if not port.isdigit():
            self.stderr.write(f"PORT must be a number, not {port!r}")
            sys.exit(2)
        children: list[subprocess.Popen[bytes]] = []
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "workbench",
                        "worker",
                        "--loglevel=INFO",
                        "--concurrency=2",
                    ]
                )
            )
            self.stdout.write("Celery worker started (broker: Redis).")
        else:
            self.stdout.write("Tasks run in-process (set REDIS_URL for a real worker).")
        db = "PostgreSQL" if settings.USING_POSTGRES else "SQLite"
        display = f"[{host}]" if ":" in host else host
        self.stdout.write(f"Database: {db}. Serving on http://{display}:{port}/")
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "workbench.wsgi:application",
                "--bind",
                f"{display}:{port}",
                "--workers",
                os.environ.get("WEB_WORKERS", "2"),
                "--threads",
                os.environ.get("WEB_THREADS", "4"),
                "--timeout",
                "300",
                "--access-logfile",
                "-",
            ]
        )
        children.append(web)

        def stop(*_: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
