"""A small hand-built project for the export tests: rows made with the ORM, so the tests do
not depend on the import, queue or adjudication services."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from annotations.models import (
    AgreementReport,
    Article,
    Assignment,
    Claim,
    ClaimPair,
    Decision,
    Document,
    EventCluster,
    Item,
    Label,
    Outlet,
    Project,
    SchemaVersion,
)
from tests.factories import make_user

EN_ARTICLE = (
    "Army takes Khan Shaykhun\n"
    "The army liberated the town of Khan Shaykhun on August 21, the ministry said. "
    '=HYPERLINK("http://evil.example") was posted by a user. '
    "It's a dangerous game that Ankara is playing here.\n"
)
AR_ARTICLE = "أعلن الجيش السيطرة على خان شيخون يوم الخميس. وقال مصدر عسكري إن المعارك انتهت.\n"
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    project: Project
    users: dict[str, Any]
    claims: list[Claim] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    pair: ClaimPair | None = None
    pair_item: Item | None = None
    cluster: EventCluster | None = None


def _sentences(text: str, base: int) -> list[tuple[int, int]]:
    """Sentence offsets (a crude splitter that is enough for this fixed text)."""
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch == "\n" or (ch == "." and (i + 1 == len(text) or text[i + 1] in " \n")):
            piece = text[start : i + 1].strip()
            if piece:
                lead = len(text[start : i + 1]) - len(text[start : i + 1].lstrip())
                spans.append((base + start + lead, base + start + lead + len(piece)))
            start = i + 1
    return spans


def label(
    item: Item,
    user: Any,
    values: dict[str, Any],
    *,
    at: dt.datetime,
    seconds: float = 12.5,
    suggested: bool = False,
    accepted: bool | None = None,
) -> Label:
    schema = SchemaVersion.objects.filter(project=item.project).order_by("-version").first()
    assignment = Assignment.objects.create(
        item=item,
        annotator=user,
        state="submitted",
        leased_at=at - dt.timedelta(minutes=1),
        expires_at=at + dt.timedelta(minutes=9),
        finished_at=at,
        suggestions_shown=suggested,
    )
    row = Label.objects.create(
        item=item,
        annotator=user,
        assignment=assignment,
        schema_version=schema,
        values=values,
        seconds=seconds,
        suggested=suggested,
        accepted=accepted,
    )
    Label.objects.filter(pk=row.pk).update(created_at=at, updated_at=at)
    Item.objects.filter(pk=item.pk).update(n_done=Label.objects.filter(item=item).count())
    return row


def decide(
    item: Item,
    reviewer: Any,
    gold: dict[str, Any],
    *,
    action: str = "decide",
    changed: list[str] | None = None,
    note: str = "",
    overrides: bool = False,
    at: dt.datetime = T0,
) -> Decision:
    version = Decision.objects.filter(item=item).count() + 1
    decision = Decision.objects.create(
        item=item,
        reviewer=reviewer,
        action=action,
        version=version,
        before=None,
        after=gold,
        changed_fields=changed or [],
        overrides_majority=overrides,
        note=note,
    )
    Decision.objects.filter(pk=decision.pk).update(created_at=at)
    Item.objects.filter(pk=item.pk).update(
        gold=gold, status="settled", version=version, settled_at=at
    )
    return decision


FACT = {"is_attributed": True, "verifiability": "checkable_fact", "claim_types": ["event"]}
OPINION = {"is_attributed": False, "verifiability": "opinion", "claim_types": []}


def build_world(project: Project) -> World:
    """Two articles (English, Arabic) from two registry outlets in one document; five claims;
    labels from three annotators; one reviewer decision and one auto-settle; one event
    cluster across the two outlets; one labelled and settled cross-source pair."""
    users = {
        "a": make_user("ann_annotator", "annotator", project),
        "b": make_user("bob_annotator", "annotator", project),
        "c": make_user("cat_annotator", "annotator", project),
        "reviewer": make_user("rita_reviewer", "reviewer", project),
        "admin": make_user("ada_admin", "admin", project),
    }
    sana = Outlet.objects.create(
        project=project,
        key="sana",
        name="SANA",
        country="Syria",
        kind="state_media",
        affiliation="Syrian government",
        reviewed=True,
    )
    enab = Outlet.objects.create(
        project=project, key="enab baladi", name="Enab Baladi", country="Syria", kind="independent"
    )
    text = EN_ARTICLE + AR_ARTICLE
    document = Document.objects.create(
        project=project,
        name="sample.txt",
        format="txt",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        size=len(text.encode()),
        text=text,
        url="https://news.example/sample",
    )
    en = Article.objects.create(
        project=project,
        document=document,
        position=0,
        start=0,
        end=len(EN_ARTICLE),
        title="Army takes Khan Shaykhun",
        outlet=sana,
        outlet_name="SANA",
        published=dt.date(2019, 8, 21),
        language="en",
        content_hash="en-hash",
    )
    ar = Article.objects.create(
        project=project,
        document=document,
        position=1,
        start=len(EN_ARTICLE),
        end=len(text),
        title="خان شيخون",
        outlet=enab,
        outlet_name="Enab Baladi",
        published=dt.date(2019, 8, 23),
        language="ar",
        content_hash="ar-hash",
    )
    cluster = EventCluster.objects.create(project=project, key="ev-khan-shaykhun", title="KS")
    world = World(project=project, users=users, cluster=cluster)
    # English: headline, fact, formula, opinion; Arabic: two sentences.
    for article, base, body in ((en, 0, EN_ARTICLE), (ar, len(EN_ARTICLE), AR_ARTICLE)):
        for position, (start, end) in enumerate(_sentences(body, base)):
            claim = Claim.objects.create(
                project=project,
                article=article,
                position=position,
                start=start,
                end=end,
                text=text[start:end],
                language=article.language,
                unit_kind="headline" if position == 0 and article == en else "body",
                cluster=cluster if position == 1 or (article == ar and position == 0) else None,
            )
            world.claims.append(claim)
            world.items.append(
                Item.objects.create(
                    project=project, kind="claim", claim=claim, k=3, order_key=claim.pk
                )
            )
    a, b, c, reviewer = users["a"], users["b"], users["c"], users["reviewer"]
    items = world.items
    # items[0] headline: a and b label, not settled (in review).
    label(items[0], a, {"is_attributed": False, "verifiability": "rhetoric_nonclaim"}, at=T0)
    label(
        items[0],
        b,
        {"is_attributed": False, "verifiability": "checkable_fact"},
        at=T0 + dt.timedelta(minutes=1),
    )
    Item.objects.filter(pk=items[0].pk).update(status="review")
    # items[1] fact: three annotators, settled by the reviewer overriding the majority.
    label(items[1], b, FACT, at=T0 + dt.timedelta(minutes=2), suggested=True, accepted=True)
    label(items[1], a, FACT, at=T0 + dt.timedelta(minutes=3))
    label(
        items[1],
        c,
        {**FACT, "verifiability": "prediction", "claim_types": []},
        at=T0 + dt.timedelta(minutes=4),
        suggested=True,
        accepted=False,
    )
    decide(
        items[1],
        reviewer,
        {**FACT, "claim_types": ["event", "numerical"]},
        changed=["claim_types"],
        note="Dates are numbers here.",
        overrides=True,
    )
    # items[2] formula-looking text: a and c agree, auto-settled.
    label(items[2], a, OPINION, at=T0 + dt.timedelta(minutes=5))
    label(items[2], c, OPINION, at=T0 + dt.timedelta(minutes=6))
    decide(items[2], None, OPINION, action="auto_settle")
    # items[3] opinion: no label at all (not exported).
    # items[4] Arabic (cluster): one label, open.
    label(items[4], c, FACT, at=T0 + dt.timedelta(minutes=7))
    # items[5] Arabic: no labels.
    for item in items:
        item.refresh_from_db()
    pair = ClaimPair.objects.create(
        project=project,
        claim_a=world.claims[1],
        claim_b=world.claims[4],
        method="embedding",
        score=0.87,
        features={"cosine": 0.87, "date_gap_days": 2},
        cluster=cluster,
    )
    pair_item = Item.objects.create(project=project, kind="pair", pair=pair, k=2, order_key=pair.pk)
    label(
        pair_item,
        a,
        {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]},
        at=T0 + dt.timedelta(minutes=8),
    )
    label(
        pair_item,
        b,
        {"same_event": "same", "relation": "discuss", "conflict_aspects": []},
        at=T0 + dt.timedelta(minutes=9),
    )
    decide(
        pair_item,
        reviewer,
        {"same_event": "same", "relation": "disagree", "conflict_aspects": ["time"]},
        changed=["relation"],
    )
    pair_item.refresh_from_db()
    world.pair, world.pair_item = pair, pair_item
    AgreementReport.objects.create(
        project=project,
        kind="claim",
        result={
            "fields": {
                "verifiability": {"alpha": 0.71, "ci": [0.6, 0.8], "items": 3, "missing_rate": 0.0},
                "is_attributed": {"alpha": 0.9, "ci": [0.8, 0.95], "items": 3, "missing_rate": 0.1},
            }
        },
    )
    Item.objects.filter(pk__in=[i.pk for i in items]).update(aggregate=None)
    Item.objects.filter(pk=items[1].pk).update(
        aggregate={"verifiability": {"checkable_fact": 0.93, "prediction": 0.07}}
    )
    for item in [*items, pair_item]:
        item.refresh_from_db()
    return world
