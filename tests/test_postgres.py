"""The API's important flows against a real PostgreSQL cluster started on 127.0.0.1 for this session.

The cluster is started by `tests/pg.py` (initdb + pg_ctl, as the postgres OS user when
root). If it cannot start, these tests fail with the reason: they are never skipped.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_up
from tests.pg import PostgresCluster
from valueprint.bench.web_load import answer_for
from valueprint.settings import Settings
from valueprint.web.app import create_app

PARTICIPANT_TABLES = ("answers", "profiles", "personal_data", "tokens", "consents", "audit_log")
DEMOGRAPHICS = {"country": "Atlantis-Unique-Country", "age_band": "25-34", "religion": None}
CONTACT = "someone-unique@example.org"


@pytest.fixture
def pg_database(pg_cluster: PostgresCluster) -> tuple[str, str]:
    """A fresh, empty database per test: (SQLAlchemy URL, psycopg DSN)."""
    name = "vp_" + secrets.token_hex(6)
    return pg_cluster.create_database(name), pg_cluster.dsn(name)


@pytest.fixture
def pg_settings(tmp_path: Path, pg_database: tuple[str, str]) -> Settings:
    return Settings(data_dir=tmp_path / "web", environment="test", database_url=pg_database[0])


@pytest.fixture
def pg_client(pg_settings: Settings) -> Iterator[TestClient]:
    app = create_app(pg_settings)
    with TestClient(app) as client:
        yield client
    app.state.services.db.engine.dispose()


def sql(dsn: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn) as connection:
        return connection.execute(query, params).fetchall()


def answer_some(client: TestClient, count: int, seed: int = 0) -> list[str]:
    """Answer `count` questions as asked; returns the item ids."""
    rng, answered = random.Random(seed), []
    question = client.get("/v1/questionnaire/next").json()
    for _ in range(count):
        assert not question["done"]
        item = question["item"]
        reply = client.put(f"/v1/answers/{item['id']}", json={"value": answer_for(item, rng)})
        assert reply.status_code == 200, reply.text
        assert reply.json()["acknowledged"] is True
        answered.append(item["id"])
        question = reply.json()["next"]
    return answered


def register_app(client: TestClient, scopes: list[str]) -> tuple[str, str]:
    registered = client.app.state.services.registry.register_app("pg test app", scopes)
    return registered.id, registered.api_key


def test_migrates_on_start_and_again_on_restart(pg_settings: Settings, pg_database: tuple[str, str]) -> None:
    dsn = pg_database[1]
    assert sql(dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    first = create_app(pg_settings)
    with TestClient(first) as client:
        participant_id = sign_up(client)["participant_id"]
    first.state.services.db.engine.dispose()
    tables = {row[0] for row in sql(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"participants", "alembic_version", *PARTICIPANT_TABLES} <= tables
    version = sql(dsn, "SELECT version_num FROM alembic_version")

    second = create_app(pg_settings)  # a restart: migrating again changes nothing and keeps the data
    with TestClient(second) as client:
        assert client.get("/v1/health").json() == {"status": "ok"}
    second.state.services.db.engine.dispose()
    assert sql(dsn, "SELECT version_num FROM alembic_version") == version
    assert sql(dsn, "SELECT id FROM participants") == [(participant_id,)]


def test_participant_journey_stores_answers_and_profile(pg_client: TestClient, pg_database: tuple[str, str]) -> None:
    participant_id = sign_up(pg_client)["participant_id"]
    answered = answer_some(pg_client, 12)
    stored = sql(pg_database[1], "SELECT item_id FROM answers WHERE participant_id = %s", participant_id)
    assert sorted(row[0] for row in stored) == sorted(answered)
    mine = pg_client.get("/v1/me/answers").json()["answers"]
    assert set(mine) == set(answered)
    profile = pg_client.get("/v1/me/profile")
    assert profile.status_code == 200, profile.text
    assert profile.json()["profile"]["scores"]
    assert sql(pg_database[1], "SELECT count(*) FROM profiles WHERE participant_id = %s", participant_id) == [(1,)]


def test_demographics_are_stored_sealed(pg_client: TestClient, pg_database: tuple[str, str]) -> None:
    participant_id = sign_up(pg_client)["participant_id"]
    reply = pg_client.put("/v1/me/demographics", json={"demographics": DEMOGRAPHICS, "contact": CONTACT})
    assert reply.status_code == 200, reply.text
    [(sealed,)] = sql(pg_database[1], "SELECT sealed FROM personal_data WHERE participant_id = %s", participant_id)
    for plaintext in ("Atlantis", "25-34", "someone-unique", "country", "age_band"):
        assert plaintext not in sealed
    personal = pg_client.get("/v1/me/export").json()["personal_data"]
    assert personal == {"demographics": {"country": "Atlantis-Unique-Country", "age_band": "25-34"}, "contact": CONTACT}


def test_app_reads_a_token_only_with_consent(pg_client: TestClient, pg_database: tuple[str, str], space) -> None:
    sign_up(pg_client)
    answer_some(pg_client, 5)
    issued = pg_client.post("/v1/me/token")
    assert issued.status_code == 201, issued.text
    handle = issued.json()["handle"]
    app_id, api_key = register_app(pg_client, ["schwartz", "moral", "politics"])
    as_app = {"Authorization": f"Bearer {api_key}"}

    refused = pg_client.get(f"/v1/tokens/{handle}", headers=as_app)
    assert refused.status_code == 404, refused.text  # the same answer as for an unknown handle

    granted = pg_client.put(f"/v1/me/consents/{app_id}", json={"scopes": ["schwartz", "boundaries"]})
    assert granted.json()["scopes"] == ["schwartz"]  # boundaries is not among the app's scopes
    read = pg_client.get(f"/v1/tokens/{handle}", headers=as_app)
    assert read.status_code == 200, read.text
    assert read.json()["scopes"] == ["schwartz"]
    schwartz = {dimension.id for dimension in space.dimensions if dimension.group == "schwartz"}
    assert set(read.json()["dimensions"]) == schwartz
    assert sql(pg_database[1], "SELECT count(*) FROM audit_log WHERE action = 'handle_lookup'") == [(1,)]

    assert pg_client.delete(f"/v1/me/consents/{app_id}").status_code == 204
    assert pg_client.get(f"/v1/tokens/{handle}", headers=as_app).status_code == 404


def test_export_holds_everything_stored(pg_client: TestClient) -> None:
    participant_id = sign_up(pg_client)["participant_id"]
    answered = answer_some(pg_client, 6)
    pg_client.put("/v1/me/demographics", json={"demographics": DEMOGRAPHICS})
    jti = pg_client.post("/v1/me/token").json()["jti"]
    app_id, _ = register_app(pg_client, ["moral"])
    pg_client.put(f"/v1/me/consents/{app_id}", json={"scopes": ["moral"]})

    export = pg_client.get("/v1/me/export")
    assert export.status_code == 200
    data = export.json()
    assert data["participant"]["id"] == participant_id
    assert [a["item_id"] for a in data["answers"]] == answered
    assert data["personal_data"]["demographics"]["country"] == DEMOGRAPHICS["country"]
    assert [t["jti"] for t in data["tokens"]] == [jti]
    assert [(c["app_id"], c["scopes"]) for c in data["consents"]] == [(app_id, ["moral"])]
    assert data["profile"] is not None


def test_delete_account_removes_every_row(pg_client: TestClient, pg_database: tuple[str, str]) -> None:
    dsn = pg_database[1]
    participant_id = sign_up(pg_client)["participant_id"]
    answer_some(pg_client, 5)
    pg_client.put("/v1/me/demographics", json={"demographics": DEMOGRAPHICS, "contact": CONTACT})
    handle = pg_client.post("/v1/me/token").json()["handle"]
    app_id, api_key = register_app(pg_client, ["schwartz"])
    pg_client.put(f"/v1/me/consents/{app_id}", json={"scopes": ["schwartz"]})
    assert pg_client.get(f"/v1/tokens/{handle}", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200
    for table in PARTICIPANT_TABLES:
        assert sql(dsn, f"SELECT count(*) FROM {table} WHERE participant_id = %s", participant_id) != [(0,)], table

    assert pg_client.delete("/v1/me").status_code == 204

    for table in PARTICIPANT_TABLES:
        assert sql(dsn, f"SELECT count(*) FROM {table} WHERE participant_id = %s", participant_id) == [(0,)], table
    assert sql(dsn, "SELECT count(*) FROM participants WHERE id = %s", participant_id) == [(0,)]
    gone = pg_client.get(f"/v1/tokens/{handle}", headers={"Authorization": f"Bearer {api_key}"})
    assert gone.status_code == 404
    assert pg_client.get("/v1/me/answers").status_code == 401


def test_deletion_vacuums_the_tables_it_touched(pg_client: TestClient, pg_database: tuple[str, str]) -> None:
    """Deleted rows stay in PostgreSQL's pages as dead tuples until VACUUM; the deletion runs it."""
    dsn = pg_database[1]
    sign_up(pg_client)
    answer_some(pg_client, 3)
    assert pg_client.delete("/v1/me").status_code == 204
    query = "SELECT relname FROM pg_stat_user_tables WHERE vacuum_count > 0 AND relname IN ('participants', 'answers')"
    for _ in range(50):  # the statistics are flushed asynchronously
        if len(sql(dsn, query)) == 2:
            break
        time.sleep(0.1)
    assert sorted(name for (name,) in sql(dsn, query)) == ["answers", "participants"]


def test_concurrent_writes_by_one_person_neither_fail_nor_duplicate(
    pg_client: TestClient, pg_database: tuple[str, str]
) -> None:
    """Two tabs answering the same question and asking for a token at once: row locks serialise them."""
    from concurrent.futures import ThreadPoolExecutor

    services = pg_client.app.state.services
    participant_id = sign_up(pg_client)["participant_id"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda v: services.accounts.record_answer(participant_id, "hd-01", 1 + v % 5), range(16)))
    rows = sql(pg_database[1], "SELECT count(*) FROM answers WHERE participant_id = %s", participant_id)
    assert rows == [(1,)]

    profile = services.accounts.profile(participant_id)
    with ThreadPoolExecutor(6) as pool:
        issued = list(pool.map(lambda _: services.registry.issue(participant_id, profile), range(6)))
    assert len({token.handle for token in issued}) == 1
    live = sql(
        pg_database[1], "SELECT count(*) FROM tokens WHERE participant_id = %s AND revoked_at IS NULL", participant_id
    )
    assert live == [(1,)]
