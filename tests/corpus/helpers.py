"""Inputs shared by the corpus tests."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from django.conf import settings

SAMPLE = Path(settings.SEED_DIR) / "000_cff28bc277b8956d.txt"

ARTICLE_EN = (
    "Ministry reports strikes near Idlib\n\n"
    "By Jane Roe\n\n"
    "The ministry said on Monday that airstrikes hit three villages near Idlib. "
    "Local sources reported that at least 12 civilians were killed in the raids. "
    "The government denied the reports and called them fabricated.\n"
)
ARTICLE_EN_2 = (
    "Aid convoy reaches Aleppo\n\n"
    "A United Nations convoy of 40 trucks reached eastern Aleppo on Tuesday. "
    "Officials said more convoys would follow next week.\n"
)


def make_zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
