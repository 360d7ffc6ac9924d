"""Inputs and small process helpers shared by the reliability tests."""

from __future__ import annotations

import json
import socket

PLACES = ["Idlib", "Hama", "Aleppo", "Latakia", "Saraqib", "Khan Shaykhun", "Maarat al-Numan"]
OUTLETS = ["SANA", "Enab Baladi", "Reuters", "Syrian Observatory", "TASS", "Al Jazeera"]
FIRST = [
    "The ministry said that {n} trucks reached {place} on Monday.",
    "Local activists reported that {n} civilians were killed in shelling on {place}.",
    "State media said government troops entered {place} after {n} hours of fighting.",
    "A monitoring group said {n} families fled {place} during the week.",
]
SECOND = [
    "The report could not be independently verified.",
    "Officials denied the account and called it fabricated.",
    "It is a dangerous game that everyone is playing there.",
    "Further convoys are expected next week, aid workers said.",
]


def corpus_jsonl(lines: int) -> bytes:
    """One news article per JSONL line, every one different (content hashes keep them all)."""
    out = []
    for i in range(lines):
        place = PLACES[i % len(PLACES)]
        body = (
            FIRST[i % len(FIRST)].format(n=i + 2, place=place)
            + " "
            + SECOND[(i // len(FIRST)) % len(SECOND)]
        )
        record = {
            "title": f"Report {i} from {place}",
            "text": body,
            "outlet": OUTLETS[i % len(OUTLETS)],
            "published": f"2019-08-{1 + i % 28:02d}",
            "language": "en",
        }
        out.append(json.dumps(record))
    return ("\n".join(out) + "\n").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
