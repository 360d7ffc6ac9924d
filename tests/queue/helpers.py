"""Claims in the database without the ingest pipeline: Document/Article/Claim rows made
directly, then queue items through services/items.py (the real path)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from typing import Any

from annotations.models import Article, Claim, ClaimPair, Document, Item, Project
from annotations.services.items import items_create_for_claims, items_create_for_pairs

_seq = itertools.count(1)

EN_SENTENCES = [
    "Syrian government troops entered the town of Khan Shaykhun on Wednesday.",
    "The Russian Reconciliation Center said two soldiers were killed in the attack.",
    "According to local activists, at least 12 civilians died in the shelling.",
    "It's a dangerous game that Ankara is playing here.",
    "Government troops will likely focus on clearing northern Hama next.",
    "The ministry denied reports that its aircraft struck the market.",
    "Related News",
]
AR_SENTENCES = [
    "قال المرصد السوري إن القوات الحكومية دخلت بلدة خان شيخون.",
    "وأكد مصدر عسكري مقتل جنديين في الهجوم.",
    "ونفت الوزارة التقارير عن قصف السوق.",
]


def make_article(
    project: Project,
    sentences: list[str],
    *,
    language: str = "en",
    title: str = "Troops enter Khan Shaykhun",
    outlet: str = "Example News",
    published: date | None = date(2019, 8, 21),
) -> list[Claim]:
    """One document holding one article whose sentences become claims (offsets exact)."""
    n = next(_seq)
    text = " ".join(sentences)
    sha = hashlib.sha256(f"{n}:{text}".encode()).hexdigest()
    doc = Document.objects.create(
        project=project, name=f"doc{n}.txt", format="txt", sha256=sha, size=len(text), text=text
    )
    article = Article.objects.create(
        project=project,
        document=doc,
        start=0,
        end=len(text),
        title=title,
        outlet_name=outlet,
        published=published,
        language=language,
        content_hash=sha,
    )
    claims = []
    pos = 0
    for i, sentence in enumerate(sentences):
        start = text.index(sentence, pos)
        end = start + len(sentence)
        pos = end
        claims.append(
            Claim(
                project=project,
                article=article,
                position=i,
                start=start,
                end=end,
                text=sentence,
                language=language,
            )
        )
    return list(Claim.objects.bulk_create(claims))


def make_claims(project: Project, n: int, *, language: str = "en", **kw: Any) -> list[Item]:
    """`n` claims in articles of up to 5 sentences, with their queue items, in queue order."""
    base = AR_SENTENCES if language == "ar" else EN_SENTENCES
    claims: list[Claim] = []
    while len(claims) < n:
        size = min(5, n - len(claims))
        sentences = [
            f"{base[(len(claims) + i) % len(base)]} ({len(claims) + i})" for i in range(size)
        ]
        claims.extend(make_article(project, sentences, language=language, **kw))
    items_create_for_claims(project=project, claims=claims)
    return list(Item.objects.filter(claim__in=claims).order_by("order_key", "id"))


def make_pairs(project: Project, n: int) -> list[Item]:
    en = make_claims(project, n)
    ar = make_claims(project, n, language="ar")
    pairs = [
        ClaimPair.objects.create(
            project=project,
            claim_a_id=min(a.claim_id, b.claim_id),
            claim_b_id=max(a.claim_id, b.claim_id),
            method="test",
            score=0.9,
        )
        for a, b in zip(en, ar, strict=True)
    ]
    items_create_for_pairs(project=project, pairs=pairs)
    return list(Item.objects.filter(pair__in=pairs).order_by("order_key", "id"))


GOOD_LABELS = {"is_attributed": False, "verifiability": "opinion"}
ATTRIBUTED_LABELS = {
    "is_attributed": True,
    "source_type": "official_foreign",
    "verifiability": "checkable_fact",
    "claim_types": ["event"],
}
PAIR_LABELS = {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]}


def make_annotator(username: str, project: Project) -> Any:
    """An annotator without a password hash (hashing dominates test time; the API and the
    services never need the password)."""
    from django.contrib.auth import get_user_model

    from annotations.services.accounts import membership_set

    user, _ = get_user_model().objects.get_or_create(username=username)
    membership_set(project=project, user=user, role="annotator")
    return user
