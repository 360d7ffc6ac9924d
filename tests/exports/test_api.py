"""GET /api/v1/projects/{slug}/export/: who may, parameters, streaming, same bytes as the
command."""

from __future__ import annotations

import pytest
from django.core.management import call_command

URL = "/api/v1/projects/alpha/export/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("who", ["reviewer", "admin"])
def test_reviewers_and_admins_stream_the_export(world, client_for, who):
    client = client_for(world.users[who])
    response = client.get(URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"] == (
        'attachment; filename="alpha-claims-labelled-live.jsonl"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(body(response).splitlines()) == 4


def test_formats_kinds_and_includes(world, client_for):
    client = client_for(world.users["reviewer"])
    response = client.get(URL, {"format": "csv", "include": "settled", "kind": "claims"})
    assert response["Content-Type"].startswith("text/csv")
    assert len(body(response).decode().splitlines()) == 3  # header + 2 settled
    response = client.get(URL, {"format": "parquet", "kind": "pairs"})
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    assert 'filename="alpha-pairs-labelled-live.parquet"' in response["Content-Disposition"]
    assert body(response)[:4] == b"PAR1"


def test_annotators_get_403_outsiders_404_anonymous_refused(world, client_for, outsider, client):
    assert client.get(URL).status_code in (401, 403)
    assert client_for(world.users["a"]).get(URL).status_code == 403
    assert client_for(outsider).get(URL).status_code == 404
    assert (
        client_for(world.users["reviewer"]).get("/api/v1/projects/nope/export/").status_code == 404
    )


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xml"},
        {"include": "all"},
        {"kind": "items"},
        {"limit": "5"},
        {"ordering": "id"},
        {"format": "jsonl", "extra": "1"},
    ],
)
def test_bad_parameters_are_400_json(world, client_for, params):
    response = client_for(world.users["reviewer"]).get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("kind", ["claims", "pairs"])
def test_command_writes_the_same_bytes_as_the_api(world, client_for, tmp_path, fmt, kind):
    api = body(client_for(world.users["reviewer"]).get(URL, {"format": fmt, "kind": kind}))
    out = tmp_path / f"out.{fmt}"
    call_command("export", "alpha", "--format", fmt, "--kind", kind, "--out", str(out))
    assert out.read_bytes() == api
