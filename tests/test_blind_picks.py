"""Blind picks by people: the hidden side, one choice only, only one's own picks, statistics with a Wilson
interval, preference pairs for the adapter; the page and the API on the real local model; the admin section."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import sign_up
from tests.test_admin import admin_client  # noqa: F401  (fixture)
from valueprint.errors import BadRequestError, ConflictError, NotFoundError
from valueprint.personalize.engine import Completion
from valueprint.personalize.picks import wilson
from valueprint.settings import Settings
from valueprint.store.models import BlindPick
from valueprint.web.app import create_app

HTMX = {"HX-Request": "true"}
PLAIN, PERSONAL = "A plain reply.", "A reply shaped by your values."


class ScriptedEngine:
    """Answers like the local model, without one: the personalised reply says so."""

    model = "scripted"  # stands for a local model: strategies that need one (frame) are kept

    def context(self, profile, **options):
        return SimpleNamespace(profile=profile, instructions=None)

    def complete(self, messages, sampling, strategies, context):
        text = PERSONAL if strategies else PLAIN
        names = [s.name for s in strategies]
        return Completion(text=text, model="scripted", prompt_tokens=1, completion_tokens=1, strategies=names)


class ScriptedPersonalizer:
    def engine(self) -> ScriptedEngine:
        return ScriptedEngine()


@pytest.fixture
def picks(services):
    services.picks.personalizer = ScriptedPersonalizer()
    return services.picks


@pytest.fixture
def person(services) -> str:
    return services.accounts.create().id


def side_of(services, pick_id: int) -> str:
    with services.db.session() as session:
        return session.get(BlindPick, pick_id).personal_side


# -- the service ------------------------------------------------------------------------------


def test_the_two_replies_come_as_a_and_b_and_the_side_stays_hidden(picks, services, person) -> None:
    sides = set()
    for _ in range(24):
        pick = picks.start(person, "  Should I tell my friend the truth?  ")
        assert "side" not in str(pick.model_dump()) and "personal" not in pick.model_dump()
        side = side_of(services, pick.pick_id)
        assert (pick.reply_a if side == "A" else pick.reply_b) == PERSONAL
        assert {pick.reply_a, pick.reply_b} == {PLAIN, PERSONAL}
        sides.add(side)
    assert sides == {"A", "B"}, "the side is drawn at random"
    assert pick.prompt == "Should I tell my friend the truth?"


def test_prompt_and_replies_are_sealed_at_rest(picks, services, person) -> None:
    picks.start(person, "A secret question about my health")
    with services.db.session() as session:
        row = session.scalars(select(BlindPick)).one()
        assert "secret" not in row.sealed and PLAIN not in row.sealed
        assert row.strategy == "precis+frame" and row.choice is None


@pytest.mark.parametrize("prompt", ["   ", "x" * 1001])
def test_an_empty_or_oversized_prompt_is_refused(picks, person, prompt) -> None:
    with pytest.raises(BadRequestError):
        picks.start(person, prompt)


def test_a_choice_is_recorded_once_and_reveals_the_personal_side(picks, services, person) -> None:
    pick = picks.start(person, "Should I move abroad?")
    side = side_of(services, pick.pick_id)
    revealed = picks.choose(person, pick.pick_id, side)
    assert (revealed.choice, revealed.personal_side, revealed.chose) == (side, side, "personal")
    assert revealed.strategies == ["precis", "frame"]
    with pytest.raises(ConflictError):
        picks.choose(person, pick.pick_id, "same")
    assert picks.reveal(person, pick.pick_id).chose == "personal", "the first choice stands"
    other = picks.start(person, "Should I stay?")
    plain_side = "B" if side_of(services, other.pick_id) == "A" else "A"
    assert picks.choose(person, other.pick_id, plain_side).chose == "plain"
    assert picks.choose(person, picks.start(person, "Or not?").pick_id, "same").chose == "same"


def test_another_person_s_pick_or_no_pick_is_not_found_and_a_bad_choice_refused(picks, services, person) -> None:
    pick = picks.start(person, "Should I?")
    stranger = services.accounts.create().id
    with pytest.raises(NotFoundError):
        picks.choose(stranger, pick.pick_id, "A")
    with pytest.raises(NotFoundError):
        picks.choose(person, pick.pick_id + 100, "A")
    with pytest.raises(BadRequestError):
        picks.choose(person, pick.pick_id, "C")
    assert picks.reveal(person, pick.pick_id) is None, "still open"


def test_wilson_interval() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) is None
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0


def decide(picks, services, person: str, outcome: str) -> None:
    pick = picks.start(person, "Which?")
    side = side_of(services, pick.pick_id)
    if outcome != "open":
        choice = {"personal": side, "plain": "B" if side == "A" else "A", "same": "same"}[outcome]
        picks.choose(person, pick.pick_id, choice)


def test_stats_per_strategy_give_the_personal_share_with_its_interval_and_the_same_count(
    picks, services, person
) -> None:
    assert picks.stats() == []
    for outcome in ["personal"] * 8 + ["plain"] * 2 + ["same"] * 3 + ["open"]:
        decide(picks, services, person, outcome)
    (row,) = picks.stats()
    assert row.strategy == "precis+frame"
    assert (row.picks, row.personal, row.plain, row.same, row.open) == (13, 8, 2, 3, 1)
    assert row.personal_share == pytest.approx(0.8)
    assert (row.ci_low, row.ci_high) == pytest.approx(wilson(8, 10))


def test_decided_picks_become_the_person_s_preference_pairs(picks, services, person) -> None:
    for outcome in ("personal", "plain", "same", "open"):
        decide(picks, services, person, outcome)
    assert picks.preference_pairs(person) == [("Which?", PERSONAL, PLAIN), ("Which?", PLAIN, PERSONAL)]
    assert picks.preference_pairs(services.accounts.create().id) == []


def test_the_adapter_learns_from_the_picks_beside_the_scenario_answers(picks, services, person, monkeypatch) -> None:
    decide(picks, services, person, "plain")
    seen = {}

    def capture(subject, subject_id, profile, own=None):
        seen["own"] = own
        raise BadRequestError("stop here")

    monkeypatch.setattr(services.personalizer, "training_request", capture)
    with pytest.raises(BadRequestError):
        services.train_adapter(person)
    assert ("Which?", PLAIN, PERSONAL) in seen["own"]


def test_an_unknown_or_impossible_pick_id_is_refused_not_a_server_error(picks, participant_client) -> None:
    assert participant_client.post("/v1/me/picks/5", json={"choice": "A"}).status_code == 404
    for pick_id in ("0", "99999999999999999999999"):
        assert participant_client.post(f"/v1/me/picks/{pick_id}", json={"choice": "A"}).status_code == 422
    csrf = participant_client.headers["X-CSRF-Token"]
    huge = participant_client.post("/pick/99999999999999999999999", data={"choice": "A", "csrf_token": csrf})
    assert huge.status_code == 422


# -- the admin dashboard ----------------------------------------------------------------------------


def test_the_admin_dashboard_shows_blind_picks_per_strategy(picks, services, person, admin_client) -> None:  # noqa: F811
    assert "No blind picks yet" in admin_client.get("/admin").text
    for outcome in ["personal"] * 8 + ["plain"] * 2 + ["same"] * 3:
        decide(picks, services, person, outcome)
    page = admin_client.get("/admin/live").text
    assert 'id="admin-picks"' in page and "Blind picks" in page
    row = re.search(r'<tr data-strategy="precis\+frame">(.*?)</tr>', page, re.S).group(1)
    assert "precis + frame" in row and "80.0%" in row and "49.0–94.3%" in row and "<td>3</td>" in row
    data = admin_client.get("/v1/admin/picks").json()
    assert data[0]["personal"] == 8 and data[0]["same"] == 3
    participant = TestClient(admin_client.app)
    sign_up(participant)
    assert participant.get("/v1/admin/picks").status_code == 403


# -- the page and the API, on the real local model --------------------------------------------------


@pytest.fixture
def browser(tmp_path, smollm2_dir):
    settings = Settings(data_dir=tmp_path / "web", environment="test", model_dir=smollm2_dir, chat_max_tokens=16)
    with TestClient(create_app(settings)) as client:
        sign_up(client)
        client.put("/v1/answers/sd-01", json={"value": 5})
        yield client


def post_form(client, url: str, htmx: bool = True, **data):
    data["csrf_token"] = client.headers["X-CSRF-Token"]
    return client.post(url, data=data, headers=HTMX if htmx else {})


def test_a_person_picks_blind_through_the_page_and_then_sees_which_was_personal(browser) -> None:
    assert 'href="/pick"' in browser.get("/result").text
    page = browser.get("/pick")
    assert page.status_code == 200 and 'hx-indicator="#pick-progress"' in page.text
    assert re.search(r"Answering twice… about \d+ s", page.text)
    shown = post_form(browser, "/pick", prompt="My brother asks me to lend him money again. <b>Should I?</b>")
    assert shown.status_code == 200 and "<html" not in shown.text
    html = shown.text
    assert 'id="pick-a"' in html and 'id="pick-b"' in html and 'value="same"' in html
    assert "shaped by your values" not in html and "<b>Should I?</b>" not in html
    pick_id = re.search(r'hx-post="/pick/(\d+)"', html).group(1)
    revealed = post_form(browser, f"/pick/{pick_id}", choice="B")
    assert revealed.status_code == 200
    assert re.search(r"[AB] was the one shaped by your values", revealed.text) and "You picked B" in revealed.text
    again = post_form(browser, f"/pick/{pick_id}", choice="A")
    assert "already chosen" in again.text and "You picked B" in again.text
    exported = browser.get("/v1/me/export").json()["blind_picks"]
    assert exported[0]["prompt"].startswith("My brother") and exported[0]["choice"] in ("personal", "plain")


def test_without_htmx_the_whole_page_comes_back(browser) -> None:
    shown = post_form(browser, "/pick", htmx=False, prompt="Is it fine to skip a family dinner for work?")
    assert "<html" in shown.text and 'id="pick-a"' in shown.text
    pick_id = re.search(r'action="/pick/(\d+)#pick"', shown.text).group(1)
    revealed = post_form(browser, f"/pick/{pick_id}", htmx=False, choice="same")
    assert "<html" in revealed.text and "You saw no difference" in revealed.text


@pytest.mark.parametrize(("prompt", "message"), [("   ", "Type a question"), ("x" * 1001, "under 1000 characters")])
def test_the_page_refuses_an_empty_or_oversized_prompt(browser, prompt, message) -> None:
    response = post_form(browser, "/pick", prompt=prompt)
    assert response.status_code == 422 and message in response.text and 'id="pick-a"' not in response.text


def test_the_page_needs_a_signed_in_person_and_the_csrf_token(tmp_path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "web", environment="test"))) as client:
        assert client.get("/pick", follow_redirects=False).status_code == 303
        assert client.post("/pick", data={"prompt": "hi"}, headers=HTMX).status_code in (401, 403)
        sign_up(client)
        del client.headers["X-CSRF-Token"]
        assert client.post("/pick", data={"prompt": "hi"}, headers=HTMX).status_code == 403


def test_the_api_starts_a_pick_and_takes_one_choice(browser) -> None:
    started = browser.post("/v1/me/picks", json={"prompt": "Should I forgive a friend who lied to me?"})
    assert started.status_code == 201, started.text
    body = started.json()
    assert set(body) == {"pick_id", "prompt", "reply_a", "reply_b", "reply_a_cut", "reply_b_cut", "seconds"}
    url = f"/v1/me/picks/{body['pick_id']}"
    assert browser.post(url, json={"choice": "C"}).status_code == 422
    chosen = browser.post(url, json={"choice": "A"})
    assert chosen.status_code == 200 and chosen.json()["choice"] == "A"
    assert chosen.json()["chose"] == ("personal" if chosen.json()["personal_side"] == "A" else "plain")
    assert browser.post(url, json={"choice": "B"}).status_code == 409
    assert browser.post("/v1/me/picks", json={"prompt": ""}).status_code == 422
    stranger = TestClient(browser.app)
    sign_up(stranger)
    refused = stranger.post(url, json={"choice": "A"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
