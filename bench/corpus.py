"""Build large, varied scraped pages from the sample page, for benchmarks.

``build_corpus(target_bytes, seed)`` returns one string of about
``target_bytes`` UTF-8 bytes: a sequence of pages, each a random selection of
the sample's articles (English and Arabic) with their body paragraphs
shuffled, numbers, dates and place names substituted, paragraphs dropped or
repeated, and separators ("Related News", "مقالات متعلقة", "* * *") and page
furniture varied, so that no two articles are byte copies and content hashing
does not hide the work.

CLI: ``python bench/corpus.py --mb 50 --out FILE [--seed N]``.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotations.ingest import segment_text  # noqa: E402

SAMPLE_NAME = "000_cff28bc277b8956d.txt"
PLACES = [
    "Khan Sheikhoun", "Idlib", "Hama", "Aleppo", "Saraqib", "Morek", "Latakia", "Damascus",
    "Palmyra", "Deir Ezzor", "Kafr Zita", "Jisr al-Shughour", "Homs", "Tartus", "Raqqa",
    "Maarat al-Numan", "Ariha", "Sarmada", "Daraa", "Quneitra", "Qamishli", "Manbij",
]  # fmt: skip
PLACES_AR = [
    "حلب",
    "إدلب",
    "حماة",
    "دمشق",
    "خان شيخون",
    "حمص",
    "اللاذقية",
    "درعا",
    "الرقة",
    "طرطوس",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
SEPARATORS = ["Related News", "Related Videos", "Related", "Also Read", "مقالات متعلقة", "* * *"]
FURNITURE = ["Share this:", "Click to see the full-size image", "Advertisement", "Tags: Syria, war"]

_PLACE_RE = re.compile("|".join(re.escape(p) for p in sorted(PLACES, key=len, reverse=True)))
_PLACE_AR_RE = re.compile("|".join(re.escape(p) for p in sorted(PLACES_AR, key=len, reverse=True)))
_MONTH_RE = re.compile("|".join(MONTHS))
_NUMBER_RE = re.compile(r"(?<![\d.])\d{1,3}(?![\d.])")
_YEAR_RE = re.compile(r"\b20[12]\d\b")


def sample_path() -> Path:
    for path in (
        ROOT / "data" / "seed" / SAMPLE_NAME,
        ROOT.parent / "shared" / "seed" / SAMPLE_NAME,
    ):
        if path.is_file():
            return path
    raise FileNotFoundError(SAMPLE_NAME)


def _articles(text: str) -> list[tuple[list[str], list[str]]]:
    """(header lines, body paragraphs) of each article of the sample."""
    out = []
    for article in segment_text(text):
        header: list[str] = []
        body: list[str] = []
        for para in article.paragraphs:
            piece = text[para.start : para.end]
            if para.unit_kind in ("body", "quote_continuation", "list_item"):
                body.append(piece)
            elif not body:
                header.append(piece)
            elif para.unit_kind in ("caption", "subheading"):
                body.append(piece)
        if body:
            out.append((header, body))
    return out


def _vary(paragraph: str, rng: random.Random, places: dict[str, str]) -> str:
    paragraph = _PLACE_RE.sub(lambda m: places.setdefault(m.group(), rng.choice(PLACES)), paragraph)
    paragraph = _PLACE_AR_RE.sub(lambda m: rng.choice(PLACES_AR), paragraph)
    paragraph = _MONTH_RE.sub(lambda m: rng.choice(MONTHS), paragraph)
    paragraph = _YEAR_RE.sub(lambda m: str(rng.randint(2012, 2024)), paragraph)
    return _NUMBER_RE.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), paragraph)


def _page(articles: list[tuple[list[str], list[str]]], rng: random.Random) -> str:
    lines: list[str] = []
    for _ in range(rng.randint(4, 25)):
        header, body = rng.choice(articles)
        places: dict[str, str] = {}
        paragraphs = list(body)
        rng.shuffle(paragraphs)
        if len(paragraphs) > 3 and rng.random() < 0.3:
            paragraphs.pop(rng.randrange(len(paragraphs)))
        if rng.random() < 0.2:
            paragraphs.append(rng.choice(paragraphs))
        lines.extend(_vary(h, rng, places) for h in header)
        lines.extend(_vary(p, rng, places) for p in paragraphs)
        if rng.random() < 0.3:
            lines.append(rng.choice(FURNITURE))
        lines.extend(rng.sample(SEPARATORS, rng.randint(1, 2)))
    lines.append("%d bloggers like this:")
    return "\n\n".join(lines)


def build_corpus(target_bytes: int, seed: int = 0) -> str:
    """About ``target_bytes`` (UTF-8) of varied pages built from the sample."""
    rng = random.Random(seed)
    articles = _articles(sample_path().read_text(encoding="utf-8"))
    pages: list[str] = []
    size = 0
    while size < target_bytes:
        page = _page(articles, rng)
        pages.append(page)
        size += len(page.encode("utf-8")) + 2
    return "\n\n".join(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size in MB (10**6 bytes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    corpus = build_corpus(int(args.mb * 1_000_000), args.seed)
    args.out.write_text(corpus, encoding="utf-8")
    print(f"wrote {len(corpus.encode('utf-8')) / 1e6:.1f} MB to {args.out}")


if __name__ == "__main__":
    main()
