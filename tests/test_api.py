"""The JSON API: the participant journey, the token registry with consent, privacy."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.conftest import sign_up
from valueprint.errors import AuthError, ConfigError
from valueprint.settings import Settings
from valueprint.store.models import Answer, AuditEntry, Consent, IssuedTokenRecord, Participant, PersonalData, Profile
from valueprint.tokens.jws import TokenVerifier
from valueprint.values.precis import SAFETY_LINE

SAMPLE = {"likert": 4, "scenario": "B", "slider": {"x": -0.4, "y": 0.3}}


def answer_until_done(client, limit: int = 300) -> int:
    answered = 0
    step = client.get("/v1/questionnaire/next").json()
    while not step["done"] and answered < limit:
        item = step["item"]
        response = client.put(f"/v1/answers/{item['id']}", json={"value": SAMPLE[item["kind"]]})
        assert response.status_code == 200, response.text
        assert response.json()["acknowledged"] is True
        step = response.json()["next"]
        answered += 1
    return answered


@pytest.fixture
def app_key(services):
    """A registered app allowed to ask for every scope."""
    registered = services.registry.register_app(
        "Helpful AI", ["schwartz", "moral", "politics", "behaviour", "boundaries"]
    )
    return registered


def app_headers(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.api_key}"}


def test_the_journey_from_first_question_to_token(participant_client):
    client = participant_client
    first = client.get("/v1/questionnaire/next").json()
    assert first["item"]["why"] and first["progress"] < 1
    assert (
        client.put("/v1/me/demographics", json={"demographics": {"country": "Chile", "age_band": None}}).status_code
        == 200
    )
    assert client.put("/v1/me/boundaries", json={"boundaries": ["no-profanity"]}).json() == {
        "boundaries": ["no-profanity"],
        "offline_copies": [],
    }
    answered = answer_until_done(client)
    assert 20 < answered < 120
    result = client.get("/v1/me/profile").json()
    assert set(result) == {"profile", "persona", "precis", "political"}
    assert "Never use profanity." in result["precis"]
    issued = client.post("/v1/me/token")
    assert issued.status_code == 201
    token = issued.json()
    jwks = client.get("/.well-known/jwks.json").json()
    verified = TokenVerifier(jwks, client.app.state.services.model.space, issuer=None, audience="valueprint").verify(
        token["token"]
    )
    assert verified.handle == token["handle"]
    assert verified.profile.boundaries == ("no-profanity",)


def test_every_answer_is_saved_when_given(participant_client):
    item = participant_client.get("/v1/questionnaire/next").json()["item"]
    participant_client.put(f"/v1/answers/{item['id']}", json={"value": SAMPLE[item["kind"]]})
    saved = participant_client.get("/v1/me/answers").json()["answers"]
    assert item["id"] in saved


def test_a_resume_code_continues_where_it_stopped(web_app, participant_client):
    for _ in range(3):
        item = participant_client.get("/v1/questionnaire/next").json()["item"]
        participant_client.put(f"/v1/answers/{item['id']}", json={"value": SAMPLE[item["kind"]]})
    expected = participant_client.get("/v1/questionnaire/next").json()
    with TestClient(web_app) as other_device:
        assert other_device.get("/v1/questionnaire/next").status_code == 401
        resumed = other_device.post(
            "/v1/session", json={"resume_code": participant_client.participant["resume_code"].upper().replace("-", " ")}
        )
        assert resumed.status_code == 200
        assert other_device.get("/v1/questionnaire/next").json() == expected
    with TestClient(web_app) as stranger:
        refused = stranger.post("/v1/session", json={"resume_code": "abandon " * 6})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("item_id", "body", "status", "fragment"),
    [
        ("sd-01", {"value": 9}, 422, "'sd-01'"),
        ("sd-01", {"value": "agree"}, 422, "'sd-01'"),
        ("sc-01", {"value": "Z"}, 422, "'sc-01'"),
        ("political-slider", {"value": {"x": 3, "y": 0}}, 422, "'political-slider'"),
        ("no-such-item", {"value": 3}, 422, "no such item"),
        ("sd-01", {}, 422, "value"),
    ],
)
def test_bad_answers_are_refused_naming_the_item(participant_client, item_id, body, status, fragment):
    response = participant_client.put(f"/v1/answers/{item_id}", json=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert participant_client.get("/v1/me/answers").json()["answers"] == {}


def test_malformed_json_and_oversized_payloads_are_refused(participant_client):
    broken = participant_client.put(
        "/v1/answers/sd-01", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    huge = participant_client.put(
        "/v1/me/demographics", content=b"x" * 100_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"


def test_state_changes_need_the_csrf_token(participant_client):
    del participant_client.headers["X-CSRF-Token"]
    response = participant_client.put("/v1/answers/sd-01", json={"value": 3})
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_personal_data_is_encrypted_at_rest_and_apart_from_value_data(participant_client, services):
    participant_client.put(
        "/v1/me/demographics", json={"demographics": {"country": "Luxembourg"}, "contact": "me@example.org"}
    )
    with services.db.session() as session:
        sealed = session.scalar(select(PersonalData.sealed))
        columns = {c.name for c in Participant.__table__.columns}
    assert "Luxembourg" not in sealed and "example.org" not in sealed
    assert not {"country", "email", "contact", "demographics"} & columns
    exported = participant_client.get("/v1/me/export").json()
    assert exported["personal_data"] == {"demographics": {"country": "Luxembourg"}, "contact": "me@example.org"}


def test_production_refuses_to_start_without_real_keys(tmp_path):
    from valueprint.web.app import create_app

    with pytest.raises(ConfigError, match="VALUEPRINT_ISSUER"):
        create_app(Settings(data_dir=tmp_path, environment="production"))
    with pytest.raises(ConfigError, match="VALUEPRINT_DATA_KEY"):
        create_app(Settings(data_dir=tmp_path, environment="production", issuer="https://values.example"))


# -- tokens, consent, apps ---------------------------------------------------------------


def issue(client) -> dict:
    answer_until_done(client, limit=5)
    return client.post("/v1/me/token").json()


def test_an_app_without_consent_reads_nothing_and_the_refusal_is_shown(participant_client, app_key):
    token = issue(participant_client)
    read = participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key))
    assert read.status_code == 404, "the same answer as for a handle nobody has"
    reads = participant_client.get("/v1/me/reads").json()
    assert reads[0]["action"] == "denied" and reads[0]["app"] == "Helpful AI"


def test_an_app_cannot_tell_a_handle_without_consent_from_an_unknown_one(participant_client, app_key):
    token = issue(participant_client)
    known = participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key))
    unknown = participant_client.get("/v1/tokens/abandon-ability-able-about", headers=app_headers(app_key))
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 404


def test_refused_handle_look_ups_count_against_the_limit_whether_the_handle_exists_or_not(tmp_path):
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "misses", environment="test", handle_misses_per_minute=2))
    with TestClient(app) as client:
        sign_up(client)
        handle = issue(client)["handle"]
        reader = app.state.services.registry.register_app("Curious", ["moral"])
        statuses = [
            client.get(f"/v1/tokens/{h}", headers=app_headers(reader)).status_code
            for h in (handle, "abandon-ability-able-about", handle)
        ]
    assert statuses == [404, 404, 429]


def test_an_app_reads_only_the_consented_scopes_and_every_read_is_shown(participant_client, app_key):
    token = issue(participant_client)
    participant_client.put("/v1/me/boundaries", json={"boundaries": ["no-religion"]})
    granted = participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["politics", "boundaries"]})
    assert granted.json()["scopes"] == ["politics", "boundaries"]
    by_handle = participant_client.get(f"/v1/tokens/{token['handle'].upper()}", headers=app_headers(app_key)).json()
    assert set(by_handle["dimensions"]) == {"economic", "social"}
    assert by_handle["boundaries"] == ["no-religion"]
    by_token = participant_client.post(
        "/v1/tokens/verify", json={"token": token["token"]}, headers=app_headers(app_key)
    )
    assert set(by_token.json()["dimensions"]) == {"economic", "social"}
    reads = participant_client.get("/v1/me/reads").json()
    assert [r["action"] for r in reads] == ["token_verify", "handle_lookup"]
    assert participant_client.delete(f"/v1/me/consents/{app_key.id}").status_code == 204
    assert participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key)).status_code == 404


def test_a_read_after_the_profile_changes_shows_the_change_and_a_callers_edit_shows_nowhere(
    participant_client, app_key, services
):
    token = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["schwartz", "politics"]})
    first = services.registry.read_by_handle(app_key, token["handle"])
    first["dimensions"]["economic"]["mean"] = 99.0  # a caller changing its copy of the view
    first["boundaries"].append("no-religion")
    again = participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key)).json()
    assert again["dimensions"]["economic"]["mean"] != 99.0 and again["boundaries"] == []
    answer_until_done(participant_client, limit=6)  # more answers: a new profile
    changed = participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key)).json()
    assert changed["dimensions"] != again["dimensions"]


def test_the_precis_alone_is_offered_for_any_model_and_holds_only_consented_scopes(participant_client, app_key):
    token = issue(participant_client)
    url = f"/v1/tokens/{token['handle']}/precis"
    assert participant_client.get(url, headers=app_headers(app_key)).status_code == 404
    participant_client.put("/v1/me/boundaries", json={"boundaries": ["no-religion"]})
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["politics"]})
    only_politics = participant_client.get(url, headers=app_headers(app_key)).json()
    assert set(only_politics) == {"handle", "space_version", "scopes", "precis", "instructions"}
    assert only_politics["instructions"] is None  # the person's own text only for an app reading every group
    assert only_politics["scopes"] == ["politics"] and "religio" not in only_politics["precis"].lower()
    assert only_politics["precis"].endswith(SAFETY_LINE) and len(only_politics["precis"].split()) <= 120
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["politics", "boundaries"]})
    with_boundaries = participant_client.get(url, headers=app_headers(app_key)).json()
    assert with_boundaries["precis"] != only_politics["precis"]
    assert participant_client.get(url, headers={}).status_code == 401
    unknown = participant_client.get("/v1/tokens/no-such-handle-here/precis", headers=app_headers(app_key))
    assert unknown.status_code == 404


def test_reissue_keeps_the_handle_and_revokes_the_old_token(participant_client, app_key):
    first = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["schwartz"]})
    second = participant_client.post("/v1/me/token").json()
    assert second["handle"] == first["handle"] and second["jti"] != first["jti"]
    old = participant_client.post("/v1/tokens/verify", json={"token": first["token"]}, headers=app_headers(app_key))
    assert old.status_code == 401 and old.json()["error"]["code"] == "token_revoked"
    assert participant_client.delete(f"/v1/me/tokens/{second['jti']}").status_code == 204
    revoked = participant_client.post(
        "/v1/tokens/verify", json={"token": second["token"]}, headers=app_headers(app_key)
    )
    assert revoked.json()["error"]["code"] == "token_revoked"


def test_forged_tokens_and_bad_api_keys_are_refused_clearly(participant_client, app_key):
    token = issue(participant_client)["token"]
    forged = participant_client.post(
        "/v1/tokens/verify", json={"token": token[:-4] + "AAAA"}, headers=app_headers(app_key)
    )
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "token_bad_signature"
    assert (
        participant_client.get(
            "/v1/tokens/abandon-ability-able-about", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    assert participant_client.get("/v1/tokens/abandon-ability-able-about").status_code == 401


def test_a_known_api_key_is_remembered_briefly_and_an_edit_shows_at_once(services):
    """Apps are kept in memory by key hash for a few seconds (most API calls then skip the database);
    an unknown key is never remembered, and an edit by this worker is seen by the next call."""
    registered = services.registry.register_app("Cached App", ["schwartz"])
    assert services.registry.known_app(registered.api_key) is None
    assert services.registry.authenticate(registered.api_key).name == "Cached App"
    assert services.registry.known_app(registered.api_key).id == registered.id
    services.registry.update_app(registered.id, name="Renamed App")
    assert services.registry.authenticate(registered.api_key).name == "Renamed App"
    with pytest.raises(AuthError):
        services.registry.authenticate("vpk_" + "x" * 40)
    assert services.registry.known_app("vpk_" + "x" * 40) is None


def test_handle_enumeration_is_rate_limited(tmp_path, services):
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "rl", environment="test", handle_misses_per_minute=3))
    key = app.state.services.registry.register_app("Scanner", ["schwartz"]).api_key
    with TestClient(app) as client:
        statuses = [
            client.get(f"/v1/tokens/abandon-ability-able-{w}", headers={"Authorization": f"Bearer {key}"}).status_code
            for w in ("about", "above", "absent", "absorb", "abstract")
        ]
        assert statuses == [404, 404, 404, 429, 429]
        last = client.get("/v1/tokens/abandon-ability-able-about", headers={"Authorization": f"Bearer {key}"})
        assert int(last.headers["Retry-After"]) > 0


def test_one_person_cannot_touch_anothers_data(web_app, participant_client, app_key):
    victim = issue(participant_client)
    with TestClient(web_app) as attacker:
        sign_up(attacker)
        assert attacker.delete(f"/v1/me/tokens/{victim['jti']}").status_code == 404
        assert victim["handle"] not in attacker.get("/v1/me/export").text
        assert attacker.get("/v1/me/answers").json()["answers"] == {}
    still_valid = participant_client.get("/v1/me/tokens").json()
    assert still_valid[0]["jti"] == victim["jti"] and not still_valid[0]["revoked"]


def test_only_admins_register_apps(participant_client, services, web_app):
    assert participant_client.post("/v1/admin/apps", json={"name": "x", "scopes": ["moral"]}).status_code == 403
    admin = services.accounts.create(role="admin")
    with TestClient(web_app) as client:
        csrf = client.post("/v1/session", json={"resume_code": admin.resume_code}).json()["csrf_token"]
        created = client.post(
            "/v1/admin/apps", json={"name": "Tutor", "scopes": ["moral"]}, headers={"X-CSRF-Token": csrf}
        )
        assert created.status_code == 201 and created.json()["api_key"].startswith("vpk_")
        bad = client.post(
            "/v1/admin/apps", json={"name": "Tutor", "scopes": ["secrets"]}, headers={"X-CSRF-Token": csrf}
        )
        assert bad.status_code == 400 and "unknown scopes" in bad.json()["error"]["message"]


def test_deleting_the_account_removes_everything_and_revokes_every_token(participant_client, app_key, services):
    participant_id = participant_client.participant["participant_id"]
    token = issue(participant_client)
    participant_client.put("/v1/me/demographics", json={"demographics": {"country": "Peru"}})
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["moral"]})
    participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key))
    assert participant_client.delete("/v1/me").status_code == 204
    with services.db.session() as session:
        for table in (Answer, Profile, PersonalData, IssuedTokenRecord, Consent, AuditEntry):
            assert session.scalar(select(table).where(table.participant_id == participant_id)) is None, table
        assert session.get(Participant, participant_id) is None
        assert session.execute(text("select count(*) from personal_data")).scalar() == 0
    assert participant_client.get("/v1/me/profile").status_code == 401
    gone = participant_client.post("/v1/tokens/verify", json={"token": token["token"]}, headers=app_headers(app_key))
    assert gone.json()["error"]["code"] == "token_revoked"
    assert participant_client.get(f"/v1/tokens/{token['handle']}", headers=app_headers(app_key)).status_code == 404


def test_tokens_and_handles_never_reach_the_logs(participant_client, app_key, caplog):
    token = issue(participant_client)
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["moral"]})
    with caplog.at_level(logging.DEBUG):
        participant_client.post(
            "/v1/tokens/verify", json={"token": token["token"][:-2] + "xx"}, headers=app_headers(app_key)
        )
        participant_client.post("/v1/tokens/verify", json={"token": token["token"]}, headers=app_headers(app_key))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert token["token"] not in logged and token["token"][:60] not in logged


def test_openapi_document_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/participants",
        "/v1/answers/{item_id}",
        "/v1/tokens/{handle}",
        "/v1/tokens/verify",
        "/v1/me/export",
    ):
        assert path in paths


def test_guessing_resume_codes_is_rate_limited(client):
    statuses = [client.post("/v1/session", json={"resume_code": "abandon " * 6}).status_code for _ in range(22)]
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429, 429]


def test_new_accounts_stop_at_the_configured_sd(tmp_path):
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "sd", environment="test", stop_sd=0.45))
    with TestClient(app) as client:
        sign_up(client)
        assert answer_until_done(client) <= 16  # the full default (SD 0.3) asks about 60


def test_signing_up_needs_explicit_consent_in_a_json_body(client):
    assert client.post("/v1/participants").status_code == 422
    assert client.post("/v1/participants", json={"consent": False}).status_code == 400
    form_post = client.post("/v1/participants", content=b"consent=true", headers={"content-type": "text/plain"})
    assert form_post.status_code == 422  # a cross-site form cannot sign a browser in (login CSRF)
    assert client.post("/v1/participants", json={"consent": True}).status_code == 201


def test_json_true_is_not_a_likert_answer_and_misspelt_fields_are_refused(participant_client):
    assert participant_client.put("/v1/answers/sd-01", json={"value": True}).status_code == 422
    participant_client.put("/v1/me/demographics", json={"demographics": {"country": "Kenya"}})
    misspelt = participant_client.put("/v1/me/demographics", json={"contry": "Kenya"})
    assert misspelt.status_code == 422 and "contry" in misspelt.json()["error"]["message"]
    assert participant_client.get("/v1/me/export").json()["personal_data"]["demographics"] == {"country": "Kenya"}


def test_sign_ups_are_rate_limited_per_address(tmp_path):
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "su", environment="test", sign_ups_per_minute=3))
    with TestClient(app) as client:
        statuses = [client.post("/v1/participants", json={"consent": True}).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_an_oversized_chunked_upload_gets_413_too(participant_client):
    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    response = participant_client.put(
        "/v1/me/demographics", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_an_in_memory_database_leaves_no_file_behind(tmp_path, monkeypatch):
    from valueprint.store.db import Database

    monkeypatch.chdir(tmp_path)
    Database("sqlite://")
    assert list(tmp_path.iterdir()) == []  # not a file named "sqlite:" in the working folder


def test_the_database_file_is_private(participant_client, web_settings):
    import stat

    database = web_settings.data_dir / "valueprint.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    wal = database.with_name("valueprint.db-wal")
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_app_names_are_unique_and_revoked_token_use_is_shown_to_the_person(participant_client, app_key, services):
    with pytest.raises(Exception, match="registered already"):
        services.registry.register_app("helpful ai", ["moral"])
    first = issue(participant_client)
    participant_client.post("/v1/me/token")
    participant_client.post("/v1/tokens/verify", json={"token": first["token"]}, headers=app_headers(app_key))
    assert participant_client.get("/v1/me/reads").json()[0]["action"] == "revoked_token"


def test_tokens_signed_after_a_key_rotation_verify_at_once(participant_client, app_key, services):
    participant_client.put(f"/v1/me/consents/{app_key.id}", json={"scopes": ["moral"]})
    before = issue(participant_client)
    assert (
        participant_client.post(
            "/v1/tokens/verify", json={"token": before["token"]}, headers=app_headers(app_key)
        ).status_code
        == 200
    )
    services.registry.keys.create()  # rotation: the new key signs from now on
    after = participant_client.post("/v1/me/token").json()
    verified = participant_client.post(
        "/v1/tokens/verify", json={"token": after["token"]}, headers=app_headers(app_key)
    )
    assert verified.status_code == 200, verified.text
