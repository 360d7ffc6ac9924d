"""Test data for review tests, made directly with the ORM (no queue services)."""

from __future__ import annotations

import datetime as dt
import hashlib
from itertools import count
from typing import Any

from django.utils import timezone

from annotations.models import (
    Article,
    Assignment,
    Claim,
    ClaimPair,
    Document,
    Item,
    Label,
    Project,
)
from annotations.services.projects import current_schema

_n = count(1)

FACT = {"is_attributed": False, "verifiability": "checkable_fact", "claim_types": ["event"]}
OPINION = {"is_attributed": False, "verifiability": "opinion"}
PREDICTION = {"is_attributed": False, "verifiability": "prediction"}


def make_article(
    project: Project,
    *,
    text: str = "The army said two soldiers were killed. It is a dangerous game.",
    title: str = "Clashes in the north",
    outlet: str = "Daily Wire",
    language: str = "en",
) -> Article:
    n = next(_n)
    digest = hashlib.sha256(f"{project.pk}-{n}-{text}".encode()).hexdigest()
    doc = Document.objects.create(
        project=project, name=f"doc{n}.txt", format="txt", sha256=digest, text=text, size=len(text)
    )
    return Article.objects.create(
        project=project,
        document=doc,
        start=0,
        end=len(text),
        title=title,
        outlet_name=outlet,
        published=dt.date(2019, 8, 22),
        language=language,
        content_hash=digest,
    )


def make_claim(
    project: Project,
    *,
    text: str | None = None,
    article: Article | None = None,
    language: str = "en",
    outlet: str = "Daily Wire",
) -> Claim:
    article = article or make_article(project, language=language, outlet=outlet)
    position = article.claims.count()
    doc_text = article.document.text
    if text is None:
        text = doc_text.split(". ")[0] + "."
    start = max(doc_text.find(text), 0)
    return Claim.objects.create(
        project=project,
        article=article,
        position=position,
        start=start,
        end=start + len(text),
        text=text,
        language=language or article.language,
    )


def make_item(project: Project, claim: Claim | None = None, *, k: int = 2, **kw: Any) -> Item:
    claim = claim or make_claim(project, **kw)
    return Item.objects.create(
        project=project, kind="claim", claim=claim, k=k, order_key=claim.pk, status="open"
    )


def make_pair_item(project: Project, *, k: int = 2) -> Item:
    a = make_claim(project, outlet="SANA")
    b = make_claim(
        project,
        article=make_article(
            project, text="قال الجيش إن جنديين قتلا. هذه لعبة خطيرة.", language="ar", outlet="Enab"
        ),
        text="قال الجيش إن جنديين قتلا.",
        language="ar",
    )
    a, b = (a, b) if a.pk < b.pk else (b, a)
    pair = ClaimPair.objects.create(project=project, claim_a=a, claim_b=b, method="test", score=0.9)
    return Item.objects.create(project=project, kind="pair", pair=pair, k=k, order_key=pair.pk)


def add_label(item: Item, user: Any, values: dict[str, Any], *, seconds: float = 10.0) -> Label:
    now = timezone.now()
    assignment = Assignment.objects.create(
        item=item,
        annotator=user,
        state="submitted",
        leased_at=now,
        expires_at=now + dt.timedelta(minutes=10),
        finished_at=now,
    )
    label = Label.objects.create(
        item=item,
        annotator=user,
        assignment=assignment,
        schema_version=current_schema(item.project),
        values=values,
        seconds=seconds,
    )
    Item.objects.filter(pk=item.pk).update(n_done=item.n_done + 1)
    item.n_done += 1
    return label


def labelled_item(project: Project, annotators: list[Any], values: list[dict], **kw: Any) -> Item:
    """An item with one label per annotator, completed as the queue would (item_complete)."""
    from annotations.services.adjudication import item_complete

    item = make_item(project, k=len(annotators), **kw)
    for user, v in zip(annotators, values, strict=True):
        add_label(item, user, v)
    item.refresh_from_db()
    return item_complete(item=item)


def annotators(project: Project, n: int, prefix: str = "ann") -> list[Any]:
    """Annotator accounts without a password (hashing one is slow and these never log in)."""
    from django.contrib.auth import get_user_model

    from annotations.services.accounts import membership_set

    users = []
    for i in range(n):
        user, _ = get_user_model().objects.get_or_create(username=f"{prefix}{i}")
        membership_set(project=project, user=user, role="annotator")
        users.append(user)
    return users
