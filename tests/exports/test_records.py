"""Export records: complete and correct on a small hand-built project."""

from __future__ import annotations

import hashlib
import json

from annotations.services.exports import export_stream
from tests.exports.helpers import AR_ARTICLE, EN_ARTICLE


def records(project, **kwargs):
    data = b"".join(export_stream(project=project, **kwargs)).decode()
    return [json.loads(line) for line in data.splitlines()]


def test_claim_records_carry_provenance_labels_and_adjudication(world):
    project = world.project
    rows = {r["id"]: r for r in records(project)}
    # Labelled items only: the opinion (no label) and the second Arabic unit are left out.
    assert sorted(rows) == sorted(f"claim-{world.claims[i].pk}" for i in (0, 1, 2, 4))
    fact = rows[f"claim-{world.claims[1].pk}"]
    document_text = EN_ARTICLE + AR_ARTICLE
    assert document_text[fact["start"] : fact["end"]] == fact["text"]
    assert fact["text"].startswith("The army liberated")
    assert fact["item_id"] == world.items[1].pk and fact["claim_id"] == world.claims[1].pk
    assert fact["dataset_version"] is None
    assert fact["schema_version"] == 1 and fact["guidelines_version"] == 1
    assert (fact["outlet_name"], fact["outlet_country"], fact["outlet_kind"]) == (
        "SANA",
        "Syria",
        "state_media",
    )
    assert fact["outlet_affiliation"] == "Syrian government" and fact["outlet_reviewed"] is True
    assert fact["language"] == "en" and fact["published"] == "2019-08-21"
    assert fact["article_title"] == "Army takes Khan Shaykhun"
    assert fact["article_sha256"] == hashlib.sha256(EN_ARTICLE.encode()).hexdigest()
    assert fact["document_sha256"] == hashlib.sha256(document_text.encode()).hexdigest()
    assert fact["document_name"] == "sample.txt"
    assert fact["document_url"] == "https://news.example/sample"
    assert (fact["unit_kind"], fact["unit_defect"]) == ("body", "none")
    assert fact["event_cluster"] == "ev-khan-shaykhun"
    assert fact["split"] in {"train", "dev", "test"}
    assert fact["settled"] is True and fact["status"] == "settled"
    assert fact["gold"] == {
        "is_attributed": True,
        "verifiability": "checkable_fact",
        "claim_types": ["event", "numerical"],
    }
    assert fact["adjudication"] == {
        "method": "reviewer",
        "reviewer": "r1",
        "changed_fields": ["claim_types"],
        "note": "Dates are numbers here.",
        "overrides_majority": True,
        "version": 1,
        "decided_at": "2026-01-05T09:00:00+00:00",
    }
    assert fact["aggregate"] == {"verifiability": {"checkable_fact": 0.93, "prediction": 0.07}}
    # Pseudonyms by first-label order in the project: ann a1 (09:00), bob a2, cat a3.
    labels = fact["labels"]
    assert [label["annotator"] for label in labels] == ["a1", "a2", "a3"]
    assert fact["n_labels"] == 3
    bob = labels[1]
    assert bob["values"]["verifiability"] == "checkable_fact"
    assert bob["suggested"] is True and bob["accepted"] is True
    assert bob["seconds"] == 12.5 and bob["schema_version"] == 1
    assert bob["created_at"] == "2026-01-05T09:02:00+00:00"
    assert labels[2]["accepted"] is False
    assert fact["soft_labels"]["verifiability"] == {
        "checkable_fact": 2 / 3,
        "prediction": 1 / 3,
    }
    assert fact["soft_labels"]["is_attributed"] == {"true": 1.0}
    assert fact["soft_labels"]["claim_types"] == {"event": 2 / 3}


def test_auto_settled_and_unsettled_records(world):
    rows = {r["id"]: r for r in records(world.project)}
    auto = rows[f"claim-{world.claims[2].pk}"]
    assert auto["adjudication"]["method"] == "auto_settle"
    assert auto["adjudication"]["reviewer"] is None
    assert auto["gold"]["verifiability"] == "opinion"
    headline = rows[f"claim-{world.claims[0].pk}"]
    assert headline["status"] == "review"
    assert headline["gold"] is None and headline["adjudication"] is None
    assert headline["unit_kind"] == "headline"
    arabic = rows[f"claim-{world.claims[4].pk}"]
    assert arabic["language"] == "ar" and arabic["outlet_kind"] == "independent"
    assert arabic["outlet_affiliation"] is None
    assert arabic["labels"][0]["annotator"] == "a3"


def test_no_user_name_or_user_id_leaks_into_records(world):
    data = b"".join(export_stream(project=world.project)).decode()
    data += b"".join(export_stream(project=world.project, kind="pairs")).decode()
    for user in world.users.values():
        assert user.username not in data


def test_include_settled_keeps_only_adjudicated_or_auto_settled(world):
    rows = records(world.project, include="settled")
    assert [r["id"] for r in rows] == [f"claim-{world.claims[i].pk}" for i in (1, 2)]
    assert all(r["settled"] and r["gold"] is not None for r in rows)


def test_pair_records(world):
    (pair,) = records(world.project, kind="pairs")
    assert pair["id"] == f"pair-{world.pair.pk}" and pair["item_id"] == world.pair_item.pk
    assert pair["method"] == "embedding" and pair["score"] == 0.87
    assert pair["features"] == {"cosine": 0.87, "date_gap_days": 2}
    assert pair["claim_a"]["claim_id"] == world.claims[1].pk
    assert pair["claim_b"]["claim_id"] == world.claims[4].pk
    assert pair["claim_b"]["language"] == "ar" and pair["claim_b"]["outlet_name"] == "Enab Baladi"
    text = EN_ARTICLE + AR_ARTICLE
    for side in ("claim_a", "claim_b"):
        assert text[pair[side]["start"] : pair[side]["end"]] == pair[side]["text"]
    assert pair["gold"] == {
        "same_event": "same",
        "relation": "disagree",
        "conflict_aspects": ["time"],
    }
    assert pair["adjudication"]["changed_fields"] == ["relation"]
    assert [label["annotator"] for label in pair["labels"]] == ["a1", "a2"]
    assert pair["soft_labels"]["relation"] == {"disagree": 0.5, "discuss": 0.5}
    assert pair["event_cluster"] == "ev-khan-shaykhun"
    claims = {r["claim_id"]: r for r in records(world.project)}
    # The pair sits in the split of its event, as do both its claims.
    assert (
        pair["split"] == claims[world.claims[1].pk]["split"] == claims[world.claims[4].pk]["split"]
    )


def test_live_export_is_deterministic(world):
    for fmt in ("jsonl", "csv", "parquet"):
        for kind in ("claims", "pairs"):
            first = b"".join(export_stream(project=world.project, fmt=fmt, kind=kind))
            second = b"".join(export_stream(project=world.project, fmt=fmt, kind=kind))
            assert first == second and first


def test_chunking_does_not_change_the_output(world):
    whole = b"".join(export_stream(project=world.project, fmt="csv"))
    small = b"".join(export_stream(project=world.project, fmt="csv", chunk_size=1))
    assert whole == small
