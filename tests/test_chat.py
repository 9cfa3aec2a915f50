"""`POST /v1/chat/completions`: the official openai client works against it, and a value token shapes the answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import live_server
from tests.test_api import answer_until_done
from valueprint.settings import Settings
from valueprint.web.app import create_app

QUESTION = [{"role": "user", "content": "Should I tell my friend a hard truth about her business plan?"}]


@pytest.fixture
def chat_app(tmp_path, smollm2_dir):
    app = create_app(Settings(data_dir=tmp_path / "web", environment="test", model_dir=smollm2_dir))
    with TestClient(app) as client:
        yield app, client


@pytest.fixture
def person(chat_app):
    """A participant who finished the questionnaire, a token, and an app allowed the schwartz scope only."""
    app, _ = chat_app
    registered = app.state.services.registry.register_app("Chat app", ["schwartz", "moral", "behaviour"])
    with TestClient(app) as own:
        started = own.post("/v1/participants", json={"consent": True}).json()
        own.headers["X-CSRF-Token"] = started["csrf_token"]
        answer_until_done(own)
        issued = own.post("/v1/me/token").json()
        own.put(f"/v1/me/consents/{registered.id}", json={"scopes": ["schwartz"]})
    return registered.api_key, issued


def openai_client(client: TestClient, api_key: str):
    from openai import OpenAI

    return OpenAI(base_url="http://testserver/v1", api_key=api_key, http_client=client, max_retries=0)


def test_the_openai_client_gets_a_plain_answer_without_a_token(chat_app, person) -> None:
    _, client = chat_app
    api_key, _ = person
    reply = openai_client(client, api_key).chat.completions.create(model="local", messages=QUESTION, max_tokens=24)
    assert reply.choices[0].message.content.strip()
    assert reply.usage.completion_tokens > 0 and reply.model == "smollm2-135m-instruct"


def test_a_reply_cut_by_the_budget_says_length_and_ends_at_a_sentence(chat_app, person) -> None:
    _, client = chat_app
    api_key, _ = person
    openai = openai_client(client, api_key)
    cut = openai.chat.completions.create(model="smollm2-135m-instruct", messages=QUESTION, max_tokens=40)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 40
    text = cut.choices[0].message.content
    assert text.rstrip().endswith((".", "!", "?", "…", '"', ")")) or "." not in text
    whole = openai.chat.completions.create(
        messages=[{"role": "user", "content": "Say only the word yes."}], model="smollm2-135m-instruct"
    )
    assert whole.choices[0].finish_reason == "stop" and whole.usage.completion_tokens < 256


def test_the_final_streaming_chunk_carries_the_real_finish_reason(chat_app, person) -> None:
    _, client = chat_app
    api_key, _ = person
    stream = openai_client(client, api_key).chat.completions.create(
        model="local", messages=QUESTION, max_tokens=24, stream=True
    )
    reasons = [chunk.choices[0].finish_reason for chunk in stream]
    assert reasons[-1] == "length" and set(reasons[:-1]) == {None}


def test_the_models_list_names_the_served_model(chat_app, person) -> None:
    _, client = chat_app
    api_key, _ = person
    listed = openai_client(client, api_key).models.list()
    assert [m.id for m in listed.data] == ["smollm2-135m-instruct"]
    assert listed.data[0].owned_by == "valueprint" and listed.data[0].object == "model"
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"Authorization": "Bearer vpk_wrong"}).status_code == 401


def test_a_model_that_is_not_served_gets_openais_404(chat_app, person) -> None:
    import openai

    _, client = chat_app
    api_key, _ = person
    with pytest.raises(openai.NotFoundError) as refused:
        openai_client(client, api_key).chat.completions.create(model="gpt-4o", messages=QUESTION, max_tokens=8)
    assert refused.value.status_code == 404
    error = refused.value.response.json()["error"]
    assert error["code"] == "model_not_found" and "smollm2-135m-instruct" in error["message"]
    response = client.post(
        "/v1/chat/completions",
        json={"model": None, "messages": QUESTION, "max_tokens": 8},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200 and response.json()["model"] == "smollm2-135m-instruct"


def test_a_token_in_the_header_adds_the_consented_precis(chat_app, person) -> None:
    _, client = chat_app
    api_key, issued = person
    response = client.post(
        "/v1/chat/completions",
        json={"messages": QUESTION, "max_tokens": 16},
        headers={"Authorization": f"Bearer {api_key}", "X-Value-Token": issued["token"]},
    )
    assert response.status_code == 200, response.text
    extra = response.json()["valueprint"]
    assert extra["strategies"] == ["precis", "frame"] and extra["scopes"] == ["schwartz"]
    assert "precis" in extra["notes"] and "frame" in extra["notes"]


def test_frame_opens_the_reply_with_what_the_person_values_and_says_so(chat_app, person) -> None:
    _, client = chat_app
    api_key, issued = person
    response = client.post(
        "/v1/chat/completions",
        json={"messages": QUESTION, "max_tokens": 24, "value_token": issued["token"], "strategies": "precis+frame"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    opening = body["valueprint"]["notes"]["frame"]  # None when no consented value of theirs bears on the question
    assert opening is None or body["choices"][0]["message"]["content"].startswith(opening)


def test_streaming_through_the_openai_client_with_a_handle(chat_app, person) -> None:
    _, client = chat_app
    api_key, issued = person
    stream = openai_client(client, api_key).chat.completions.create(
        model="local",
        messages=QUESTION,
        max_tokens=16,
        stream=True,
        extra_body={"value_token": issued["handle"], "strategies": "precis"},
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream]
    assert len(pieces) > 3 and "".join(pieces).strip()


def test_rerank_returns_the_candidate_the_judge_ranks_first_and_says_why(chat_app, person) -> None:
    _, client = chat_app
    api_key, issued = person
    response = client.post(
        "/v1/chat/completions",
        json={
            "messages": QUESTION,
            "max_tokens": 16,
            "value_token": issued["token"],
            "strategies": "precis+rerank",
            "rerank_n": 3,
            "seed": 1,
        },
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200, response.text
    notes = response.json()["valueprint"]["notes"]
    assert len(notes["rerank_scores"]) == 3
    assert isinstance(notes["rerank_because"], list)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"token": "eyJhbGciOiJub25lIn0.e30."}, 401, "token_"),
        ({"strategies": "telepathy"}, 400, "bad_request"),
        ({"key": "vpk_wrong"}, 401, "unauthenticated"),
        ({"messages": []}, 422, "invalid_request"),
        ({"max_tokens": 100000}, 422, "invalid_request"),
        ({"max_tokens": 1025}, 422, "invalid_request"),
    ],
)
def test_bad_requests_get_a_clear_error(chat_app, person, change, status, code) -> None:
    _, client = chat_app
    api_key, issued = person
    body = {
        "messages": change.get("messages", QUESTION),
        "max_tokens": change.get("max_tokens", 8),
        "value_token": change.get("token", issued["token"]),
        "strategies": change.get("strategies", "precis"),
    }
    response = client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {change.get('key', api_key)}"}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"].startswith(code)


def test_an_app_without_consent_cannot_personalise(chat_app, person) -> None:
    app, client = chat_app
    _, issued = person
    stranger = app.state.services.registry.register_app("Stranger", ["schwartz"])
    response = client.post(
        "/v1/chat/completions",
        json={"messages": QUESTION, "max_tokens": 8, "value_token": issued["handle"]},
        headers={"Authorization": f"Bearer {stranger.api_key}"},
    )
    assert response.status_code == 404  # as for a handle nobody has: the app learns nothing


def test_an_upstream_answers_when_configured_and_this_server_loads_no_model(chat_app, person, tmp_path) -> None:
    """VALUEPRINT_UPSTREAM_URL: any OpenAI-compatible server answers (here another valueprint, serving its local
    model); the précis and rerank still personalise, steering needs the local model and says so."""
    upstream_app, _ = chat_app
    upstream_key = upstream_app.state.services.registry.register_app("Front server", ["schwartz"]).api_key
    with live_server(upstream_app) as upstream_url:
        settings = Settings(
            data_dir=tmp_path / "front",
            environment="test",
            upstream_url=f"{upstream_url}/v1",
            upstream_model="smollm2-135m-instruct",
            upstream_api_key=upstream_key,
        )
        front = create_app(settings)
        with TestClient(front) as client:
            front_app = front.state.services.registry.register_app("Chat app", ["schwartz"])
            with TestClient(front) as own:
                started = own.post("/v1/participants", json={"consent": True}).json()
                own.headers["X-CSRF-Token"] = started["csrf_token"]
                answer_until_done(own)
                handle = own.post("/v1/me/token").json()["handle"]
                own.put(f"/v1/me/consents/{front_app.id}", json={"scopes": ["schwartz"]})
            headers = {"Authorization": f"Bearer {front_app.api_key}"}
            body = {"messages": QUESTION, "max_tokens": 24, "value_token": handle, "strategies": ["precis", "rerank"]}
            body["rerank_n"] = 2
            reply = client.post("/v1/chat/completions", json=body, headers=headers)
            assert reply.status_code == 200, reply.text
            assert reply.json()["choices"][0]["message"]["content"].strip()
            assert reply.json()["model"] == "smollm2-135m-instruct"
            steered = client.post("/v1/chat/completions", json={**body, "strategies": ["steer"]}, headers=headers)
            assert steered.status_code == 400 and "local model" in steered.json()["error"]["message"]
            default = {k: v for k, v in body.items() if k != "strategies"}
            defaulted = client.post("/v1/chat/completions", json=default, headers=headers)
            assert defaulted.status_code == 200 and defaulted.json()["valueprint"]["strategies"] == ["precis"]
            assert client.get("/v1/models", headers=headers).json()["data"][0]["id"] == "smollm2-135m-instruct"
            assert front.state.services.personalizer.engine().model is None  # no language model in this worker
