"""The persona-fit harness: prompts, bootstrap, generators (callable and a real HTTP endpoint), CLI."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from valueprint.errors import (
    EndpointError,
    EndpointResponseError,
    EndpointStatusError,
    EndpointUnreachableError,
    FitError,
    ValueprintError,
)
from valueprint.evaluate.endpoint import ChatEndpoint, api_key_from_env, chat_completions_url
from valueprint.evaluate.fit import (
    FitConfig,
    FitResult,
    Prompt,
    bootstrap_ci,
    load_prompts,
    plot_fit,
    run_fit,
    select_personas,
)
from valueprint.settings import load_settings
from valueprint.values.personas import load_personas
from valueprint.values.precis import precis
from valueprint.values.space import load_space

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- prompts and personas -----------------------------------------------------------------


def test_prompts_are_a_seeded_half_and_half_sample(shared_data: Path) -> None:
    prompts = load_prompts(shared_data, 9, seed=3)
    assert [p.source for p in prompts].count("daily_dilemmas") == 5
    assert [p.source for p in prompts].count("moral_stories") == 4
    assert prompts == load_prompts(shared_data, 9, seed=3)
    assert prompts != load_prompts(shared_data, 9, seed=4)
    assert len({p.id for p in prompts}) == 9


def test_moral_story_prompt_has_the_norm_and_both_actions(shared_data: Path) -> None:
    story = next(p for p in load_prompts(shared_data, 40) if p.source == "moral_stories")
    rows = [json.loads(line) for line in (shared_data / "moral_stories" / "norm_distance_test.jsonl").open()]
    pair = [r for r in rows if r["ID"][:-1] == story.id]
    assert len(pair) == 2
    assert pair[0]["norm"] in story.text
    for row in pair:
        assert (row.get("moral_action") or row["immoral_action"]) in story.text
    assert "A) " in story.text and "B) " in story.text


def test_too_many_prompts_names_the_limit(shared_data: Path) -> None:
    with pytest.raises(FitError, match="between 1 and 2360"):
        load_prompts(shared_data, 10_000)


def test_persona_selection() -> None:
    personas = load_personas()
    assert select_personas("all") == personas
    chosen = select_personas(f"{personas[2].id}, {personas[0].id}")
    assert [p.id for p in chosen] == [personas[2].id, personas[0].id]
    with pytest.raises(FitError, match=r"unknown persona ids.*nobody"):
        select_personas("nobody")


def test_unknown_condition_is_refused() -> None:
    with pytest.raises(FitError, match="precis, none"):
        FitConfig(condition="sometimes")


# -- bootstrap ----------------------------------------------------------------------------


def test_bootstrap_matches_a_plain_loop_and_is_seeded() -> None:
    samples = np.random.default_rng(1).uniform(0, 1, size=(3, 25))
    stats = bootstrap_ci(samples, resamples=400, seed=7)
    rng = np.random.default_rng(7)
    picks = rng.integers(0, 25, size=(400, 25))
    for row, (mean, low, high) in zip(samples, stats, strict=True):
        means = np.array([row[p].mean() for p in picks])
        assert mean == pytest.approx(row.mean())
        assert (low, high) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
        assert low <= mean <= high
    assert np.array_equal(stats, bootstrap_ci(samples, resamples=400, seed=7))


def test_bootstrap_of_a_constant_has_no_width() -> None:
    assert np.allclose(bootstrap_ci(np.full((1, 10), 0.3)), [[0.3, 0.3, 0.3]])


# -- the harness with a Python callable ---------------------------------------------------


class VectorScorer:
    """A stand-in evaluator: each reply is the JSON of its own value vector."""

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([json.loads(t) for t in texts])


def test_a_generator_that_embodies_each_persona_fits_perfectly(shared_data: Path) -> None:
    space = load_space()
    personas = load_personas()[:3]
    vectors = {precis(p.as_profile(space, 0.1), space): p.array(space).tolist() for p in personas}
    calls: list[str | None] = []

    def generator(system: str | None, user: str) -> str:
        calls.append(system)
        return json.dumps(vectors[system] if system else [0.0] * space.size)

    prompts = load_prompts(shared_data, 6)
    progress: list[tuple[int, int]] = []
    config = FitConfig(prompts=6)
    result = run_fit(generator, VectorScorer(), config, personas, on_progress=lambda *a: progress.append(a))
    assert {f.persona: f.mean for f in result.personas} == pytest.approx({p.id: 0.0 for p in personas})
    assert result.overall.mean == pytest.approx(0.0)
    assert sorted(calls, key=str) == sorted([s for s in vectors for _ in prompts], key=str)
    assert progress[-1] == (19, 19) and len(progress) == 19

    calls.clear()
    neutral = run_fit(generator, VectorScorer(), FitConfig(prompts=6, condition="none"), personas)
    assert calls == [None] * 6  # the unconditioned model answers each prompt once
    assert all(f.mean > 0.2 and f.ci_low == pytest.approx(f.ci_high) == pytest.approx(f.mean) for f in neutral.personas)


def test_a_generator_returning_no_text_is_refused() -> None:
    prompts = [Prompt("daily_dilemmas", "1", "Should you?")]
    with pytest.raises(FitError, match="return the reply text"):
        run_fit(lambda s, u: 42, VectorScorer(), FitConfig(), load_personas()[:1], prompts)  # type: ignore[arg-type,return-value]


# -- an OpenAI-compatible server on 127.0.0.1 ---------------------------------------------


class ChatHandler(BaseHTTPRequestHandler):
    """Speaks POST /v1/chat/completions; the reply depends on the system prompt."""

    seen: ClassVar[list[dict[str, Any]]] = []
    mode: ClassVar[str] = "ok"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.mode == "status" or self.path != "/v1/chat/completions":
            return self._send(401 if self.mode == "status" else 404, b'{"error": "nope"}')
        if self.mode == "garbage":
            return self._send(200, b"<html>not json</html>")
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), None)
        reply = reply_for(system, body["messages"][-1]["content"])
        answer = {"id": "x", "object": "chat.completion", "model": body["model"]}
        answer["choices"] = [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]
        self._send(200, json.dumps(answer).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def reply_for(system: str | None, user: str) -> str:
    if system is None:
        return "It depends; weigh both options calmly and choose what seems reasonable."
    return f"Speaking as someone who says: {system[:160]} My answer: do what honours those values."


@pytest.fixture
def chat_server() -> Iterator[str]:
    ChatHandler.seen, ChatHandler.mode = [], "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://h:1", "http://h:1/v1/chat/completions"),
        ("http://h:1/", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1", "http://h:1/v1/chat/completions"),
        ("https://h/api/openai/v1/", "https://h/api/openai/v1/chat/completions"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
    ],
)
def test_chat_completions_url(base: str, expected: str) -> None:
    assert chat_completions_url(base) == expected


@pytest.mark.parametrize("base", ["ftp://h/v1", "not a url", "localhost:8080"])
def test_a_non_http_endpoint_is_refused(base: str) -> None:
    with pytest.raises(EndpointError, match="http"):
        chat_completions_url(base)


def test_endpoint_speaks_chat_completions(chat_server: str) -> None:
    for base in (chat_server, chat_server + "/v1"):
        with ChatEndpoint(base, "tiny-model", api_key="sk-test") as endpoint:
            assert endpoint("Be blunt.", "Hi?") == reply_for("Be blunt.", "Hi?")
            assert endpoint(None, "Hi?") == reply_for(None, "Hi?")
    first, second = ChatHandler.seen[:2]
    assert first["auth"] == "Bearer sk-test"
    assert first["body"]["model"] == "tiny-model"
    assert first["body"]["messages"] == [
        {"role": "system", "content": "Be blunt."},
        {"role": "user", "content": "Hi?"},
    ]
    assert second["body"]["messages"] == [{"role": "user", "content": "Hi?"}]


def test_endpoint_errors_name_the_url_and_the_fix(chat_server: str) -> None:
    url = chat_server + "/v1/chat/completions"
    ChatHandler.mode = "status"
    with ChatEndpoint(chat_server, "m", retries=0) as endpoint, pytest.raises(EndpointStatusError) as status:
        endpoint(None, "hi")
    assert url in str(status.value) and "401" in str(status.value) and "API key" in str(status.value)
    ChatHandler.mode = "garbage"
    with ChatEndpoint(chat_server, "m") as endpoint, pytest.raises(EndpointResponseError) as garbage:
        endpoint(None, "hi")
    assert url in str(garbage.value) and "OpenAI-compatible" in str(garbage.value)
    with ChatEndpoint(chat_server + "/wrong", "m") as endpoint, pytest.raises(EndpointStatusError, match="404"):
        endpoint(None, "hi")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_gives_a_clear_error() -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"
    with ChatEndpoint(base, "m") as endpoint, pytest.raises(EndpointUnreachableError) as error:
        endpoint(None, "hi")
    message = str(error.value)
    assert f"{base}/chat/completions" in message and "start the server" in message
    assert isinstance(error.value, ValueprintError)


def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert api_key_from_env(None) is None
    monkeypatch.setenv("FIT_TEST_KEY", "sk-1")
    assert api_key_from_env("FIT_TEST_KEY") == "sk-1"
    with pytest.raises(EndpointError, match="FIT_TEST_MISSING is not set"):
        api_key_from_env("FIT_TEST_MISSING")


# -- end to end with the tiny real evaluator ----------------------------------------------


@pytest.fixture(scope="module")
def tiny_evaluator(tiny_evaluator_dir: Path):
    from valueprint.evaluate.evaluator import ValueEvaluator

    return ValueEvaluator(tiny_evaluator_dir)


def check_result(result: FitResult, personas: int, prompts: int) -> None:
    assert len(result.personas) == personas and result.distances.shape == (personas, prompts)
    for estimate in (*result.personas, result.overall):
        assert estimate.n == prompts
        assert 0.0 <= estimate.ci_low <= estimate.mean <= estimate.ci_high <= 1.0


@pytest.mark.slow
def test_harness_with_a_callable_and_the_real_evaluator(tiny_evaluator, tmp_path: Path) -> None:
    personas = load_personas()[:3]
    result = run_fit(reply_for, tiny_evaluator, FitConfig(prompts=4, resamples=200), personas)
    check_result(result, 3, 4)
    figures = result.figures("callable")
    assert set(figures["personas"]) == {p.id for p in personas}
    assert figures["prompt_sources"] == {"daily_dilemmas": 2, "moral_stories": 2}
    json.dumps(figures)
    assert plot_fit(result, tmp_path / "fit.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow
def test_harness_against_the_http_endpoint(tiny_evaluator, chat_server: str) -> None:
    personas = load_personas()[:2]
    with ChatEndpoint(chat_server + "/v1", "tiny-model") as endpoint:
        result = run_fit(endpoint, tiny_evaluator, FitConfig(prompts=4, concurrency=3), personas)
    check_result(result, 2, 4)
    systems = {next(m["content"] for m in s["body"]["messages"] if m["role"] == "system") for s in ChatHandler.seen}
    assert len(ChatHandler.seen) == 8 and len(systems) == 2


@pytest.mark.slow
def test_cli_bench_fit(tiny_evaluator_dir: Path, chat_server: str, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from valueprint.cli import app

    monkeypatch.setenv("VALUEPRINT_EVALUATOR_DIR", str(tiny_evaluator_dir))
    load_settings.cache_clear()
    ids = ",".join(p.id for p in load_personas()[:2])
    args = ["bench", "fit", "--endpoint", chat_server + "/v1", "--model", "tiny", "--prompts", "4"]
    result = CliRunner().invoke(app, [*args, "--personas", ids, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "fit.json").read_text())
    assert written["model"] == "tiny" and written["condition"] == "precis" and len(written["personas"]) == 2
    result = CliRunner().invoke(app, [*args, "--personas", ids, "--condition", "none", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "fit_none.json").read_text())["condition"] == "none"
    assert json.loads((tmp_path / "fit.json").read_text()) == written
    assert (tmp_path / "fit.png").is_file() and (tmp_path / "fit_none.png").is_file()
    assert (tmp_path / "fit.png").read_bytes().startswith(PNG_MAGIC)

    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    failed = CliRunner().invoke(app, ["bench", "fit", "--endpoint", unreachable, "--model", "m", "--prompts", "2"])
    assert failed.exit_code == 1
    assert "cannot reach the model endpoint" in failed.output and unreachable in failed.output
