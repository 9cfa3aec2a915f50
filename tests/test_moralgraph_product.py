"""The moral graph in the product: a person's cards join their précis within the `wisdom` scope (and only
there), and the chat consults the graph where the person's profile is silent, saying so in its notes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_up
from tests.moralgraph_factories import GRIEF, four_values, grief_context, judge_all, person, stories_upward, words
from tests.test_api import app_headers, issue
from valueprint.personalize.engine import Engine
from valueprint.settings import Settings
from valueprint.values.precis import SAFETY_LINE
from valueprint.web.app import create_app

MINE = {"title": "Steady care", "description": "Looking after their days.", "policies": GRIEF}
OWN_SENTENCE = "When someone is grieving, I attend to moments when they want to talk about the person they lost"


class RecordingUpstream:
    """An OpenAI-compatible endpoint double: records each conversation and answers a fixed line."""

    model = "recorder"

    def __init__(self) -> None:
        self.seen: list[list[dict[str, str]]] = []

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None, temperature: Any = None) -> str:
        self.seen.append(messages)
        return "Sit with them."


class CountingWords:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return words(texts)


@pytest.fixture
def app(tmp_path) -> Iterator[Any]:
    settings = Settings(data_dir=tmp_path / "web", environment="test", moralgraph_context_similarity=0.3)
    app = create_app(settings)
    app.state.services.moralgraph.embedder = CountingWords()
    yield app


@pytest.fixture
def person_client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        client.participant = sign_up(client)
        yield client


def read(client: TestClient, app_id: str, key: Any, handle: str, scopes: list[str]) -> dict[str, Any]:
    assert client.put(f"/v1/me/consents/{app_id}", json={"scopes": scopes}).status_code == 200
    response = client.get(f"/v1/tokens/{handle}", headers=app_headers(key))
    assert response.status_code == 200, response.text
    return response.json()


# -- the wisdom scope -------------------------------------------------------------------------------


def test_a_persons_cards_join_their_precis_only_within_the_wisdom_scope(app, person_client) -> None:
    services = app.state.services
    token = issue(person_client)
    old_app = services.registry.register_app("Older app", ["schwartz", "moral"])  # registered before anyone wrote cards
    before = read(person_client, old_app.id, old_app, token["handle"], ["moral"])
    context = grief_context(services)
    assert person_client.post(f"/v1/moralgraph/contexts/{context}/cards", json=MINE).status_code == 201
    wise = services.registry.register_app("Wise app", ["moral", "wisdom"])
    without = read(person_client, wise.id, wise, token["handle"], ["moral"])
    assert without["wisdom"] == [] and "I attend to" not in without["precis"]
    assert read(person_client, old_app.id, old_app, token["handle"], ["moral"]) == before, "old consents read the same"
    within = read(person_client, wise.id, wise, token["handle"], ["moral", "wisdom"])
    assert within["scopes"] == ["moral", "wisdom"] and within["dimensions"] == without["dimensions"]
    assert within["wisdom"] == [
        {"context_id": context, "context": "when someone is grieving", "title": "Steady care", "policies": GRIEF}
    ]
    assert OWN_SENTENCE in within["precis"] and within["precis"].endswith(SAFETY_LINE)
    alone = person_client.get(f"/v1/tokens/{token['handle']}/precis", headers=app_headers(wise)).json()
    assert OWN_SENTENCE in alone["precis"]
    refused = person_client.put(f"/v1/me/consents/{old_app.id}", json={"scopes": ["wisdom"]})
    assert refused.json()["scopes"] == [], "an app not registered for wisdom cannot be granted it"


def test_the_consent_page_says_what_the_wisdom_scope_reads(app, person_client) -> None:
    registry = app.state.services.registry
    wise = registry.register_app("Wise app", ["wisdom"], redirect_uris=["https://wise.example/back"])
    page = person_client.get(
        "/consent", params={"client_id": wise.id, "scope": "wisdom", "redirect_uri": "https://wise.example/back"}
    )
    assert page.status_code == 200 and "Your values cards" in page.text
    assert registry.check_scopes(["wisdom", "moral"]) == ["moral", "wisdom"]


# -- the chat consults the graph --------------------------------------------------------------------


@pytest.fixture
def chat(app) -> RecordingUpstream:
    services = app.state.services
    upstream = RecordingUpstream()
    services.personalizer._engine = Engine(services.model.space, upstream=upstream)  # type: ignore[arg-type]
    return upstream


def crowd_judged(services: Any) -> int:
    context = grief_context(services)
    ids = four_values(services, context)
    order = [ids["Practical advice"], ids["Honouring the rites"], ids["Shared laughter"], ids["Being there"]]
    stories_upward(services, order)
    for _ in range(3):
        judge_all(services, person(services), context, order)
    return context


def ask(client: TestClient, key: Any, handle: str | None, prompt: str) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}]}
    headers = app_headers(key) | ({"X-Value-Token": handle} if handle else {})
    response = client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["valueprint"]["notes"]


def test_where_the_profile_is_silent_the_chat_draws_on_the_winning_value_and_says_so(app, person_client, chat):
    services = app.state.services
    crowd_judged(services)
    token = issue(person_client)
    reader = services.registry.register_app("Reader", ["moral", "wisdom"])
    person_client.put(f"/v1/me/consents/{reader.id}", json={"scopes": ["moral"]})
    notes = ask(person_client, reader, token["handle"], "How can I help a friend who is grieving her mother?")
    graph = notes["moral_graph"]
    assert graph["consulted"] and graph["used"] == "winning_value" and graph["context"] == "when someone is grieving"
    assert graph["value"]["title"] == "Being there" and "silent" in graph["reason"]
    system = [m["content"] for m in chat.seen[-1] if m["role"] == "system"]
    assert any("Being there" in text and "Pay attention to: MOMENTS when" in text for text in system)
    plain = ask(person_client, reader, None, "How can I help a friend who is grieving her mother?")
    assert plain["moral_graph"]["used"] == "winning_value", "without a token the profile is silent too"


def test_a_persons_own_card_speaks_instead_of_the_graph(app, person_client, chat) -> None:
    services = app.state.services
    context = crowd_judged(services)
    assert person_client.post(f"/v1/moralgraph/contexts/{context}/cards", json=MINE).status_code == 201
    token = issue(person_client)
    reader = services.registry.register_app("Reader", ["moral", "wisdom"])
    person_client.put(f"/v1/me/consents/{reader.id}", json={"scopes": ["moral", "wisdom"]})
    notes = ask(person_client, reader, token["handle"], "How can I help a friend who is grieving her mother?")
    assert notes["moral_graph"]["used"] == "own_card" and notes["moral_graph"]["value"] is None
    system = " ".join(m["content"] for m in chat.seen[-1] if m["role"] == "system")
    assert OWN_SENTENCE in system and "moral graph judged" not in system
    person_client.put(f"/v1/me/consents/{reader.id}", json={"scopes": ["moral"]})
    unshared = ask(person_client, reader, token["handle"], "How can I help a friend who is grieving her mother?")
    assert unshared["moral_graph"]["used"] == "winning_value", "a card not shared with this app does not speak"


def test_a_prompt_outside_every_context_gets_nothing_from_the_graph(app, person_client, chat) -> None:
    services = app.state.services
    crowd_judged(services)
    reader = services.registry.register_app("Reader", ["moral"])
    notes = ask(person_client, reader, None, "What is the capital of France?")
    assert notes["moral_graph"]["used"] == "none" and notes["moral_graph"]["context"] is None
    assert all(m["role"] != "system" for m in chat.seen[-1])


def test_without_any_vote_the_graph_is_not_consulted_and_nothing_is_embedded(app, person_client, chat) -> None:
    services = app.state.services
    reader = services.registry.register_app("Reader", ["moral"])
    notes = ask(person_client, reader, None, "How can I help a friend who is grieving?")
    assert "moral_graph" not in notes and services.moralgraph.embedder.calls == 0
