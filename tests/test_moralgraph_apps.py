"""Third-party apps read the moral graph with their API key: the contexts with their winning values, a
context's graph and the export. The graph is not public: without a session or a key it is a 401."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.moralgraph_factories import four_values, grief_context, judge_all, person, stories_upward, words


@pytest.fixture
def judged(services) -> tuple[int, int]:
    """The grief context judged by four people who agree: (context id, the winning value's id)."""
    services.moralgraph.embedder = words
    context = grief_context(services)
    ids = four_values(services, context)
    order = [ids["Practical advice"], ids["Honouring the rites"], ids["Shared laughter"], ids["Being there"]]
    stories_upward(services, order)
    for _ in range(4):
        judge_all(services, person(services), context, order)
    return context, ids["Being there"]


@pytest.fixture
def app_key(services) -> str:
    return services.registry.register_app("Wise bot", ["schwartz"]).api_key


def test_an_app_reads_the_winning_values_and_the_graph_with_its_key(web_app, judged, app_key) -> None:
    context, winner = judged
    with TestClient(web_app, headers={"Authorization": f"Bearer {app_key}"}) as app:
        listed = app.get("/v1/moralgraph/contexts")
        assert listed.status_code == 200
        grief = next(c for c in listed.json() if c["id"] == context)
        assert grief["winner"]["id"] == winner and grief["winner"]["title"] == "Being there"
        graph = app.get(f"/v1/moralgraph/contexts/{context}/graph").json()
        assert graph["winner"]["id"] == winner and sum(e["kept"] for e in graph["edges"]) == 6
        assert app.get(f"/v1/moralgraph/contexts/{context}").json()["winner"]["id"] == winner
        exported = app.get("/v1/moralgraph/export").json()
        assert next(c for c in exported["contexts"] if c["id"] == context)["winner"] == winner
        assert app.get("/v1/moralgraph/representation").status_code == 200


def test_without_a_session_or_a_key_the_graph_is_not_shown(client, judged) -> None:
    context, _ = judged
    for path in ("/v1/moralgraph/contexts", f"/v1/moralgraph/contexts/{context}/graph", "/v1/moralgraph/export"):
        refused = client.get(path)
        assert refused.status_code == 401 and "API key" in refused.text and "Being there" not in refused.text
    wrong = client.get("/v1/moralgraph/contexts", headers={"Authorization": "Bearer vpk_not-a-key"})
    assert wrong.status_code == 401


def test_an_app_reads_but_does_not_write(web_app, judged, app_key) -> None:
    context, _ = judged
    with TestClient(web_app, headers={"Authorization": f"Bearer {app_key}"}) as app:
        assert app.post("/v1/moralgraph/contexts", json={"text": "when a bot wants a say"}).status_code == 401
        assert app.get(f"/v1/moralgraph/contexts/{context}/next").status_code == 401
        assert app.get("/v1/moralgraph/me/cards").status_code == 401


def test_a_signed_in_person_still_reads_the_graph_without_a_key(participant_client, judged) -> None:
    context, winner = judged
    assert participant_client.get(f"/v1/moralgraph/contexts/{context}/graph").json()["winner"]["id"] == winner
