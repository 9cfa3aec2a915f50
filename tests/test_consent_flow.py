"""An app asks a person for scopes at `/consent` and gets their answer back at its registered address."""

from __future__ import annotations

import json
from importlib import resources
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from tests.conftest import sign_up
from tests.test_web_ui import start
from valueprint.cli import app as cli
from valueprint.registry.audit import ReadPurpose
from valueprint.store.db import Database, migrate
from valueprint.store.models import App, AuditEntry

RETURN = "https://tutor.example/valueprint/back?from=vp"


@pytest.fixture
def tutor(services):
    """An app that may ask for three scopes, with one registered return address."""
    return services.registry.register_app(
        "Homework Tutor",
        ["schwartz", "politics", "boundaries"],
        description="Explains homework in the way you like to learn.",
        owner="Tutor Labs Ltd",
        redirect_uris=[RETURN],
    )


def consent_url(app, scope: str = "politics boundaries", redirect_uri: str = RETURN, state: str = "s-42") -> str:
    return "/consent?" + urlencode({"client_id": app.id, "scope": scope, "redirect_uri": redirect_uri, "state": state})


def decision(app, choice: str, scope: str = "politics boundaries", redirect_uri: str = RETURN) -> dict[str, str]:
    return {"client_id": app.id, "scope": scope, "redirect_uri": redirect_uri, "state": "s-42", "decision": choice}


