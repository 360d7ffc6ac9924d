"""Cross-source pairs and event clusters: embed claims once, store candidate pairs once, keep
event clusters up to date without undoing an admin's merges and splits, and queue the pairs
worth annotating.

Which claims are paired (documented in README "Pairs and events"): claims whose unit kind is
``body`` or ``headline`` and whose ``claim_likelihood`` is at least :data:`LIKELIHOOD_FLOOR`.
Bylines, captions, boilerplate, cross-links and the like never describe an event.

The candidate generation itself is :mod:`annotations.pairing` (pure functions); this module
is the storage around it:

* **Embeddings** (:func:`embeddings_ensure`): one ``ClaimEmbedding`` per claim, the vector as
  ``float16`` bytes with the encoder's model name. Only claims without a vector of the current
  model are encoded, in batches, each batch committed, so a re-run or a crash never encodes a
  claim twice.
* **Pairs** (:func:`pairs_compute`): the first run (or ``incremental=False``) ranks every
  eligible claim against all others; later runs rank only *new* claims (``paired_at`` still
  null on their embedding) against all. Every top-k candidate scoring at least
  :data:`STORE_FLOOR` is stored once (``claim_a < claim_b``, unique), so weak pairs still count
  as evidence against merging clusters, and re-running adds nothing.
* **Clusters** (:func:`clusters_refresh`): automatic clusters are rebuilt from all stored
  pairs with :func:`annotations.pairing.build_clusters`; their key is ``e<smallest claim
  id>``, which stays put when later claims join. Clusters an admin merged or split are
  ``manual``: their members are never moved; a new claim joins one only when its pairs into it
  average at least the cluster threshold.
* **Items**: every stored pair scoring at least the project's pair threshold
  (``PairingSettings.threshold``) gets a pair item (idempotent).
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from threadpoolctl import threadpool_limits

from ..models import Article, Claim, ClaimEmbedding, ClaimPair, EventCluster, Job, Project
from ..models.pairs import ClusterEdit, PairingSettings
from .items import items_create_for_pairs
from .jobs import JobError, ProgressFn, register

log = logging.getLogger(__name__)

#: Unit kinds that are paired.
PAIRED_KINDS = ("body", "headline")
#: Claims less likely than this to be a claim are not paired (the sample page: 382 of 393
#: body/headline units pass).
LIKELIHOOD_FLOOR = 0.3
#: Candidate pairs scoring below this are not stored (they carry almost no evidence).
STORE_FLOOR = 0.05
#: Claims encoded per committed batch.
EMBED_BATCH = 256
#: Rows per bulk insert / update.
WRITE_BATCH = 2000
#: On-the-fly candidates (a claim with no stored pairs): at most this many claims that have
#: no vector yet are encoded (and stored) for the pool; claims with vectors all take part.
LIVE_ENCODE_CAP = 1000
#: and the pool is at most this many claims (closest article dates first when known).
LIVE_POOL_CAP = 5000


def _blas_threads() -> int:
    """BLAS threads for the pairing products (``PAIRING_BLAS_THREADS``, default 1).

    One thread per job: with other jobs on the cores, two BLAS threads spin-wait and
    cost ~2.5x the CPU for the same work (retrieval of 20k claims: 20.1 CPU-s against
    8.2); the way to use both cores is two jobs, as for the encoder.
    """
    env = os.environ.get("PAIRING_BLAS_THREADS", "")
    return max(1, int(env)) if env.strip().isdigit() else 1


Progress = Callable[..., None] | None


def _noop(fraction: float, message: str = "") -> None:
    return None


# --- settings and eligibility -------------------------------------------------------------


def pairing_settings(project: Project) -> PairingSettings:
    """The project's pairing thresholds (created with the defaults on first use)."""
    row, _ = PairingSettings.objects.get_or_create(project=project)
    return row


