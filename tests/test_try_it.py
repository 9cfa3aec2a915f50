""" "Try it" on the result page: the plain and the personalised model side by side, on the real local model."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_up
from tests.test_api import answer_until_done
from valueprint.settings import Settings
from valueprint.web.app import create_app

HTMX = {"HX-Request": "true"}


@pytest.fixture
def person(tmp_path, smollm2_dir):
    settings = Settings(
        data_dir=tmp_path / "web",
        environment="test",
        model_dir=smollm2_dir,
        chat_max_tokens=16,
        adapter_steps=1,
        adapter_reply_prompts=4,
    )
    with TestClient(create_app(settings)) as client:
        sign_up(client)
        answer_until_done(client, limit=12)
        yield client


def ask(client, prompt: str, htmx: bool = True):
    csrf = client.headers["X-CSRF-Token"]
    headers = HTMX if htmx else {}
    return client.post("/result/try", data={"prompt": prompt, "csrf_token": csrf}, headers=headers)


def test_a_prompt_is_answered_plainly_and_with_my_values_side_by_side(person) -> None:
    response = ask(person, "My neighbour asked me to lie to the police for him. What should I do?")
    assert response.status_code == 200
    html = response.text
    assert 'id="try-base"' in html and 'id="try-personal"' in html
    assert "Which of your values shaped this" in html and 'id="try-shaped-by"' in html
    assert "precis + frame" in html
    assert "<html" not in html  # an HTMX partial, not a whole page


def test_without_htmx_the_whole_result_page_comes_back_with_the_answers(person) -> None:
    response = ask(person, "Is it fine to skip a family dinner for work?", htmx=False)
    assert response.status_code == 200
    assert "<html" in response.text and 'id="try-personal"' in response.text and 'id="profile-chart"' in response.text


@pytest.mark.parametrize(("prompt", "message"), [("   ", "Type a question"), ("x" * 1001, "under 1000 characters")])
def test_an_empty_or_oversized_prompt_is_refused_with_a_clear_message(person, prompt, message) -> None:
    response = ask(person, prompt)
    assert response.status_code == 422
    assert message in response.text and 'id="try-personal"' not in response.text


def test_hostile_text_comes_back_as_text(person) -> None:
    response = ask(person, "<script>alert(1)</script> should I?")
    assert "<script>alert(1)</script>" not in response.text


def test_trying_needs_a_signed_in_person_and_the_csrf_token(tmp_path, smollm2_dir) -> None:
    settings = Settings(data_dir=tmp_path / "web", environment="test", model_dir=smollm2_dir)
    with TestClient(create_app(settings)) as client:
        assert client.post("/result/try", data={"prompt": "hi"}, headers=HTMX).status_code in (401, 403)
        sign_up(client)
        del client.headers["X-CSRF-Token"]
        assert client.post("/result/try", data={"prompt": "hi"}, headers=HTMX).status_code == 403


def test_the_personal_model_is_trained_from_the_result_page_with_live_status(person) -> None:
    services = person.app.state.services
    page = person.get("/result").text
    assert 'id="train-adapter"' in page and "Train my personal model" in page
    csrf = person.headers["X-CSRF-Token"]
    started = person.post("/result/adapter", data={"csrf_token": csrf}, headers=HTMX)
    assert started.status_code == 200 and 'hx-trigger="every 3s"' in started.text  # polls while it trains
    again = person.post("/result/adapter", data={"csrf_token": csrf}, headers=HTMX)
    assert again.status_code == 422 and "already being trained" in again.text
    participant_id = person.get("/v1/me/export").json()["participant"]["id"]
    services.personalizer.jobs.wait(participant_id, timeout=600)
    ready = person.get("/result/adapter", headers=HTMX).text
    assert 'id="adapter-ready"' in ready and "every 3s" not in ready and 'id="delete-adapter"' in ready
    deleted = person.post("/result/adapter/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert deleted.status_code == 303 and not services.personalizer.adapter_status(participant_id)["adapter"]


def test_the_personalised_reply_is_the_judges_pick_of_the_pages_candidates(person, monkeypatch) -> None:
    from valueprint.personalize import trial
    from valueprint.personalize.engine import Engine

    seen: list[int] = []
    original = Engine.complete

    def spy(self, messages, sampling, strategies, context):
        seen.append(context.rerank_n if strategies else 1)
        return original(self, messages, sampling, strategies, context)

    monkeypatch.setattr(Engine, "complete", spy)
    assert ask(person, "Should I tell my friend the truth about her cooking?").status_code == 200
    assert seen == [1, trial.CANDIDATES]


def test_bench_try_times_the_page_end_to_end(tmp_path, smollm2_dir, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from valueprint.cli import app
    from valueprint.settings import load_settings

    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VALUEPRINT_MODEL_DIR", str(smollm2_dir))
    load_settings.cache_clear()
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["bench", "try", "--trials", "2", "--max-tokens", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "try_it.json").read_text())
    assert figures["trials"] == 2 and figures["strategies"] == "precis+frame" and figures["max_tokens"] == 8
    assert 0 < figures["median_s"] <= figures["p90_s"] <= figures["max_s"] and figures["cold_s"] > 0
    assert figures["goal_met"] == (figures["median_s"] <= 10.0) and 0 <= figures["cut_share"] <= 1
