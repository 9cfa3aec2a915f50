"""Browser sessions: a cookie that holds only a random id, ended by signing out, by idleness and by age."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import sign_up
from valueprint.settings import Settings
from valueprint.store.models import SessionRecord


def cookie_contents(client: TestClient) -> dict:
    """What the signed (not encrypted) cookie says, as anyone holding it can read it."""
    payload = client.cookies["vp_session"].split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


def copy_of(web_app, client: TestClient) -> TestClient:
    """Another browser holding a copy of `client`'s cookie (and CSRF header)."""
    thief = TestClient(web_app, cookies={"vp_session": client.cookies["vp_session"]})
    thief.headers["X-CSRF-Token"] = client.headers["X-CSRF-Token"]
    return thief


def test_the_cookie_holds_neither_the_resume_code_nor_the_participant(participant_client) -> None:
    started = participant_client.participant
    contents = cookie_contents(participant_client)
    assert set(contents) == {"sid", "csrf"}
    raw = json.dumps(contents)
    assert started["participant_id"] not in raw
    assert all(word not in raw for word in started["resume_code"].split("-"))


def test_the_resume_code_page_never_puts_the_code_in_a_cookie(client) -> None:
    page = client.get("/")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/start", data={"csrf_token": token, "consent": "yes"}, follow_redirects=False)
    words = client.get("/start/code").text
    assert "vp_session" in client.cookies
    contents = json.dumps(cookie_contents(client))
    shown = [w for w in words.split() if w.isalpha() and w.islower()]
    assert shown and all(f'"{w}"' not in contents for w in shown)


def test_the_database_keeps_only_a_hash_of_the_session_id(participant_client, services) -> None:
    session_id = cookie_contents(participant_client)["sid"]
    with services.db.session() as session:
        stored = session.scalars(select(SessionRecord.id_hash)).all()
    assert len(stored) == 1 and session_id not in stored[0]


def test_a_cookie_copied_before_sign_out_is_refused_after_it(web_app, participant_client) -> None:
    with copy_of(web_app, participant_client) as thief:
        assert thief.get("/v1/me/export").status_code == 200
        assert participant_client.delete("/v1/session").status_code == 204
        assert thief.get("/v1/me/export").status_code == 401
        changed = thief.put("/v1/me/demographics", json={"demographics": {"country": "Peru"}})
        assert changed.status_code == 401


def test_signing_out_in_the_page_ends_the_session_too(web_app, participant_client) -> None:
    with copy_of(web_app, participant_client) as thief:
        token = participant_client.headers["X-CSRF-Token"]
        signed_out = participant_client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
        assert signed_out.status_code == 303
        assert thief.get("/v1/me/profile").status_code == 401
        assert thief.get("/me", follow_redirects=False).headers["location"] == "/"


def test_sign_out_everywhere_ends_every_browser_of_the_person(web_app, participant_client) -> None:
    code = participant_client.participant["resume_code"]
    with TestClient(web_app) as laptop, copy_of(web_app, participant_client) as thief:
        laptop.headers["X-CSRF-Token"] = laptop.post("/v1/session", json={"resume_code": code}).json()["csrf_token"]
        assert laptop.get("/v1/me/profile").status_code == 200
        assert participant_client.delete("/v1/me/sessions").status_code == 204
        for browser in (participant_client, laptop, thief):
            assert browser.get("/v1/me/profile").status_code == 401


def test_the_sign_out_everywhere_button_is_on_my_data_page(web_app, participant_client) -> None:
    page = participant_client.get("/me").text
    assert 'action="/signout/everywhere"' in page and "This browser only." in page
    token = participant_client.headers["X-CSRF-Token"]
    with copy_of(web_app, participant_client) as thief:
        ended = participant_client.post("/signout/everywhere", data={"csrf_token": token}, follow_redirects=False)
        assert ended.status_code == 303
        assert thief.get("/v1/me/profile").status_code == 401


def test_another_person_cannot_sign_me_out_everywhere(web_app, participant_client) -> None:
    with TestClient(web_app) as other:
        sign_up(other)
        assert other.delete("/v1/me/sessions").status_code == 204
    assert participant_client.get("/v1/me/profile").status_code == 200


def later(services, delta: timedelta) -> None:
    """Move the sessions' clock forward."""
    moment = datetime.now(UTC) + delta
    services.accounts.sessions.clock = lambda: moment


@pytest.fixture
def short_sessions(tmp_path):
    from valueprint.web.app import create_app

    app = create_app(
        Settings(data_dir=tmp_path / "short", environment="test", session_idle_hours=2, session_max_days=1)
    )
    with TestClient(app) as client:
        sign_up(client)
        yield app.state.services, client


def test_a_session_unused_for_the_idle_time_ends(short_sessions) -> None:
    services, client = short_sessions
    later(services, timedelta(hours=1))
    assert client.get("/v1/me/profile").status_code == 200
    later(services, timedelta(hours=2, minutes=30))  # 1 h 30 after that use: still live
    assert client.get("/v1/me/profile").status_code == 200
    later(services, timedelta(hours=4, minutes=31))
    assert client.get("/v1/me/profile").status_code == 401


def test_a_session_in_use_still_ends_at_its_absolute_lifetime(short_sessions) -> None:
    services, client = short_sessions
    for hours in range(1, 24):
        later(services, timedelta(hours=hours))
        assert client.get("/v1/me/profile").status_code == 200
    later(services, timedelta(hours=24, minutes=1))
    assert client.get("/v1/me/profile").status_code == 401


def test_signing_in_again_replaces_this_browsers_session(web_app, participant_client, services) -> None:
    code = participant_client.participant["resume_code"]
    with copy_of(web_app, participant_client) as old_copy:
        participant_client.post("/v1/session", json={"resume_code": code})
        assert old_copy.get("/v1/me/profile").status_code == 401
    assert services.accounts.sessions.count(participant_client.participant["participant_id"]) == 1


def test_the_cookie_is_secure_whenever_served_over_https(web_app) -> None:
    with TestClient(web_app, base_url="https://valueprint.test") as secure:
        response = secure.post("/v1/participants", json={"consent": True})
        assert "secure" in response.headers["set-cookie"].lower()
    with TestClient(web_app) as plain:  # development over http://localhost keeps working
        response = plain.post("/v1/participants", json={"consent": True})
        assert "secure" not in response.headers["set-cookie"].lower()


def test_sessions_are_exported_and_deleted_with_the_account(participant_client, services) -> None:
    exported = participant_client.get("/v1/me/export").json()
    assert len(exported["sessions"]) == 1 and set(exported["sessions"][0]) == {"signed_in_at", "last_used_at"}
    assert participant_client.delete("/v1/me").status_code == 204
    with services.db.session() as session:
        assert session.scalars(select(SessionRecord)).all() == []