def pairing_settings_update(
    *, project: Project, threshold: float, cluster_threshold: float
) -> PairingSettings:
    if not (0.0 <= threshold <= 1.0 and 0.0 <= cluster_threshold <= 1.0):
        raise ValueError("Thresholds must be between 0 and 1.")
    row = pairing_settings(project)
    row.threshold = threshold
    row.cluster_threshold = cluster_threshold
    row.save(update_fields=["threshold", "cluster_threshold", "updated_at"])
    return row


def eligible_claims(project: Project) -> QuerySet[Claim]:
    """Claims that take part in pairing (see the module docstring)."""
    return Claim.objects.filter(
        project=project, unit_kind__in=PAIRED_KINDS, claim_likelihood__gte=LIKELIHOOD_FLOOR
    )


# --- embeddings ---------------------------------------------------------------------------


def _model_name() -> str:
    from annotations.pairing import encoder

    return encoder.MODEL_NAME


def embeddings_ensure(*, claim_ids: Sequence[int], progress: Progress = None) -> int:
    """Store a vector for every claim of ``claim_ids`` that has none of the current model.

    Returns the number of claims encoded (0 on a re-run). Each batch is committed on its own.
    """
    from annotations.pairing import encoder

    report = progress or _noop
    model = encoder.MODEL_NAME
    have: set[int] = set()
    ids = list(claim_ids)
    for start in range(0, len(ids), 10_000):
        have.update(
            ClaimEmbedding.objects.filter(
                claim_id__in=ids[start : start + 10_000], model=model
            ).values_list("claim_id", flat=True)
        )
    todo = [i for i in ids if i not in have]
    done = 0
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start : start + EMBED_BATCH]
        texts = dict(Claim.objects.filter(pk__in=batch).values_list("pk", "text"))
        batch = [i for i in batch if i in texts]
        vectors = encoder.encode([texts[i] for i in batch])
        rows = [
            ClaimEmbedding(claim_id=i, model=model, vector=encoder.to_bytes(v))
            for i, v in zip(batch, vectors, strict=True)
        ]
        with transaction.atomic():
            # A vector of an older model is replaced (and the claim paired again).
            ClaimEmbedding.objects.filter(claim_id__in=batch).exclude(model=model).delete()
            ClaimEmbedding.objects.bulk_create(rows, ignore_conflicts=True)
        done += len(rows)
        report(done / max(1, len(todo)), f"sentence vectors: {done} of {len(todo)}")
    return done


def _infos(claim_ids: Iterable[int], *, vectors: bool = True) -> list[Any]:
    """ClaimInfo rows for the pairing package, in article order (its context features read
    neighbouring claims of one article in the order given)."""
    from annotations.pairing import ClaimInfo, encoder

    ids = list(claim_ids)
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), 10_000):
        rows.extend(
            Claim.objects.filter(pk__in=ids[start : start + 10_000]).values_list(
                "pk",
                "article_id",
                "position",
                "text",
                "language",
                "article__language",
                "article__outlet__key",
                "article__outlet_name",
                "article__published",
            )
        )
    rows.sort(key=lambda r: (r[1], r[2]))
    emb: dict[int, bytes] = {}
    if vectors:
        model = encoder.MODEL_NAME
        for start in range(0, len(ids), 5_000):
            emb.update(
                (cid, bytes(blob))
                for cid, blob in ClaimEmbedding.objects.filter(
                    claim_id__in=ids[start : start + 5_000], model=model
                ).values_list("claim_id", "vector")
            )
    with_vector = [r[0] for r in rows if r[0] in emb]
    decoded = encoder.stack_from_bytes([emb[pk] for pk in with_vector])
    vector_of = dict(zip(with_vector, decoded, strict=True))
    out = []
    for pk, article_id, _pos, text, lang, art_lang, outlet_key, outlet_name, published in rows:
        out.append(
            ClaimInfo(
                id=pk,
                article_id=article_id,
                outlet=(outlet_key or outlet_name or "").strip() or None,
                language=lang or art_lang or "",
                text=text,
                published=published,
                embedding=vector_of.get(pk),
            )
        )
    return out


# --- pairs ----------------------------------------------------------------------------------


