"""Rebuild attribution_gold.jsonl from the sample page and the hand labels.

Run once by the annotator (needs `sentencex`):

    python tests/data/suggest/build_gold.py [SEED_PATH]

The labels live in labels_en.txt / labels_ar.txt (written by hand, before the
detector existed); this script only turns the quoted substrings into character
offsets, checks that every unit is an exact substring of the sample page, and
assigns the dev/test split: per language the first half of the units in page
order is `dev` (used while writing the rules), the second half is `test`
(held out, reported).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from sentencex import segment

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = HERE.parents[2].parent / "shared" / "seed" / "000_cff28bc277b8956d.txt"
ARABIC = re.compile(r"[\u0600-\u06FF]")
CLAUSE_SPLIT = re.compile(r"(?<=،) (?=[وف])")
NAMED = {"y": "yes", "n": "no", "na": "n/a"}


def sentences(text: str) -> tuple[list[str], list[str]]:
    seen: set[str] = set()
    en: list[str] = []
    ar: list[str] = []
    for m in re.finditer(r"[^\n]+", text):
        para = m.group()
        if not para.strip():
            continue
        is_ar = len(ARABIC.findall(para)) > len(para) / 4
        for s in segment("ar" if is_ar else "en", para):
            s = s.strip()
            if s and s not in seen:
                seen.add(s)
                (ar if is_ar else en).append(s)
    return en, ar


def clause(sentence: str, a: int, b: int) -> str:
    starts = [0] + [m.end() for m in CLAUSE_SPLIT.finditer(sentence)]
    ends = [m.start() for m in CLAUSE_SPLIT.finditer(sentence)] + [len(sentence)]
    return sentence[starts[a] : ends[b]].strip()


def span(text: str, needle: str) -> list[int] | None:
    if needle == "-":
        return None
    nth = 1
    if "#" in needle:
        needle, n = needle.rsplit("#", 1)
        nth = int(n)
    # labels are typed with plain spaces; the page has some no-break spaces
    pattern = re.compile(r"\s+".join(re.escape(w) for w in needle.split()))
    found = list(pattern.finditer(text))
    if len(found) < nth:
        raise ValueError(f"{needle!r} not in {text!r}")
    return [found[nth - 1].start(), found[nth - 1].end()]


def rows(path: Path) -> list[list[str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append([c.strip() for c in line.split(" | ")])
    return out


def record(text: str, lang: str, cols: list[str]) -> dict:
    attr, src, cue, commit, verif, stype, named, stance, hedge, fou, loaded = cols
    return {
        "text": text,
        "language": lang,
        "is_attributed": attr == "y",
        "source_span": span(text, src),
        "cue_span": span(text, cue),
        "hedge_span": span(text, hedge),
        "frame_outside_unit": fou == "y",
        "commitment": commit,
        "verifiability": verif,
        "source_type": stype,
        "source_named": NAMED[named],
        "author_stance": stance,
        "loaded_language": loaded == "y",
    }


def main(seed: Path) -> None:
    page = seed.read_text(encoding="utf-8-sig")
    en, ar = sentences(page)
    en_sel = en[::2]
    units: dict[str, list[dict]] = {"en": [], "ar": []}
    for cols in rows(HERE / "labels_en.txt"):
        units["en"].append(record(en_sel[int(cols[0])], "en", cols[1:]))
    for cols in rows(HERE / "labels_ar.txt"):
        a, b = (int(x) for x in cols[1].split("-"))
        units["ar"].append(record(clause(ar[int(cols[0])], a, b), "ar", cols[2:]))
    out = []
    for lang, recs in units.items():
        half = (len(recs) + 1) // 2
        cursor = 0
        for i, rec in enumerate(recs):
            pos = page.find(rec["text"], cursor)
            if pos < 0:
                pos = page.find(rec["text"])
            assert pos >= 0, rec["text"]
            cursor = pos
            rec = {"id": f"{lang}-{i:03d}", **rec, "split": "dev" if i < half else "test"}
            rec["page_span"] = [pos, pos + len(rec["text"])]
            out.append(rec)
    with open(HERE / "attribution_gold.jsonl", "w", encoding="utf-8") as fh:
        for rec in out:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(units['en'])} en, {len(units['ar'])} ar units written")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED)
