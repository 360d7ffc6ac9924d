"""Segment a file into articles and sentences and print them; no database is touched.

Offsets index the decoded text of each document (Python ``str`` positions after UTF-8 decoding,
BOM removed, nothing else changed; ``end`` exclusive). For a plain-text file that is the file's
text. For HTML it is the text extracted from the markup (``documents[i]`` in the output names
it); for JSONL each record is its own document (``title + "\\n\\n" + text``); for a zip each
member is. Each article carries ``document``, the index of its document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.ingest import IngestError, Limits, segment_file, to_json


class Command(BaseCommand):
    help = "Print the articles and sentence offsets of a file as JSON (no database)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", choices=["json", "text"], default="json")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from None
        try:
            docs = segment_file(
                path.name,
                data,
                max_bytes=max(settings.MAX_UPLOAD_BYTES, len(data)),
                limits=Limits(max_uncompressed_bytes=settings.MAX_ZIP_UNCOMPRESSED_BYTES),
            )
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        result = to_json(docs)
        if opts["format"] == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for article in result["articles"]:
            text = docs[article["document"]].text
            self.stdout.write(
                f"[{article['start']}:{article['end']}] {article['title'] or '(untitled)'}"
                f" | {article['outlet'] or '-'} | {article['language']}"
            )
            for unit in article["sentences"]:
                self.stdout.write(
                    f"  {unit['start']:>7} {unit['end']:>7}  {text[unit['start'] : unit['end']]}"
                )
