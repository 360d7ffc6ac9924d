"""Model assistance wired into the product: served suggestions, the per-project verifiability
model (training job, retrain check, queue uncertainty) and the suggestions A/B comparison.

- `claim_suggestion` is what `GET /api/v1/claims/{id}/suggestions/` returns: the claim's stored
  rule suggestion (computed at ingest), with the verifiability part replaced by the prediction
  of the project's newest trained model when there is one (``source`` = ``"model"``). Neither
  part ever depends on another annotator's labels for that claim: the rules read only the text,
  and the model is trained only on adjudicated (settled) items.
- The ``train`` job fits :func:`annotations.suggest.classifier.train_verifiability` on the
  adjudicated gold of settled claim items, stores a SuggestionModel row (signed blob, label
  count, metrics with a learning curve and an uncertainty-sampling simulation), then writes the
  model's uncertainty to every open claim item, which "most uncertain first" queues sort by.
- `model_maybe_retrain` is the cheap check to call after an adjudication: it enqueues the job
  when enough new adjudicated labels exist since the newest model.
- `suggestion_effect` compares the annotators who saw suggestions with those who did not.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import statistics
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from ..models import Claim, Item, Job, Label, Project, SuggestionModel
from .jobs import JobError, ProgressFn, job_create, register

log = logging.getLogger(__name__)

FIELD = "verifiability"
# The classifier's own floor (50 labels, 2 classes) gates the first model; after that a new
# model is trained once this many items were adjudicated since the newest one.
DEFAULT_MIN_LABELS_TO_TRAIN = 50
UNCERTAINTY_KIND = "least_confident"
QUEUE_STATUSES = (Item.Status.OPEN, Item.Status.FULL)
CURVE_SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
SIMULATION_CAP = 1500  # units used by the (many-fit) simulation; the model itself uses all
CURVE_CAP = 3000  # units used by the cross-validated learning curve
UPDATE_CHUNK = 500


def min_labels_to_train() -> int:
    return int(getattr(settings, "WORKBENCH_MIN_LABELS_TO_TRAIN", DEFAULT_MIN_LABELS_TO_TRAIN))


# --------------------------------------------------------------------------- model storage


def _blob_key() -> bytes:
    """HMAC key for model blobs: only blobs this server wrote are ever unpickled."""
    return hmac.new(
        str(settings.SECRET_KEY).encode(), b"workbench suggestion model", hashlib.sha256
    ).digest()


def latest_model(project: Project) -> SuggestionModel | None:
    return (
        SuggestionModel.objects.filter(project=project, field=FIELD)
        .defer("blob")
        .order_by("-created_at", "-id")
        .first()
    )


_CACHE: OrderedDict[int, Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def load_model(row: SuggestionModel) -> Any:
    """The TrainedModel of a stored row, cached per process by row id (rows never change)."""
    from ..suggest.classifier import TrainedModel

    with _CACHE_LOCK:
        if row.pk in _CACHE:
            _CACHE.move_to_end(row.pk)
            return _CACHE[row.pk]
    blob = SuggestionModel.objects.filter(pk=row.pk).values_list("blob", flat=True).first()
    if blob is None:
        raise SuggestionModel.DoesNotExist(row.pk)
    model = TrainedModel.from_bytes(bytes(blob), key=_blob_key())
    with _CACHE_LOCK:
        _CACHE[row.pk] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


# --------------------------------------------------------------------------- served suggestion


def _rules_suggestion(claim: Claim, project: Project) -> dict[str, Any]:
    stored = claim.suggestion
    if isinstance(stored, dict) and isinstance(stored.get("labels"), dict):
        return {
            "labels": dict(stored["labels"]),
            "confidence": dict(stored.get("confidence") or {}),
            "source": "rules",
        }
    # Not computed at ingest (suggestions were off then, or the rules failed): compute now.
    from ..suggest import suggest_labels
    from .imports import suggestion_registry

    try:
        registry = suggestion_registry(project)
        return suggest_labels(claim.text, claim.language, registry=registry or None).to_dict()
    except Exception:  # the rules must never break the endpoint
        log.exception("rule suggestion failed for claim %s", claim.pk)
        return {"labels": {}, "confidence": {}, "source": "rules"}


def merge_model_verifiability(base: dict[str, Any], proba: dict[str, float]) -> dict[str, Any]:
    """Replace the verifiability part of a rule suggestion by a model's prediction, keeping the
    schema's conditions: claim types only for checkable facts, commitment n/a for non-claims."""
    labels = dict(base.get("labels") or {})
    confidence = dict(base.get("confidence") or {})
    old = labels.get("verifiability")
    label, p = max(proba.items(), key=lambda kv: kv[1])
    labels["verifiability"] = label
    confidence["verifiability"] = round(float(p), 3)
    if label != "checkable_fact":
        labels.pop("claim_types", None)
        confidence.pop("claim_types", None)
    non_claim = ("rhetoric_nonclaim", "cannot_judge")
    if label in non_claim:
        labels["commitment"] = "n/a"
        confidence["commitment"] = round(float(p), 3)
    elif old in non_claim and labels.get("commitment") == "n/a":
        # The rules had no commitment to offer for a non-claim; offer none rather than n/a.
        labels.pop("commitment", None)
        confidence.pop("commitment", None)
    return {"labels": labels, "confidence": confidence, "source": "model"}


