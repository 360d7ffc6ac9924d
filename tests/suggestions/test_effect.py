"""suggestion_effect on a hand-built dataset: every figure computed by hand."""

from __future__ import annotations

import pytest

from annotations.models import Label, Project
from annotations.services.suggestions import suggestion_effect
from tests.review.helpers import add_label, annotators
from tests.suggestions.helpers import make_open_items, settle

pytestmark = pytest.mark.django_db


def _label(item, user, values, *, seconds, suggested, accepted=None):
    label = add_label(item, user, values, seconds=seconds)
    Label.objects.filter(pk=label.pk).update(suggested=suggested, accepted=accepted)


def test_effect_numbers(project):
    Project.objects.filter(pk=project.pk).update(suggestions="half")
    project.refresh_from_db()
    a, b = annotators(project, 2)
    one, two, three = make_open_items(project, ["opinion", "checkable_fact", "prediction"])
    settle([one], ["opinion"])
    settle([two], ["checkable_fact"], is_attributed=True, source_type="expert")
    fact = {"is_attributed": False, "verifiability": "checkable_fact"}
    _label(one, a, {"is_attributed": False, "verifiability": "opinion"}, seconds=4,
           suggested=True, accepted=True)  # fmt: skip
    _label(two, a, fact, seconds=6, suggested=True, accepted=False)
    _label(three, a, {"is_attributed": False, "verifiability": "prediction"}, seconds=8,
           suggested=True, accepted=True)  # fmt: skip
    _label(one, b, {"is_attributed": True, "source_type": "expert", "verifiability": "opinion"},
           seconds=10, suggested=False)  # fmt: skip
    _label(two, b, {"is_attributed": True, "source_type": "expert",
                    "verifiability": "checkable_fact"}, seconds=20, suggested=False)  # fmt: skip

    effect = suggestion_effect(project=project)
    assert effect["mode"] == "half"
    assert effect["suggested"] == {
        "labels": 3,
        "annotators": 1,
        "median_seconds": 6.0,
        "acceptance_rate": pytest.approx(2 / 3),
        "labels_on_settled_items": 2,
    }
    assert effect["unsuggested"] == {
        "labels": 2,
        "annotators": 1,
        "median_seconds": 15.0,
        "acceptance_rate": None,
        "labels_on_settled_items": 2,
    }
    fields = {f["name"]: f for f in effect["fields"]}
    assert list(fields) == ["is_attributed", "source_type", "verifiability"]  # schema order
    assert fields["is_attributed"]["suggested"] == {"agreement": 0.5, "n": 2}
    assert fields["is_attributed"]["unsuggested"] == {"agreement": 0.5, "n": 2}
    assert fields["verifiability"]["suggested"] == {"agreement": 1.0, "n": 2}
    assert fields["verifiability"]["difference"] == 0.0
    # source_type: A omitted it where the gold has "expert" (miss); B gave it where the gold
    # has none (miss) and matched on item two (hit).
    assert fields["source_type"]["suggested"] == {"agreement": 0.0, "n": 1}
    assert fields["source_type"]["unsuggested"] == {"agreement": 0.5, "n": 2}
    assert fields["source_type"]["difference"] == -0.5


def test_effect_is_empty_without_labels(project):
    effect = suggestion_effect(project=project)
    assert effect["suggested"]["labels"] == effect["unsuggested"]["labels"] == 0
    assert effect["suggested"]["median_seconds"] is None
    assert effect["fields"] == []


def test_pair_labels_are_left_out(project):
    from tests.review.helpers import make_pair_item

    pair = make_pair_item(project)
    (a,) = annotators(project, 1)
    _label(pair, a, {"same_event": "same", "relation": "agree"}, seconds=3, suggested=False)
    assert suggestion_effect(project=project)["unsuggested"]["labels"] == 0
