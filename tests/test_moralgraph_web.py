"""The moral graph over HTTP: the /v1/moralgraph API and the pages (forms keep what was typed on an error)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import live_server, sign_up
from tests.moralgraph_factories import ADVICE, GRIEF, HUMOUR, RITUAL, grief_context, words
from valueprint.errors import CardError

CARD = {"title": "Being there", "description": "Staying close to a grieving person.", "policies": GRIEF}


@pytest.fixture
def api(participant_client, services):
    services.moralgraph.embedder = words
    return participant_client


def test_a_person_writes_a_card_and_judges_a_transition_over_the_api(api, services) -> None:
    contexts = api.get("/v1/moralgraph/contexts").json()
    grief = next(c for c in contexts if c["text"] == "when someone is grieving")
    url = f"/v1/moralgraph/contexts/{grief['id']}"
    assert [p["key"] for p in api.get(f"{url}/prompts").json()] == ["moment", "attention", "miss", "name"]
    made = api.post(f"{url}/cards", json=CARD)
    assert made.status_code == 201, made.text
    assert made.json()["canonical"]["title"] == "Being there" and made.json()["history"][0]["method"] == "new"
    other = TestClient(api.app)
    sign_up(other)
    advice = {"title": "Practical advice", "description": "Helping them back on their feet.", "policies": ADVICE}
    assert other.post(f"{url}/cards", json=advice).status_code == 201
    shown = api.get(f"{url}/next").json()["transition"]
    assert {shown["from_value"]["title"], shown["to_value"]["title"]} == {"Being there", "Practical advice"}
    voted = api.post(f"/v1/moralgraph/transitions/{shown['id']}/votes", json={"answer": "yes", "why": "closer"})
    assert voted.status_code == 200 and voted.json() == {
        "transition_id": shown["id"],
        "answer": "yes",
        "replaced": False,
        "judged": 1,
        "weight": 0.1,  # a fresh account: no annotation karma yet
    }
    assert api.get(f"{url}/next").json() == {"transition": None}
    graph = api.get(f"{url}/graph").json()
    assert graph["votes"] == 1 and graph["winner"] is None and len(graph["edges"]) == 2
    assert [c["title"] for c in api.get("/v1/moralgraph/me/cards").json()] == ["Being there"]
    exported = api.get("/v1/moralgraph/export").json()
    assert exported["format"] == "valueprint.moralgraph/1" and any(c["votes"] for c in exported["contexts"])


def test_bad_input_gets_a_clear_error_and_changes_nothing(api, services) -> None:
    url = f"/v1/moralgraph/contexts/{grief_context(services)}"
    short = api.post(f"{url}/cards", json={**CARD, "policies": GRIEF[:2]})
    assert short.status_code == 422 and short.json()["error"]["code"] == "invalid_card"
    assert "3 to 7" in short.json()["error"]["message"]
    assert api.post("/v1/moralgraph/contexts/99999/cards", json=CARD).status_code == 404
    assert api.post(f"{url}/cards", json={**CARD, "colour": "red"}).status_code == 422
    assert api.get("/v1/moralgraph/me/cards").json() == []
    assert api.post("/v1/moralgraph/transitions/1/votes", json={"answer": "maybe"}).status_code == 422
    assert api.post("/v1/moralgraph/transitions/77/votes", json={"answer": "yes"}).status_code == 404
    no_model = api.post(
        "/v1/moralgraph/interview/reply", json={"context_id": 1, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert no_model.status_code == 400 and "VALUEPRINT_UPSTREAM_URL" in no_model.json()["error"]["message"]
    assert api.get(f"{url}/suggestions", params={"text": "ab"}).status_code == 422


def test_the_api_needs_a_signed_in_person_and_the_csrf_token(client) -> None:
    assert client.get("/v1/moralgraph/contexts").status_code == 401
    sign_up(client)
    del client.headers["X-CSRF-Token"]
    assert client.post("/v1/moralgraph/contexts", json={"text": "when my cat is ill"}).status_code == 403


def test_a_proposed_context_opens_its_page(api) -> None:
    proposed = api.post("/v1/moralgraph/contexts", json={"text": "Someone's dog has died"})
    assert proposed.status_code == 201 and proposed.json()["text"] == "when someone's dog has died"
    page = api.get(f"/moralgraph/contexts/{proposed.json()['id']}")
    assert page.status_code == 200 and "When someone&#39;s dog has died" in page.text and 'id="no-winner"' in page.text


# -- pages ----------------------------------------------------------------------------------------


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_visitors_are_sent_to_sign_up(client) -> None:
    page = client.get("/moralgraph", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/"


def test_a_card_form_with_a_mistake_comes_back_with_what_was_typed(api, services) -> None:
    context = grief_context(services)
    page = api.get(f"/moralgraph/contexts/{context}/interview")
    assert page.status_code == 200 and "Think of a time when someone is grieving" in page.text
    assert "Or talk it through" not in page.text, "no chat without an upstream model"
    form = {"csrf_token": csrf_of(page.text), "title": "Being there", "description": "Staying close."}
    sent = api.post(f"/moralgraph/contexts/{context}/cards", data={**form, "policy": [GRIEF[0], "", ""]})
    assert sent.status_code == 422 and "3 to 7 attentional policies" in sent.text
    assert GRIEF[0] in sent.text and 'value="Being there"' in sent.text
    saved = api.post(f"/moralgraph/contexts/{context}/cards", data={**form, "policy": GRIEF}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/moralgraph/mine#card-")
    mine = api.get("/moralgraph/mine")
    assert "A value of its own in this situation." in mine.text and GRIEF[2] in mine.text


def test_the_vote_page_records_a_judgement_and_moves_on(api, services) -> None:
    context = grief_context(services)
    for title, policies in (("Honouring the rites", RITUAL), ("Shared laughter", HUMOUR)):
        services.moralgraph.create_card(services.accounts.create().id, context, title, "Line.", policies)
    page = api.get(f"/moralgraph/contexts/{context}/vote")
    assert page.status_code == 200 and "Did this person become wiser?" in page.text
    transition = re.search(r"/moralgraph/transitions/(\d+)/vote", page.text).group(1)
    token = csrf_of(page.text)
    wrong = api.post(f"/moralgraph/transitions/{transition}/vote", data={"csrf_token": token, "answer": "perhaps"})
    assert wrong.status_code == 422 and "answer one of" in wrong.text
    done = api.post(
        f"/moralgraph/transitions/{transition}/vote",
        data={"csrf_token": token, "answer": "not_sure", "why": "both matter"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = api.get(f"/moralgraph/contexts/{context}/vote")
    assert "You have judged 1 transition here." in after.text and 'id="all-judged"' in after.text
    assert "weighs 0.1 of an established annotator" in after.text, "a fresh account is told its vote weighs less"


def test_pages_render_for_a_signed_in_person(api, services) -> None:
    assert "when someone is grieving" in api.get("/moralgraph").text
    context = grief_context(services)
    assert "The graph" in api.get(f"/moralgraph/contexts/{context}").text
    assert 'id="no-winner"' in api.get(f"/moralgraph/contexts/{context}/represent").text
    assert api.get("/moralgraph/contexts/424242").status_code == 404


# -- the interview as a chat, through a real HTTP upstream ----------------------------------------


class Upstream:
    """An OpenAI-compatible server that asks a question, then drafts a card (as JSON) when asked to."""

    def __init__(self) -> None:
        from fastapi import FastAPI

        self.app, self.seen = FastAPI(), []

        @self.app.post("/v1/chat/completions")
        def complete(body: dict) -> dict:
            self.seen.append(body["messages"])
            last = body["messages"][-1]["content"]
            text = (
                '{"title": "Being there", "description": "Staying close.", "policies": '
                '["MOMENTS when they want to talk", "CHANCES to sit in silence", "SIGNS they need food"]}'
                if "JSON" in last
                else "What did you notice in that moment?"
            )
            return {"choices": [{"message": {"role": "assistant", "content": text}}]}


def test_with_an_upstream_the_interview_runs_as_a_chat_that_drafts_an_editable_card(tmp_path, monkeypatch) -> None:
    from valueprint.settings import Settings
    from valueprint.web.app import create_app

    upstream = Upstream()
    with live_server(upstream.app) as url:
        app = create_app(Settings(data_dir=tmp_path / "web", environment="test", upstream_url=f"{url}/v1"))
        with TestClient(app) as person:
            sign_up(person)
            context = grief_context(app.state.services)
            assert "Or talk it through" in person.get(f"/moralgraph/contexts/{context}/interview").text
            turns = [
                {"role": "assistant", "content": "Think of a time …"},
                {"role": "user", "content": "My friend lost her father; I brought soup and sat with her."},
            ]
            asked = person.post("/v1/moralgraph/interview/reply", json={"context_id": context, "messages": turns})
            assert asked.status_code == 200 and asked.json() == {"reply": "What did you notice in that moment?"}
            drafted = person.post("/v1/moralgraph/interview/draft", json={"context_id": context, "messages": turns})
            assert drafted.status_code == 200 and drafted.json()["policies"][0] == "MOMENTS when they want to talk"
            assert person.get("/v1/moralgraph/me/cards").json() == [], "a draft is never saved by itself"
            assert "when someone is grieving" in upstream.seen[0][0]["content"]
            assert "I brought soup" in upstream.seen[-1][-1]["content"], "the draft is made from the person's words"


def test_text_that_is_not_valid_unicode_is_refused_not_crashed_on(api, services) -> None:
    url = f"/v1/moralgraph/contexts/{grief_context(services)}"
    lone = '{"title": "Being \\ud800 there", "description": "Staying close.", "policies": ["a", "b", "c"]}'
    sent = api.post(f"{url}/cards", content=lone, headers={"content-type": "application/json"})
    assert sent.status_code == 422 and "title" in sent.json()["error"]["message"]
    person = services.accounts.create().id
    with pytest.raises(CardError, match="valid Unicode"):  # a form post reaches the domain as it came
        services.moralgraph.create_card(person, grief_context(services), "Being \ud800 there", "Close.", GRIEF)
    with pytest.raises(CardError, match="valid Unicode"):
        services.moralgraph.vote(person, 1, "yes", "why \udcff")