def claim_suggestion(*, claim: Claim, project: Project | None = None) -> dict[str, Any]:
    """`{"labels", "confidence", "source"}` for one claim (see the module doc)."""
    project = project or claim.project
    base = _rules_suggestion(claim, project)
    row = latest_model(project)
    if row is None:
        return base
    try:
        model = load_model(row)
        proba = model.proba_dicts([claim.text])[0]
    except Exception:  # a broken model falls back to the rules, loudly in the log
        log.exception("suggestion model %s failed for claim %s", row.pk, claim.pk)
        return base
    return merge_model_verifiability(base, proba)


# --------------------------------------------------------------------------- training data


def adjudicated_claims(project: Project) -> QuerySet[Item]:
    """Settled claim items with a gold verifiability: the training set."""
    return Item.objects.filter(
        project=project,
        kind=Item.Kind.CLAIM,
        status=Item.Status.SETTLED,
        gold__isnull=False,
        **{f"gold__{FIELD}__isnull": False},
    )


def training_data(project: Project) -> tuple[list[str], list[str], list[int]]:
    texts, labels, ids = [], [], []
    rows = adjudicated_claims(project).order_by("id").values_list("id", "claim__text", "gold")
    for item_id, text, gold in rows.iterator(chunk_size=2000):
        value = gold.get(FIELD) if isinstance(gold, dict) else None
        if isinstance(value, str) and text:
            texts.append(text)
            labels.append(value)
            ids.append(item_id)
    return texts, labels, ids


def new_adjudications(
    project: Project, since: SuggestionModel | None, cap: int | None = None
) -> int:
    """Adjudicated claims settled after the `since` model (all of them without one); with
    `cap`, counting stops there (bounded work on large projects)."""
    qs = adjudicated_claims(project)
    if since is not None:
        qs = qs.filter(settled_at__gt=since.created_at)
    return qs[:cap].count() if cap is not None else qs.count()


def training_running(project: Project) -> Job | None:
    return (
        Job.objects.filter(project=project, kind="train", state__in=["queued", "running"])
        .order_by("-created_at")
        .first()
    )


RETRAIN_CHECK_SECONDS = 30


