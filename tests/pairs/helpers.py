"""A small hand-built corpus for the pairs tests: three outlets (one Arabic) reporting the
same two events, plus unrelated sentences and units that must not be paired."""

from __future__ import annotations

import hashlib
from datetime import date

from annotations.models import Article, Claim, Document, Outlet, Project

KHAN_EN_A = "The Syrian army captured the town of Khan Shaykhun in southern Idlib on August 21."
KHAN_EN_B = "Syrian government forces took full control of Khan Shaykhun on Wednesday, August 21."
KHAN_AR = "سيطر الجيش السوري على مدينة خان شيخون في ريف إدلب الجنوبي يوم 21 آب."
CONVOY_EN_A = "A United Nations convoy of 40 trucks reached eastern Aleppo on Tuesday."
CONVOY_EN_B = "Forty UN aid trucks arrived in eastern Aleppo on Tuesday, officials said."
CONVOY_AR = "وصلت قافلة مساعدات للأمم المتحدة من 40 شاحنة إلى شرق حلب يوم الثلاثاء."
UNRELATED_A = "The central bank raised interest rates by half a point to fight inflation."
UNRELATED_B = "A new football stadium opened in Doha with a concert attended by thousands."


def make_article(
    project: Project,
    outlet: str | None,
    sentences: list[str],
    *,
    language: str = "en",
    title: str = "",
    published: date | None = date(2019, 8, 22),
    kinds: list[str] | None = None,
    likelihood: float = 0.8,
) -> list[Claim]:
    """One document with one article whose units are `sentences` (all body claims unless
    `kinds` says otherwise)."""
    text = (title + "\n\n" if title else "") + " ".join(sentences)
    sha = hashlib.sha256(f"{project.pk}:{outlet}:{text}".encode()).hexdigest()
    document = Document.objects.create(
        project=project, name=f"{sha[:8]}.txt", format="txt", sha256=sha, text=text
    )
    outlet_row = None
    if outlet:
        outlet_row, _ = Outlet.objects.get_or_create(
            project=project, key=outlet.casefold(), defaults={"name": outlet}
        )
    article = Article.objects.create(
        project=project,
        document=document,
        start=0,
        end=len(text),
        title=title or sentences[0][:60],
        outlet=outlet_row,
        outlet_name=outlet or "",
        published=published,
        language=language,
        content_hash=sha,
    )
    claims = []
    offset = len(title) + 2 if title else 0
    for position, sentence in enumerate(sentences):
        start = text.index(sentence, offset)
        claims.append(
            Claim(
                project=project,
                article=article,
                position=position,
                start=start,
                end=start + len(sentence),
                text=sentence,
                language=language,
                unit_kind=(kinds[position] if kinds else "body"),
                claim_likelihood=likelihood,
            )
        )
        offset = start + len(sentence)
    return Claim.objects.bulk_create(claims)


def make_corpus(project: Project) -> dict[str, list[Claim]]:
    """Outlet A (two articles), outlet B and the Arabic outlet C; plus units that are not
    paired (a caption, and a body unit below the likelihood floor)."""
    a1 = make_article(project, "Alpha News", [KHAN_EN_A, UNRELATED_A])
    a2 = make_article(project, "Alpha News", [CONVOY_EN_A], published=date(2019, 8, 20))
    b = make_article(project, "Beta Times", [KHAN_EN_B, CONVOY_EN_B, UNRELATED_B])
    c = make_article(project, "Gamma Arabic", [KHAN_AR, CONVOY_AR], language="ar")
    caption = make_article(
        project, "Delta Wire", ["Khan Shaykhun after the army captured it on August 21."],
        kinds=["caption"],
    )  # fmt: skip
    unlikely = make_article(
        project, "Epsilon Post", ["The army captured Khan Shaykhun, August 21."], likelihood=0.1
    )
    return {"a1": a1, "a2": a2, "b": b, "c": c, "caption": caption, "unlikely": unlikely}
