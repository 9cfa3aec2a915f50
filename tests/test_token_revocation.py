"""Revoking ends every route a token gave (the token and its handle); boundary changes keep token
and handle; the tokens table holds no working token (item 2 and 4 of issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.test_api import answer_until_done, app_headers
from valueprint.store.models import IssuedTokenRecord


@pytest.fixture
def app_key(services):
    return services.registry.register_app("Helpful AI", ["schwartz", "moral", "politics", "behaviour", "boundaries"])


def issue(client) -> dict:
    answer_until_done(client, limit=5)
    return client.post("/v1/me/token").json()


def read_by_handle(client, app, handle: str):
    return client.get(f"/v1/tokens/{handle}", headers=app_headers(app))


def verify(client, app, token: str):
    return client.post("/v1/tokens/verify", json={"token": token}, headers=app_headers(app))


def test_revoking_the_only_token_ends_reads_by_handle_too(participant_client, app_key):
    issued = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["schwartz"]})
    assert read_by_handle(participant_client, app_key, issued["handle"]).status_code == 200
    assert participant_client.delete(f"/v1/me/tokens/{issued['jti']}").status_code == 204
    gone = read_by_handle(participant_client, app_key, issued["handle"])
    assert gone.status_code == 404, "answered as an unknown handle: revocation reveals nothing"
    assert verify(participant_client, app_key, issued["token"]).json()["error"]["code"] == "token_revoked"
    actions = [r["action"] for r in participant_client.get("/v1/me/reads").json()]
    assert actions[:2] == ["revoked_token", "revoked_token"], "both attempts are shown to the person"


def test_a_new_token_brings_the_same_handle_back(participant_client, app_key):
    issued = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["schwartz"]})
    participant_client.delete(f"/v1/me/tokens/{issued['jti']}")
    again = participant_client.post("/v1/me/token").json()
    assert again["handle"] == issued["handle"]
    assert read_by_handle(participant_client, app_key, issued["handle"]).status_code == 200


def test_changing_boundaries_keeps_token_and_handle_and_names_apps_holding_a_copy(participant_client, app_key):
    issued = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["schwartz", "boundaries"]})
    assert verify(participant_client, app_key, issued["token"]).status_code == 200
    saved = participant_client.put("/v1/me/boundaries", json={"boundaries": ["no-profanity"]}).json()
    assert saved == {"boundaries": ["no-profanity"], "offline_copies": ["Helpful AI"]}
    fresh = verify(participant_client, app_key, issued["token"])
    assert fresh.status_code == 200 and fresh.json()["boundaries"] == ["no-profanity"], "the same token, read live"
    assert read_by_handle(participant_client, app_key, issued["handle"]).json()["boundaries"] == ["no-profanity"]
    reissued = participant_client.post("/v1/me/token").json()
    assert reissued["superseded_copies"] == ["Helpful AI"] and reissued["handle"] == issued["handle"]
    assert participant_client.post("/v1/me/token").json()["superseded_copies"] == [], "nobody checked that one"


def _database_bytes(services) -> bytes:
    database = Path(services.settings.resolved_database_url.removeprefix("sqlite:///"))
    files = list(database.parent.glob(database.name + "*"))  # the database, its WAL and shared memory
    assert database in files
    return b"".join(p.read_bytes() for p in files)


def test_the_database_holds_no_working_token(participant_client, services):
    issued = issue(participant_client)
    signature = issued["token"].rsplit(".", 1)[1].encode()
    with services.db.session() as session:
        row = session.scalar(select(IssuedTokenRecord))
        assert row.token is None and issued["token"] not in row.sealed
    raw = _database_bytes(services)
    assert issued["jti"].encode() in raw, "the read is real: the row is there"
    assert signature not in raw, "neither the database file nor its WAL holds the token"
    page = participant_client.get("/result").text
    assert issued["token"] in page, "the owner still sees their token"


def test_plain_tokens_from_before_sealing_are_sealed_at_start_up(participant_client, services):
    issued = issue(participant_client)
    with services.db.session() as session:  # a row as written before migration 0003
        session.execute(text("UPDATE tokens SET token = :t, sealed = NULL"), {"t": issued["token"]})
    assert services.registry.seal_plain_tokens() == 1
    with services.db.session() as session:
        row = session.scalar(select(IssuedTokenRecord))
        assert row.token is None and row.sealed
    assert services.registry.token_text(row) == issued["token"]