def model_maybe_retrain(*, project: Project, user: Any = None, throttle: bool = True) -> Job | None:
    """Enqueue the `train` job when enough new adjudicated labels exist since the newest model
    (the first model needs the classifier's minimum: 50 labels in at least two classes).
    Returns the job, or None when nothing is due or a training job is already queued/running.

    Call it after an adjudication commits. With `throttle` (the default) a project is checked
    at most once per RETRAIN_CHECK_SECONDS, so a busy review session costs one cache hit per
    decision; the counts are bounded by the threshold."""
    from django.core.cache import cache

    from ..suggest.classifier import MIN_CLASSES_TO_TRAIN, MIN_LABELS_TO_TRAIN

    if throttle and not cache.add(
        f"wb:retrain-check:{project.pk}", 1, timeout=RETRAIN_CHECK_SECONDS
    ):
        return None
    if training_running(project) is not None:
        return None
    last = latest_model(project)
    need = MIN_LABELS_TO_TRAIN if last is None else min_labels_to_train()
    if new_adjudications(project, last, cap=need) < need:
        return None
    if last is None:
        classes = (
            adjudicated_claims(project)
            .values_list(f"gold__{FIELD}", flat=True)
            .distinct()
            .order_by()[:MIN_CLASSES_TO_TRAIN]
        )
        if len(list(classes)) < MIN_CLASSES_TO_TRAIN:
            return None
    return job_create(kind="train", project=project, user=user, params={"reason": "auto"})


def model_train_start(*, project: Project, user: Any) -> Job:
    """The "Train now" button: a training job regardless of the new-label threshold (it still
    fails with a readable reason below the classifier's minimum). Reuses a queued/running one."""
    running = training_running(project)
    if running is not None:
        return running
    return job_create(kind="train", project=project, user=user, params={"reason": "manual"})


# --------------------------------------------------------------------------- the job


def _curve_sizes(n: int) -> list[int]:
    train_fold = int(n * 0.8)
    sizes = [s for s in CURVE_SIZES if s < train_fold]
    return [*sizes, train_fold]


def _subsample(texts: list[str], labels: list[str], cap: int, seed: int) -> tuple[list, list]:
    if len(texts) <= cap:
        return texts, labels
    from sklearn.model_selection import train_test_split

    idx = list(range(len(texts)))
    try:
        keep, _ = train_test_split(idx, train_size=cap, stratify=labels, random_state=seed)
    except ValueError:
        keep = idx[:cap]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def _simulation(texts: list[str], labels: list[str], seed: int) -> dict[str, Any] | None:
    from collections import Counter

    from ..suggest.classifier import simulate_uncertainty_sampling

    texts, labels = _subsample(texts, labels, SIMULATION_CAP, seed)
    counts = Counter(labels)
    # Drop classes too small to appear in both the pool and the test split.
    keep = {c for c, k in counts.items() if k >= 4}
    if len(keep) < 2:
        return None
    pairs = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab in keep]
    texts, labels = [t for t, _ in pairs], [lab for _, lab in pairs]
    batch = max(10, len(texts) // 40)
    try:
        sim = simulate_uncertainty_sampling(texts, labels, seed=seed, batch=batch)
    except ValueError as exc:  # too small to split by class
        log.info("simulation skipped: %s", exc)
        return None
    mean_random = _mean_curve([r["curve"] for r in sim["random"]["runs"]])
    return {
        "units": len(texts),
        "pool": sim["pool"],
        "test": sim["test"],
        "batch": sim["batch"],
        "full_pool_macro_f1": sim["full_pool_macro_f1"],
        "target_macro_f1": sim["target_macro_f1"],
        "uncertainty_labels": sim["uncertainty"]["labels_to_target"],
        "random_labels": sim["random"]["labels_to_target"],
        "labels_saved": sim["labels_saved"],
        "uncertainty_curve": sim["uncertainty"]["curve"],
        "random_curve": mean_random,
    }


def _mean_curve(curves: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, float]]:
    by_n: dict[int, list[float]] = {}
    for curve in curves:
        for point in curve:
            by_n.setdefault(int(point["n"]), []).append(float(point["macro_f1"]))
    return [{"n": n, "macro_f1": sum(v) / len(v)} for n, v in sorted(by_n.items())]


