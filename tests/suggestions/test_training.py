"""The `train` job: retrain only when enough new adjudicated labels exist, store the model with
its metrics, write uncertainty to queued items, and the uncertain queue order follows it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotations.models import Item, Job, Project, SuggestionModel
from annotations.services.jobs import job_run
from annotations.services.queue import item_lease_next
from annotations.services.suggestions import (
    latest_model,
    load_model,
    model_maybe_retrain,
    model_train,
    model_train_start,
)
from annotations.suggest.classifier import uncertainty
from tests.suggestions.helpers import TEMPLATES, adjudicated, make_open_items, settle

pytestmark = pytest.mark.django_db


def test_no_model_below_the_classifier_minimum(project):
    adjudicated(project, per_class=16)  # 48 < 50
    assert model_maybe_retrain(project=project) is None
    assert not Job.objects.filter(kind="train").exists()


def test_one_class_is_not_enough(project):
    items = make_open_items(project, ["opinion"] * 55)
    settle(items, ["opinion"] * 55)
    assert model_maybe_retrain(project=project) is None


def test_retrain_only_after_enough_new_adjudications(project, admin, settings):
    settings.WORKBENCH_MIN_LABELS_TO_TRAIN = 6
    adjudicated(project, per_class=17)  # 51
    job = model_maybe_retrain(project=project, user=admin, throttle=False)
    assert job is not None and job.kind == "train" and job.state == "queued"
    # A second check while that job is queued does not pile up another.
    assert model_maybe_retrain(project=project, throttle=False) is None
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "done", job.error
    assert job.result["n_labels"] == 51
    first = latest_model(project)
    assert first is not None and first.n_labels == 51

    later = make_open_items(project, ["opinion", "prediction"] * 4)
    settle(later[:5], ["opinion", "prediction", "opinion", "prediction", "opinion"])
    assert model_maybe_retrain(project=project, throttle=False) is None  # 5 new < 6
    settle(later[5:6], ["prediction"])
    second_job = model_maybe_retrain(project=project, throttle=False)
    assert second_job is not None
    job_run(job_id=str(second_job.pk))
    assert latest_model(project).n_labels == 57
    assert SuggestionModel.objects.filter(project=project).count() == 2
    # Re-running a finished job changes nothing (idempotent guard in job_run).
    job_run(job_id=str(second_job.pk))
    assert SuggestionModel.objects.filter(project=project).count() == 2


def test_checks_are_throttled_per_project(project, other_project, settings):
    settings.WORKBENCH_MIN_LABELS_TO_TRAIN = 1
    assert model_maybe_retrain(project=project) is None  # nothing adjudicated: checked
    adjudicated(project, per_class=17)
    assert model_maybe_retrain(project=project) is None  # within the window: not checked
    assert not Job.objects.filter(kind="train").exists()
    assert model_maybe_retrain(project=other_project) is None  # other projects are separate
    from django.core.cache import cache

    cache.delete(f"wb:retrain-check:{project.pk}")
    assert model_maybe_retrain(project=project) is not None


def test_uncertainty_job_scores_new_items_only(project):
    adjudicated(project, per_class=17)
    old = make_open_items(project, ["opinion"])
    model_train(project=project)
    new = make_open_items(project, ["prediction", "checkable_fact"])
    Item.objects.filter(pk=old[0].pk).update(uncertainty=0.5)
    job = Job.objects.create(kind="uncertainty", project=project, params={"min_id": new[0].pk})
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "done" and job.result == {"uncertainty_items": 2}
    assert Item.objects.get(pk=old[0].pk).uncertainty == 0.5
    assert all(Item.objects.get(pk=i.pk).uncertainty > 0 for i in new)


def test_rerun_of_an_interrupted_job_reuses_its_model(project):
    adjudicated(project, per_class=17)
    job = model_train_start(project=project, user=None)
    model_train(project=project, job_id=str(job.pk))
    again = model_train(project=project, job_id=str(job.pk))
    assert SuggestionModel.objects.filter(project=project).count() == 1
    assert again["model"] == latest_model(project).pk


def test_manual_training_below_minimum_fails_with_a_reason(project, admin):
    adjudicated(project, per_class=5)
    job = model_train_start(project=project, user=admin)
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "failed"
    assert "Not enough adjudicated labels" in job.error and "15 adjudicated" in job.error


def test_model_metrics_and_blob(project):
    adjudicated(project, per_class=17)
    result = model_train(project=project)
    row = SuggestionModel.objects.get(pk=result["model"])
    metrics = row.metrics
    assert sorted(metrics["classes"]) == sorted(TEMPLATES)
    assert metrics["class_counts"] == {lab: 17 for lab in TEMPLATES}
    curve = metrics["learning_curve"]
    assert [p["n"] for p in curve] == sorted(p["n"] for p in curve) and curve[-1]["n"] == 40
    assert all(0 <= p["macro_f1"] <= 1 for p in curve)
    assert metrics["macro_f1"] > 0.9  # the templates are separable
    sim = metrics["simulation"]
    assert sim["units"] == 51 and sim["uncertainty_curve"] and sim["random_curve"]
    assert metrics["effect"]["suggested"]["labels"] == 0
    # The blob is signed: tampering is refused.
    from annotations.suggest.classifier import TrainedModel

    blob = bytes(SuggestionModel.objects.values_list("blob", flat=True).get(pk=row.pk))
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(blob[:-1] + bytes([blob[-1] ^ 1]), key=b"another key")


def test_uncertainty_written_to_queued_items_only(project, annotator):
    adjudicated(project, per_class=17)
    queued = make_open_items(project, ["opinion", "prediction", "checkable_fact"])
    in_review = make_open_items(project, ["opinion"])[0]
    Item.objects.filter(pk=in_review.pk).update(status="review", uncertainty=0.123)
    Item.objects.filter(pk=queued[0].pk).update(k=1)
    lease = item_lease_next(project=project, user=annotator)
    assert lease is not None and lease.item_id == queued[0].pk
    assert Item.objects.get(pk=queued[0].pk).status == "full"  # leased items keep a figure too
    result = model_train(project=project)
    model = load_model(SuggestionModel.objects.get(pk=result["model"]))
    open_items = Item.objects.filter(
        project=project, kind="claim", status__in=["open", "full"]
    ).select_related("claim")
    assert result["uncertainty_items"] == open_items.count() == 3
    for item in open_items:
        expected = float(uncertainty(model.predict_proba([item.claim.text])[0]))
        assert item.uncertainty == pytest.approx(expected, abs=1e-6)
    assert Item.objects.get(pk=in_review.pk).uncertainty == 0.123
    settled = Item.objects.filter(project=project, status="settled")
    assert set(settled.values_list("uncertainty", flat=True)) == {0.0}


def test_uncertain_queue_order_follows_the_model(project, annotator, annotator_b):
    adjudicated(project, per_class=17)
    # An ambiguous claim (words of all three classes) and clear ones.
    clear = make_open_items(project, ["opinion", "checkable_fact", "prediction"])
    ambiguous = make_open_items(project, ["opinion"])[0]
    claim = ambiguous.claim
    claim.text = "Troops will probably kill fighters, a shameful game that Hama keeps playing."
    claim.end = claim.start + len(claim.text)
    claim.save(update_fields=["text", "end"])
    Project.objects.filter(pk=project.pk).update(queue_order="uncertain")
    project.refresh_from_db()
    model_train(project=project)
    values = dict(
        Item.objects.filter(pk__in=[i.pk for i in [*clear, ambiguous]]).values_list(
            "pk", "uncertainty"
        )
    )
    expected_order = sorted(values, key=lambda pk: (-values[pk], pk))
    assert expected_order[0] == ambiguous.pk
    got = []
    while (lease := item_lease_next(project=project, user=annotator)) is not None:
        got.append(lease.item_id)
        lease.state = "submitted"  # free the user's lease cap without labelling
        lease.finished_at = timezone.now()
        lease.save(update_fields=["state", "finished_at"])
    assert got == expected_order


@pytest.mark.services
def test_retrain_runs_on_a_real_worker(project, admin, live_worker):
    """After enough adjudications the check enqueues the job on commit; a real Celery worker
    trains, stores the model and scores the queue."""
    import time

    from django.db import transaction

    adjudicated(project, per_class=17)
    queued = make_open_items(project, ["opinion", "prediction"])
    with transaction.atomic():
        job = model_maybe_retrain(project=project, user=admin)
    assert job is not None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            break
        time.sleep(0.5)
    assert job.state == "done", job.error
    assert latest_model(project).n_labels == 51
    assert job.result["uncertainty_items"] == 2
    assert all(
        0 < u < 1
        for u in Item.objects.filter(pk__in=[i.pk for i in queued]).values_list(
            "uncertainty", flat=True
        )
    )