def returned(response, to: str = RETURN) -> dict[str, list[str]]:
    """The query the person brings back to the app (the app's own `from=vp` kept)."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location._replace(query="").geturl() == urlsplit(to)._replace(query="").geturl()
    return parse_qs(location.query)


def test_a_grant_returns_the_handle_and_state_and_the_app_reads_exactly_those_scopes(participant_client, tutor):
    page = participant_client.get(consent_url(tutor))
    assert page.status_code == 200
    for shown in ("Homework Tutor", "Tutor Labs Ltd", "Explains homework", "Politics", "economic and social axes"):
        assert shown in page.text
    assert "Your boundaries" in page.text and "Basic values" not in page.text
    assert "form-action 'self' https://tutor.example" in page.headers["content-security-policy"]

    back = returned(participant_client.post("/consent", data=decision(tutor, "grant"), follow_redirects=False))
    assert back["state"] == ["s-42"] and back["from"] == ["vp"] and back["scope"] == ["politics boundaries"]
    assert participant_client.get("/v1/me/consents").json() == {tutor.id: ["politics", "boundaries"]}
    read = participant_client.get(
        f"/v1/tokens/{back['handle'][0]}", headers={"Authorization": f"Bearer {tutor.api_key}"}
    )
    assert read.status_code == 200 and read.json()["scopes"] == ["politics", "boundaries"]


def test_a_refusal_returns_access_denied_and_grants_nothing(participant_client, tutor):
    back = returned(participant_client.post("/consent", data=decision(tutor, "refuse"), follow_redirects=False))
    assert back == {"from": ["vp"], "error": ["access_denied"], "state": ["s-42"]}
    assert participant_client.get("/v1/me/consents").json() == {}


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/steal",
        RETURN + "&more=1",  # only the exact registered address
        "https://tutor.example/valueprint/back",  # its query is part of it
        "",
    ],
)
def test_an_unregistered_return_address_gets_an_error_page_and_no_redirect(participant_client, tutor, redirect_uri):
    page = participant_client.get(consent_url(tutor, redirect_uri=redirect_uri), follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers
    assert "not registered for Homework Tutor" in page.text and "invalid_consent_request" in page.text
    tampered = participant_client.post("/consent", data=decision(tutor, "grant", redirect_uri=redirect_uri))
    assert tampered.status_code == 400 and "location" not in tampered.headers
    assert participant_client.get("/v1/me/consents").json() == {}


def test_an_unknown_app_gets_an_error_page_and_no_redirect(participant_client, tutor):
    page = participant_client.get(consent_url(SimpleNamespace(id="app_nobody")), follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers and "no registered app" in page.text


@pytest.mark.parametrize("scope", ["politics secrets", "moral", ""])
def test_scopes_the_app_may_not_ask_for_send_it_invalid_scope(participant_client, tutor, scope):
    back = returned(participant_client.get(consent_url(tutor, scope=scope), follow_redirects=False))
    assert back["error"] == ["invalid_scope"] and back["state"] == ["s-42"] and "handle" not in back
    tampered = participant_client.post("/consent", data=decision(tutor, "grant", scope=scope), follow_redirects=False)
    assert returned(tampered)["error"] == ["invalid_scope"]
    assert participant_client.get("/v1/me/consents").json() == {}


def test_the_decision_needs_the_csrf_token(participant_client, tutor):
    del participant_client.headers["X-CSRF-Token"]
    forged = participant_client.post("/consent", data=decision(tutor, "grant"), follow_redirects=False)
    assert forged.status_code == 403 and "location" not in forged.headers
    wrong = participant_client.post("/consent", data={**decision(tutor, "grant"), "csrf_token": "guess"})
    assert wrong.status_code == 403
    assert participant_client.get("/v1/me/consents", headers={"X-CSRF-Token": "x"}).json() == {}


def test_a_person_not_signed_in_signs_in_first_and_comes_back_to_the_same_request(client, services, tutor):
    person = services.accounts.create()
    page = client.get(consent_url(tutor))
    assert page.status_code == 200 and "Sign in first" in page.text and "Tutor Labs Ltd" in page.text
    assert client.post("/consent", data=decision(tutor, "grant"), follow_redirects=False).status_code == 401
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    signed_in = client.post(
        "/resume", data={"resume_code": person.resume_code, "csrf_token": csrf}, follow_redirects=False
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == consent_url(tutor)
    assert "Allow Homework Tutor" in client.get(signed_in.headers["location"]).text


def test_a_newcomer_signs_up_from_the_link_and_finds_the_request_waiting_on_their_result(client, tutor):
    page = client.get(consent_url(tutor))
    assert "when your profile is ready" in page.text
    _code, token = start(client)  # signing up starts a new session: the waiting request is kept
    client.post("/finish", data={"csrf_token": token})  # a first token straight away (the quick path)
    result = client.get("/result")
    assert 'id="waiting-consent"' in result.text and "Homework Tutor" in result.text
    waiting = result.text.split('id="answer-waiting-consent"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "Allow Homework Tutor" in client.get(waiting.replace("&amp;", "&")).text
    back = returned(
        client.post("/consent", data={**decision(tutor, "grant"), "csrf_token": token}, follow_redirects=False)
    )
    assert back["scope"] == ["politics boundaries"] and back["state"] == ["s-42"]
    assert 'id="waiting-consent"' not in client.get("/result").text  # answered: no longer waiting


def test_re_requesting_granted_scopes_says_so_and_takes_nothing_away(participant_client, tutor):
    participant_client.put(f"/v1/me/consents/{tutor.id}", json={"scopes": ["schwartz", "politics"]})
    page = participant_client.get(consent_url(tutor, scope="politics"))
    assert "already allow Homework Tutor to read all of this" in page.text
    back = returned(
        participant_client.post("/consent", data=decision(tutor, "grant", scope="politics"), follow_redirects=False)
    )
    assert back["scope"] == ["schwartz politics"]
    assert participant_client.get("/v1/me/consents").json() == {tutor.id: ["schwartz", "politics"]}
    first_handle = back["handle"]
    again = returned(
        participant_client.post("/consent", data=decision(tutor, "grant", scope="politics"), follow_redirects=False)
    )
    assert again["handle"] == first_handle  # no new token: copies the person already gave out keep working


class FakeEngine:
    """Stands in for the local model: the read happens before any reply is generated."""

    model_name = "fake"
    model = None  # as through an upstream: the default strategies are those that need no local model

    def context(self, profile, **_):
        return SimpleNamespace()

    def complete(self, messages, sampling, strategies, context):
        return SimpleNamespace(
            text="ok", model="fake", finish_reason="stop", prompt_tokens=1, completion_tokens=1, notes={}
        )


def test_the_read_log_names_chat_personalisation_and_ranking_as_such(participant_client, services, tutor, monkeypatch):
    back = returned(participant_client.post("/consent", data=decision(tutor, "grant"), follow_redirects=False))
    handle, app_headers = back["handle"][0], {"Authorization": f"Bearer {tutor.api_key}"}
    monkeypatch.setattr(services.personalizer, "engine", FakeEngine)
    chat = {"messages": [{"role": "user", "content": "hi"}], "value_token": handle}
    assert participant_client.post("/v1/chat/completions", json=chat, headers=app_headers).status_code == 200
    assert participant_client.get(f"/v1/tokens/{handle}", headers=app_headers).status_code == 200
    ranking = SimpleNamespace(order=[0], scores=[1.0], because=[[]])
    monkeypatch.setattr(services.personalizer, "judge", lambda: SimpleNamespace(rank=lambda *_: ranking))
    rank = {"prompt": "hi", "replies": ["hello"], "value_token": handle}
    assert participant_client.post("/v1/rank", json=rank, headers=app_headers).status_code == 200
    reads = participant_client.get("/v1/me/reads").json()  # newest first
    assert [r["purpose"] for r in reads] == [ReadPurpose.RANK, ReadPurpose.PROFILE, ReadPurpose.CHAT]
    my_data = participant_client.get("/me").text
    assert "to personalise a chat reply" in my_data and "to rank replies for you" in my_data
    exported = participant_client.get("/v1/me/export").json()
    assert sorted(r["purpose"] for r in exported["reads"]) == ["chat", "profile", "rank"]


def test_admins_register_and_edit_an_apps_owner_and_return_addresses(services, web_app, tutor):
    admin = services.accounts.create(role="admin")
    with TestClient(web_app) as client:
        csrf = client.post("/v1/session", json={"resume_code": admin.resume_code}).json()["csrf_token"]
        client.headers["X-CSRF-Token"] = csrf
        edited = client.patch(
            f"/v1/admin/apps/{tutor.id}", json={"owner": "Tutor Co", "redirect_uris": ["https://tutor.example/new"]}
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["owner"] == "Tutor Co" and edited.json()["name"] == "Homework Tutor"
        open_redirect = client.patch(f"/v1/admin/apps/{tutor.id}", json={"redirect_uris": ["http://tutor.example/x"]})
        assert open_redirect.status_code == 400 and "https://" in open_redirect.json()["error"]["message"]
        listed = {a["id"]: a for a in client.get("/v1/apps").json()}
        assert listed[tutor.id]["owner"] == "Tutor Co"
    with TestClient(web_app) as person:
        sign_up(person)
        assert person.get(consent_url(tutor), follow_redirects=False).status_code == 400  # the old address is gone


def test_the_migration_keeps_existing_apps_and_reads(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(resources.files("valueprint.store") / "migrations"))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            text(
                "insert into apps (id, name, description, key_hash, key_prefix, scopes, created_at) "
                "values ('app_old', 'Old', '', 'h', 'vpk_', '[\"moral\"]', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "insert into participants (id, role, secret_hash, created_at, boundaries, demographics_done, stop_sd) "
                "values ('p1', 'participant', 'x', '2026-01-01 00:00:00', '[]', 0, 0.3)"
            )
        )
        connection.execute(
            text(
                "insert into audit_log (participant_id, app_id, action, scopes, at) "
                "values ('p1', 'app_old', 'handle_lookup', '[\"moral\"]', '2026-01-02 00:00:00')"
            )
        )
    migrate(db.engine)
    with db.session() as session:
        app = session.get(App, "app_old")
        assert (app.owner, app.redirect_uris) == ("", [])
        assert session.query(AuditEntry).one().purpose == ReadPurpose.PROFILE


def test_the_cli_registers_and_edits_an_apps_owner_and_return_addresses():
    runner = CliRunner()
    args = ["admin", "register-app", "Tutor", "--scope", "moral", "--owner", "Tutor Labs", "--redirect-uri", RETURN]
    registered = runner.invoke(cli, args)
    assert registered.exit_code == 0, registered.output
    app_id = json.loads(registered.output)["id"]
    edited = runner.invoke(cli, ["admin", "edit-app", app_id, "--owner", "Tutor Co"])
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.output) | {"id": ""} == {
        "id": "",
        "name": "Tutor",
        "description": "",
        "owner": "Tutor Co",
        "scopes": ["moral"],
        "redirect_uris": [RETURN],
    }
    refused = runner.invoke(cli, ["admin", "edit-app", app_id, "--redirect-uri", "javascript:alert(1)"])
    assert refused.exit_code != 0 and "https://" in refused.output