def _store_pairs(project: Project, candidates: Sequence[Any]) -> int:
    """Insert candidate pairs (``a < b``); existing ones are left alone. Returns rows added."""
    before = ClaimPair.objects.filter(project=project).count()
    rows = []
    for p in candidates:
        if p.score < STORE_FLOOR:
            continue
        a, b = (p.a, p.b) if p.a < p.b else (p.b, p.a)
        rows.append(
            ClaimPair(
                project=project,
                claim_a_id=a,
                claim_b_id=b,
                method=p.method[:16],
                score=float(p.score),
                features=p.features,
            )
        )
    ClaimPair.objects.bulk_create(rows, batch_size=WRITE_BATCH, ignore_conflicts=True)
    return ClaimPair.objects.filter(project=project).count() - before


def pairs_compute(
    *, project: Project, progress: Progress = None, incremental: bool = True
) -> dict[str, Any]:
    """Embed, pair, cluster and queue (see the module docstring); returns a JSON summary."""
    from annotations.pairing import all_candidates, incremental_candidates

    report = progress or _noop
    started = time.monotonic()
    config = pairing_settings(project)
    eligible = list(eligible_claims(project).order_by("pk").values_list("pk", flat=True))
    report(0.0, f"{len(eligible)} claims to pair")

    def embed_step(fraction: float, message: str = "") -> None:
        report(0.6 * fraction, message)

    embedded = embeddings_ensure(claim_ids=eligible, progress=embed_step)
    t_embed = time.monotonic() - started
    eligible_set = set(eligible)
    unpaired = {
        cid
        for cid in ClaimEmbedding.objects.filter(
            claim__project=project, paired_at__isnull=True
        ).values_list("claim_id", flat=True)
        if cid in eligible_set
    }
    paired_before = ClaimEmbedding.objects.filter(
        claim__project=project, paired_at__isnull=False
    ).exists()
    mode = "incremental" if incremental and paired_before else "full"
    report(0.6, f"pairing ({mode})")
    infos = _infos(eligible) if (mode == "full" or unpaired) else []
    with threadpool_limits(limits=_blas_threads()):
        if mode == "full":
            queries = [c.id for c in infos]
            candidates = all_candidates(infos, threshold=None) if len(infos) > 1 else []
        else:
            new = [c for c in infos if c.id in unpaired]
            old = [c for c in infos if c.id not in unpaired]
            queries = [c.id for c in new]
            candidates = incremental_candidates(new, old, threshold=None) if new else []
    t_pair = time.monotonic() - started - t_embed
    report(0.8, f"storing {len(candidates)} candidate pairs")
    with transaction.atomic():
        # One writer per project at a time (two runs started together wait here; the second
        # finds the pairs stored and the items created, and adds nothing).
        PairingSettings.objects.select_for_update().filter(pk=config.pk).first()
        added = _store_pairs(project, candidates)
        now = timezone.now()
        for start in range(0, len(queries), 10_000):
            ClaimEmbedding.objects.filter(claim_id__in=queries[start : start + 10_000]).update(
                paired_at=now
            )
        report(0.85, "event clusters")
        clusters = clusters_refresh(project=project, new_claims=queries)
        report(0.95, "queue items")
        todo = ClaimPair.objects.filter(
            project=project, score__gte=config.threshold, item__isnull=True
        ).order_by("pk")
        items = items_create_for_pairs(project=project, pairs=todo)
    report(1.0, "done")
    return {
        "project": project.slug,
        "mode": mode,
        "eligible_claims": len(eligible),
        "embedded": embedded,
        "paired_claims": len(queries),
        "candidates": len(candidates),
        "pairs_added": added,
        "pairs_total": ClaimPair.objects.filter(project=project).count(),
        "pair_threshold": config.threshold,
        "items_added": items,
        "clusters": clusters["clusters"],
        "clustered_claims": clusters["clustered_claims"],
        "manual_clusters": clusters["manual_clusters"],
        "seconds": {
            "embed": round(t_embed, 2),
            "pair": round(t_pair, 2),
            "total": round(time.monotonic() - started, 2),
        },
    }