def items_uncertainty_update(
    *,
    project: Project,
    model: Any = None,
    item_ids: Iterable[int] | None = None,
    min_id: int | None = None,
) -> int:
    """Write the model's uncertainty to the project's queued claim items (open or partly
    leased; items in review keep the annotators' disagreement figure). Returns how many were
    written. Without a model (none trained yet) nothing changes."""
    from ..suggest.classifier import uncertainty

    if model is None:
        row = latest_model(project)
        if row is None:
            return 0
        model = load_model(row)
    qs = Item.objects.filter(project=project, kind=Item.Kind.CLAIM, status__in=QUEUE_STATUSES)
    if item_ids is not None:
        qs = qs.filter(pk__in=list(item_ids))
    if min_id is not None:
        qs = qs.filter(pk__gte=min_id)
    rows = list(qs.order_by("id").values_list("id", "claim__text"))
    written = 0
    for start in range(0, len(rows), UPDATE_CHUNK):
        chunk = rows[start : start + UPDATE_CHUNK]
        values = uncertainty(model.predict_proba([text for _, text in chunk]), UNCERTAINTY_KIND)
        objs = [
            Item(pk=pk, uncertainty=round(float(u), 6))
            for (pk, _), u in zip(chunk, values, strict=True)
        ]
        with transaction.atomic():
            # The status filter is re-checked under each row's lock: an item that went to
            # review meanwhile keeps its review uncertainty.
            written += Item.objects.filter(project=project, status__in=QUEUE_STATUSES).bulk_update(
                objs, ["uncertainty"]
            )
    return written


def model_train(*, project: Project, job_id: str = "", progress: ProgressFn | None = None) -> dict:
    """Train, store and apply a verifiability model from the project's adjudicated gold."""
    from collections import Counter

    from ..suggest.classifier import NotEnoughLabels, learning_curve, train_verifiability

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    if job_id:
        done = SuggestionModel.objects.filter(project=project, metrics__job=job_id).first()
        if done is not None:  # a re-run of a job whose model was stored: apply, do not refit
            written = items_uncertainty_update(project=project, model=load_model(done))
            return {"model": done.pk, "n_labels": done.n_labels, "uncertainty_items": written}
    report(0.02, "reading adjudicated labels")
    texts, labels, _ = training_data(project)
    seed = int(project.seed)
    try:
        model = train_verifiability(texts, labels, seed=seed)
    except NotEnoughLabels as exc:
        raise JobError(
            f"Not enough adjudicated labels to train: {exc} "
            f"({len(labels)} adjudicated claims, {len(set(labels))} classes)."
        ) from None
    report(0.25, "learning curve")
    counts = Counter(labels)
    curve: list[dict[str, float]] = []
    if min(counts.values()) >= 2:
        lc_texts, lc_labels = _subsample(texts, labels, CURVE_CAP, seed)
        curve = learning_curve(lc_texts, lc_labels, _curve_sizes(len(lc_texts)), seed=seed)
    report(0.5, "simulating uncertainty-first order")
    simulation = _simulation(texts, labels, seed)
    metrics = {
        "job": job_id,
        "classes": model.classes,
        "class_counts": dict(counts),
        "calibrated": model.calibrated,
        "learning_curve": curve,
        "macro_f1": curve[-1]["macro_f1"] if curve else None,
        "simulation": simulation,
        "uncertainty": UNCERTAINTY_KIND,
        "effect": suggestion_effect(project=project),
    }
    report(0.8, "storing the model")
    row = SuggestionModel.objects.create(
        project=project,
        field=FIELD,
        n_labels=len(labels),
        metrics=metrics,
        blob=model.to_bytes(key=_blob_key()),
    )
    with _CACHE_LOCK:
        _CACHE[row.pk] = model
    report(0.85, "updating queue uncertainty")
    written = items_uncertainty_update(project=project, model=model)
    return {
        "model": row.pk,
        "n_labels": len(labels),
        "macro_f1": metrics["macro_f1"],
        "labels_saved": simulation["labels_saved"] if simulation else None,
        "uncertainty_items": written,
    }


@register("train")
def _train_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    if job.project is None:
        raise JobError("A training job needs a project.")
    return model_train(project=job.project, job_id=str(job.pk), progress=progress)


@register("uncertainty")
def _uncertainty_job(job: Job, progress: ProgressFn) -> dict[str, Any]:
    """Score queued claims with the newest model, e.g. after an import: params
    `{"min_id": first new item id}` limits it to the new items (default: every queued claim)."""
    if job.project is None:
        raise JobError("An uncertainty job needs a project.")
    raw = job.params.get("min_id")
    min_id = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
    written = items_uncertainty_update(project=job.project, min_id=min_id)
    return {"uncertainty_items": written}


# --------------------------------------------------------------------------- A/B effect


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


@dataclass
class _Arm:
    labels: int = 0
    accepted: int = 0
    on_settled: int = 0
    annotators: set[int] = dc_field(default_factory=set)
    seconds: list[float] = dc_field(default_factory=list)
    agree: dict[str, list[int]] = dc_field(default_factory=dict)

    def summary(self, *, suggested: bool) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "annotators": len(self.annotators),
            "median_seconds": _median(self.seconds),
            "acceptance_rate": self.accepted / self.labels if suggested and self.labels else None,
            "labels_on_settled_items": self.on_settled,
        }


def suggestion_effect(*, project: Project) -> dict[str, Any]:
    """Annotators who saw suggestions (`Label.suggested`) against those who did not, on claim
    labels: per field, the share of labels equal to the adjudicated gold (settled items only,
    fields present in the label or the gold); median seconds per item; acceptance rate (labels
    submitted exactly as suggested). Reads only stored rows; safe to run in a job."""
    from ..schema.validation import fields_of
    from .adjudication import canon
    from .projects import current_schema

    names = [f["name"] for f in fields_of(current_schema(project).schema, "claim")]
    arms = {True: _Arm(), False: _Arm()}
    rows = (
        Label.objects.filter(item__project=project, item__kind=Item.Kind.CLAIM)
        .order_by("id")
        .values_list(
            "suggested",
            "accepted",
            "seconds",
            "annotator_id",
            "values",
            "item__status",
            "item__gold",
        )
    )
    for suggested, accepted, seconds, annotator, values, status, gold in rows.iterator(2000):
        arm = arms[bool(suggested)]
        arm.labels += 1
        arm.annotators.add(annotator)
        if seconds is not None:
            arm.seconds.append(float(seconds))
        if accepted:
            arm.accepted += 1
        if status != Item.Status.SETTLED or not isinstance(gold, dict):
            continue
        arm.on_settled += 1
        values = values if isinstance(values, dict) else {}
        for name in names:
            if name not in values and name not in gold:
                continue
            tally = arm.agree.setdefault(name, [0, 0])
            tally[0] += int(canon(values.get(name)) == canon(gold.get(name)))
            tally[1] += 1

    fields = []
    for name in names:
        row: dict[str, Any] = {"name": name}
        for flag, arm_name in ((True, "suggested"), (False, "unsuggested")):
            hit, n = arms[flag].agree.get(name, (0, 0))
            row[arm_name] = {"agreement": hit / n if n else None, "n": n}
        if row["suggested"]["n"] or row["unsuggested"]["n"]:
            a, b = row["suggested"]["agreement"], row["unsuggested"]["agreement"]
            row["difference"] = a - b if a is not None and b is not None else None
            fields.append(row)
    return {
        "mode": project.suggestions,
        "suggested": arms[True].summary(suggested=True),
        "unsuggested": arms[False].summary(suggested=False),
        "fields": fields,
    }