@register("pairs")
def run_pairs(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """The background job: ``params`` may hold ``{"incremental": false}`` for a full run."""
    if job.project is None:
        raise JobError("A pairs job needs a project.")
    incremental = bool((job.params or {}).get("incremental", True))
    return pairs_compute(project=job.project, progress=progress, incremental=incremental)


def pairs_job_create(*, project: Project, user: Any, incremental: bool = True) -> Job:
    """Start the pairs job after commit (the events page's button and the import hook)."""
    from .jobs import job_create

    return job_create(kind="pairs", project=project, user=user, params={"incremental": incremental})


# --- clusters -----------------------------------------------------------------------------


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:119] + "…"


def _free_key(project: Project, base: str) -> str:
    taken = set(
        EventCluster.objects.filter(project=project, key__startswith=base).values_list(
            "key", flat=True
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def clusters_refresh(*, project: Project, new_claims: Iterable[int] = ()) -> dict[str, int]:
    """Rebuild automatic clusters from the stored pairs; keep manual ones (see the module
    docstring). ``new_claims`` are the claims paired just now: only they may join a manual
    cluster."""
    from annotations.pairing import CandidatePair, build_clusters

    threshold = pairing_settings(project).cluster_threshold
    pairs = list(
        ClaimPair.objects.filter(project=project).values_list(
            "pk", "claim_a_id", "claim_b_id", "score", "cluster_id"
        )
    )
    manual_of: dict[int, int] = dict(
        Claim.objects.filter(project=project, cluster__manual=True).values_list("pk", "cluster_id")
    )
    # New claims may join a manual cluster when their pairs into it are strong on average.
    new = {c for c in new_claims if c not in manual_of}
    if new and manual_of:
        links: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for _pk, a, b, score, _c in pairs:
            for x, y in ((a, b), (b, a)):
                if x in new and y in manual_of:
                    links[x][manual_of[y]].append(score)
        joins: dict[int, int] = {}
        for claim, by_cluster in links.items():
            best = max(by_cluster.items(), key=lambda kv: (sum(kv[1]) / len(kv[1]), -kv[0]))
            scores = best[1]
            if sum(scores) / len(scores) >= threshold:
                joins[claim] = best[0]
        by_target: dict[int, list[int]] = defaultdict(list)
        for claim, cluster_id in joins.items():
            by_target[cluster_id].append(claim)
        for cluster_id, claims in by_target.items():
            Claim.objects.filter(pk__in=claims).update(cluster_id=cluster_id)
        manual_of.update(joins)
    auto_pairs = [
        CandidatePair(a, b, score, "")
        for _pk, a, b, score, _c in pairs
        if a not in manual_of and b not in manual_of
    ]
    built = build_clusters(auto_pairs, threshold=threshold)
    wanted = {f"e{c.key}": list(c.members) for c in built}
    with transaction.atomic():
        existing = dict(
            EventCluster.objects.filter(project=project, manual=False).values_list("key", "pk")
        )
        stale = [pk for key, pk in existing.items() if key not in wanted]
        missing = [key for key in wanted if key not in existing]
        texts = dict(
            Claim.objects.filter(pk__in=[wanted[k][0] for k in missing]).values_list("pk", "text")
        )
        EventCluster.objects.bulk_create(
            [
                EventCluster(project=project, key=key, title=_title(texts.get(wanted[key][0], "")))
                for key in missing
            ],
            batch_size=WRITE_BATCH,
            ignore_conflicts=True,
        )
        ids = dict(
            EventCluster.objects.filter(project=project, key__in=list(wanted)).values_list(
                "key", "pk"
            )
        )
        target: dict[int, int | None] = {}
        for key, members in wanted.items():
            for claim in members:
                target[claim] = ids[key]
        current: dict[int, int | None] = dict(
            Claim.objects.filter(project=project, cluster__manual=False).values_list(
                "pk", "cluster_id"
            )
        )
        moves: dict[int | None, list[int]] = defaultdict(list)
        for claim, now_in in current.items():
            if target.get(claim) != now_in:
                moves[target.get(claim)].append(claim)
        for claim, goes_to in target.items():
            if claim not in current:
                moves[goes_to].append(claim)
        for dest, moved in moves.items():
            for start in range(0, len(moved), 10_000):
                Claim.objects.filter(pk__in=moved[start : start + 10_000]).update(cluster_id=dest)
        if stale:
            EventCluster.objects.filter(pk__in=stale, manual=False).delete()
        _pairs_link_clusters(project, pairs)
    return {
        "clusters": EventCluster.objects.filter(project=project).count(),
        "clustered_claims": Claim.objects.filter(project=project, cluster__isnull=False).count(),
        "manual_clusters": EventCluster.objects.filter(project=project, manual=True).count(),
    }


def _pairs_link_clusters(project: Project, pairs: Sequence[tuple[Any, ...]]) -> None:
    """ClaimPair.cluster = the cluster both claims are in (else null); changed rows only."""
    of = dict(
        Claim.objects.filter(project=project, cluster__isnull=False).values_list("pk", "cluster_id")
    )
    moves: dict[int | None, list[int]] = defaultdict(list)
    for pk, a, b, _score, cluster_id in pairs:
        ca, cb = of.get(a), of.get(b)
        want = ca if ca is not None and ca == cb else None
        if want != cluster_id:
            moves[want].append(pk)
    for cluster_id, pks in moves.items():
        for start in range(0, len(pks), 10_000):
            ClaimPair.objects.filter(pk__in=pks[start : start + 10_000]).update(
                cluster_id=cluster_id
            )


class ClusterEditError(ValueError):
    """A merge or split that cannot be done (the message says why)."""


def clusters_merge(*, project: Project, cluster_ids: Sequence[int], user: Any) -> EventCluster:
    """Merge clusters into the largest of them (ties: the oldest); the result is manual."""
    ids = list(dict.fromkeys(int(i) for i in cluster_ids))
    if len(ids) < 2:
        raise ClusterEditError("Choose at least two events to merge.")
    with transaction.atomic():
        clusters = list(
            EventCluster.objects.select_for_update()
            .filter(project=project, pk__in=ids)
            .order_by("pk")
        )
        if len(clusters) != len(ids):
            raise ClusterEditError("Some of these events do not exist in this project.")
        sizes = {c.pk: c.claims.count() for c in clusters}
        target = max(clusters, key=lambda c: (sizes[c.pk], -c.pk))
        others = [c for c in clusters if c.pk != target.pk]
        Claim.objects.filter(cluster__in=others).update(cluster=target)
        target.manual = True
        target.save(update_fields=["manual", "updated_at"])
        ClusterEdit.objects.create(
            project=project,
            action=ClusterEdit.Action.MERGE,
            cluster=target,
            clusters=[c.key for c in clusters],
            user=user if getattr(user, "is_authenticated", False) else None,
        )
        EventCluster.objects.filter(pk__in=[c.pk for c in others]).delete()
        _relink(project, [target.pk])
    return target


def cluster_split(*, cluster: EventCluster, claim_ids: Sequence[int], user: Any) -> EventCluster:
    """Move ``claim_ids`` of ``cluster`` into a new cluster; both become manual."""
    ids = sorted(set(int(i) for i in claim_ids))
    if not ids:
        raise ClusterEditError("Choose the claims that form the new event.")
    with transaction.atomic():
        cluster = EventCluster.objects.select_for_update().get(pk=cluster.pk)
        members = set(cluster.claims.values_list("pk", flat=True))
        foreign = [i for i in ids if i not in members]
        if foreign:
            raise ClusterEditError(f"Claims not in this event: {', '.join(map(str, foreign))}.")
        if len(ids) == len(members):
            raise ClusterEditError("Leave at least one claim in the original event.")
        project = cluster.project
        texts = dict(Claim.objects.filter(pk=ids[0]).values_list("pk", "text"))
        new = EventCluster.objects.create(
            project=project,
            key=_free_key(project, f"s{ids[0]}"),
            title=_title(texts.get(ids[0], "")),
            manual=True,
        )
        Claim.objects.filter(pk__in=ids).update(cluster=new)
        cluster.manual = True
        cluster.save(update_fields=["manual", "updated_at"])
        ClusterEdit.objects.create(
            project=project,
            action=ClusterEdit.Action.SPLIT,
            cluster=cluster,
            clusters=[cluster.key, new.key],
            claims=ids,
            user=user if getattr(user, "is_authenticated", False) else None,
        )
        _relink(project, [cluster.pk, new.pk])
    return new


def _relink(project: Project, cluster_ids: Sequence[int]) -> None:
    claim_ids = list(Claim.objects.filter(cluster_id__in=cluster_ids).values_list("pk", flat=True))
    pairs = list(
        ClaimPair.objects.filter(project=project)
        .filter(Q(claim_a_id__in=claim_ids) | Q(claim_b_id__in=claim_ids) | Q(cluster_id=None))
        .values_list("pk", "claim_a_id", "claim_b_id", "score", "cluster_id")
    )
    _pairs_link_clusters(project, pairs)


# --- candidates for one claim -------------------------------------------------------------


def _live_pool(claim: Claim) -> list[int]:
    """Claim ids for on-the-fly candidates: eligible claims with a vector, plus up to
    LIVE_ENCODE_CAP without; at most LIVE_POOL_CAP, newest articles first."""
    qs = eligible_claims(claim.project).exclude(pk=claim.pk)
    published = claim.article.published
    with_vec = qs.filter(embedding__model=_model_name())
    without = qs.exclude(pk__in=with_vec.values("pk"))
    if published is not None:
        with_vec = with_vec.order_by("-article__published", "pk")
        without = without.order_by("-article__published", "pk")
    else:
        with_vec = with_vec.order_by("-pk")
        without = without.order_by("-pk")
    ids = list(with_vec.values_list("pk", flat=True)[:LIVE_POOL_CAP])
    room = max(0, min(LIVE_ENCODE_CAP, LIVE_POOL_CAP - len(ids)))
    if room:
        ids.extend(without.values_list("pk", flat=True)[:room])
    return ids


def claim_candidates(*, claim: Claim, limit: int = 10) -> list[dict[str, Any]]:
    """Cross-source candidates for a claim, best first.

    From the stored pairs when the claim has any; otherwise computed now against the project's
    eligible claims (vectors that had to be computed are stored; no pair is stored, so the
    pairs job still pairs the claim). Each row: ``{"claim": Claim, "score", "method",
    "stored"}``.
    """
    stored = list(
        ClaimPair.objects.filter(Q(claim_a=claim) | Q(claim_b=claim))
        .select_related("claim_a__article__outlet", "claim_b__article__outlet")
        .order_by("-score", "pk")[:limit]
    )
    if stored:
        return [
            {
                "claim": p.claim_b if p.claim_a_id == claim.pk else p.claim_a,
                "score": p.score,
                "method": p.method,
                "stored": True,
            }
            for p in stored
        ]
    from annotations.pairing import candidates_for

    pool_ids = _live_pool(claim)
    if not pool_ids:
        return []
    embeddings_ensure(claim_ids=[claim.pk, *pool_ids])
    infos = _infos([claim.pk, *pool_ids])
    query = next(c for c in infos if c.id == claim.pk)
    pool = [c for c in infos if c.id != claim.pk]
    with threadpool_limits(limits=_blas_threads()):
        found = candidates_for(query, pool, limit=limit)
    others = Claim.objects.select_related("article__outlet").in_bulk([p.b for p in found])
    return [
        {"claim": others[p.b], "score": p.score, "method": p.method, "stored": False}
        for p in found
        if p.b in others
    ]


def outlet_label(claim: Claim) -> str:
    article: Article = claim.article
    if article.outlet is not None:
        return article.outlet.name
    return article.outlet_name or ""
