"""Personal adapters: DPO training (resumable), serving through the token with an LRU cache, jobs, deletion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.test_api import answer_until_done
from valueprint.cli import app as cli
from valueprint.errors import AdapterError, ConflictError
from valueprint.jobs import SERVER_FAILURE as ANY_JOB_FAILURE
from valueprint.jobs import public_error
from valueprint.personalize.adapters import AdapterCache
from valueprint.personalize.finetune import FinetuneConfig, read_meta, train_adapter
from valueprint.personalize.jobs import SERVER_FAILURE, Jobs, TrainingRequest
from valueprint.personalize.preferences import Pair, PreferenceData
from valueprint.personalize.runtime import LocalModel, Sampling
from valueprint.settings import Settings, load_settings
from valueprint.web.app import create_app

QUESTION = [{"role": "user", "content": "My friend asked me to lie for him. What should I do?"}]
PAIRS = [
    Pair("t", "Should I help my neighbour move?", "Yes, helping matters.", "No, not my problem.", 0.3),
    Pair("t", "Should I keep a promise?", "Yes, a promise binds.", "Only if it suits me.", 0.2),
]


def test_the_adapter_is_a_standard_peft_folder_with_its_provenance(tiny_adapter: Path) -> None:
    assert (tiny_adapter / "adapter_config.json").is_file() and (tiny_adapter / "adapter_model.safetensors").is_file()
    meta = read_meta(tiny_adapter)
    for field in ("profile_sha256", "space_version", "data_sha256", "base_model", "libraries", "train_seconds"):
        assert meta[field]
    assert set(meta["libraries"]) == {"torch", "transformers", "peft", "trl"}
    assert meta["config"]["seed"] == 17 and meta["pairs"] == 2 * 4  # one pass: steps x batch, strongest first
    train = [json.loads(line) for line in (tiny_adapter / "preferences" / "train.jsonl").read_text().splitlines()]
    assert len(train) == meta["pairs"] and {"prompt", "chosen", "rejected"} <= set(train[0])
    assert train[0]["source"] == "model_replies"  # the model's own replies come before the data sets' pairs
    assert not (tiny_adapter.parent / f"{tiny_adapter.name}.checkpoints").exists()


def test_an_interrupted_training_resumes_from_its_checkpoint(tmp_path: Path, smollm2_dir: Path) -> None:
    out, data = tmp_path / "adapter", PreferenceData(PAIRS * 2, [])
    config = FinetuneConfig(steps=2, batch_size=2, save_steps=1, max_length=64)

    def stop_in_second_step(step: int, _total: int) -> None:
        if step == 2:
            raise KeyboardInterrupt  # a killed worker: step 1 was checkpointed, step 2 was not

    with pytest.raises(KeyboardInterrupt):
        train_adapter(smollm2_dir, data, out, {}, config, on_progress=stop_in_second_step)
    assert any((tmp_path / "adapter.checkpoints").glob("checkpoint-1")) and not out.exists()
    meta = train_adapter(smollm2_dir, data, out, {}, config)
    assert meta["resumed"] is True and (out / "adapter_config.json").is_file()


def test_no_pairs_means_no_training(tmp_path: Path, smollm2_dir: Path) -> None:
    with pytest.raises(AdapterError, match="no preference pairs"):
        train_adapter(smollm2_dir, PreferenceData([], []), tmp_path / "a", {})


def test_swapping_adapters_changes_the_answer_and_leaves_plain_requests_plain(smollm2_dir, tiny_adapter) -> None:
    model = LocalModel(smollm2_dir, "smollm2-135m-instruct")
    greedy = Sampling(max_new_tokens=16)
    plain = model.generate(QUESTION, greedy)[0].text
    cache = AdapterCache(model, capacity=1)
    second = tiny_adapter.parent / "copy"
    shutil.copytree(tiny_adapter, second)
    model.generate(QUESTION, greedy, hook=cache.activate(tiny_adapter))
    assert list(cache.loaded.values()) == [str(tiny_adapter)]
    model.generate(QUESTION, greedy, hook=cache.activate(second))
    assert list(cache.loaded.values()) == [str(second)]  # the least recently used was evicted
    assert model.generate(QUESTION, greedy)[0].text == plain


# -- jobs ----------------------------------------------------------------------------------


def tiny_request(tmp_path: Path, smollm2_dir: Path, shared_data: Path, space, job_id: str = "p1") -> TrainingRequest:
    from valueprint.values.personas import load_personas

    persona = load_personas()[1]
    return TrainingRequest(
        job_id=job_id,
        subject="person",
        subject_id=job_id,
        profile_json=persona.as_profile(space, 0.1).to_json(),
        out=str(tmp_path / "adapters" / "people" / job_id),
        data_dir=str(tmp_path),
        datasets_dir=str(shared_data),
        model_dir=str(smollm2_dir),
        steps=1,
        reply_prompts=4,
        own=[("A scenario?", "my pick", "the other option")],
    )


def test_an_in_process_job_reports_its_state_until_done(tmp_path, smollm2_dir, shared_data, space, jobs_db) -> None:
    jobs = Jobs(jobs_db)
    request = tiny_request(tmp_path, smollm2_dir, shared_data, space)
    queued = jobs.submit(request)
    assert queued["state"] == "queued" and queued["engine"] == "in-process"
    with pytest.raises(ConflictError):
        jobs.submit(request)
    done = jobs.wait("p1", timeout=600)
    assert done["state"] == "done" and done["step"] == done["total"] == 1
    assert read_meta(Path(request.out))["own_answer_pairs"] == 1


def test_the_same_job_runs_on_a_local_dask_cluster(tmp_path, smollm2_dir, shared_data, space, jobs_db) -> None:
    import distributed

    cluster_options = {"n_workers": 1, "threads_per_worker": 1, "processes": False, "dashboard_address": None}
    with distributed.LocalCluster(**cluster_options) as cluster:
        jobs = Jobs(jobs_db, scheduler=cluster.scheduler_address)
        request = tiny_request(tmp_path, smollm2_dir, shared_data, space, job_id="p2")
        assert jobs.submit(request)["engine"] == "dask"
        done = jobs.wait("p2", timeout=600)
        jobs.close()
    assert done["state"] == "done", done
    assert (Path(request.out) / "adapter_config.json").is_file()


def test_a_failing_job_says_it_failed_without_naming_the_servers_folders(
    tmp_path, smollm2_dir, shared_data, space, caplog, jobs_db
) -> None:
    jobs = Jobs(jobs_db)
    request = tiny_request(tmp_path, smollm2_dir, shared_data, space)
    broken = TrainingRequest(**{**request.__dict__, "model_dir": str(tmp_path / "no-model")})
    jobs.submit(broken)
    failed = jobs.wait("p1", timeout=120)
    assert failed["state"] == "failed" and failed["error"] == SERVER_FAILURE
    assert str(tmp_path) not in json.dumps(failed)
    assert "no-model" in caplog.text, "the server's log keeps the cause"


def test_a_job_error_the_person_can_act_on_is_shown_in_its_own_words() -> None:
    assert public_error(AdapterError("answer a few more questions first")) == "answer a few more questions first"
    assert public_error(OSError(2, "No such file", "/srv/valueprint/data/adapters/p_x")) == ANY_JOB_FAILURE


# -- serving through the token -----------------------------------------------------------------


@pytest.fixture
def served(tmp_path, smollm2_dir):
    settings = Settings(
        data_dir=tmp_path / "web",
        environment="test",
        model_dir=smollm2_dir,
        chat_max_tokens=8,
        adapter_steps=1,
        adapter_reply_prompts=4,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


def person_with_token(app, scopes: list[str]) -> tuple[TestClient, str, str, str]:
    registered = app.state.services.registry.register_app("Adapter app", ["schwartz", "moral", "politics", "behaviour"])
    own = TestClient(app)
    started = own.post("/v1/participants", json={"consent": True}).json()
    own.headers["X-CSRF-Token"] = started["csrf_token"]
    answer_until_done(own, limit=10)
    handle = own.post("/v1/me/token").json()["handle"]
    own.put(f"/v1/me/consents/{registered.id}", json={"scopes": scopes})
    return own, registered.api_key, handle, started["participant_id"]


def chat(client, key: str, handle: str, strategies: str):
    body = {"messages": QUESTION, "value_token": handle, "strategies": strategies, "max_tokens": 8}
    return client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


def test_the_token_resolves_to_the_persons_adapter_and_deleting_them_deletes_it(served, tiny_adapter) -> None:
    app, client = served
    own, key, handle, participant_id = person_with_token(app, ["schwartz", "moral", "politics", "behaviour"])
    missing = chat(client, key, handle, "adapter")
    assert missing.status_code == 400 and "no personal adapter yet" in missing.json()["error"]["message"]
    folder = app.state.services.personalizer.adapters.person(participant_id)
    shutil.copytree(tiny_adapter, folder)
    assert own.get("/v1/me/adapter").json()["adapter"]["subject"] == "persona"
    answered = chat(client, key, handle, "adapter+precis")
    assert answered.status_code == 200, answered.text
    assert answered.json()["valueprint"]["notes"]["adapter"] == participant_id
    assert own.delete("/v1/me").status_code == 204
    assert not folder.exists()


def test_an_app_that_may_not_read_the_whole_profile_gets_no_adapter(served, tiny_adapter) -> None:
    app, client = served
    _, key, handle, participant_id = person_with_token(app, ["schwartz"])
    shutil.copytree(tiny_adapter, app.state.services.personalizer.adapters.person(participant_id))
    refused = chat(client, key, handle, "adapter")
    assert refused.status_code == 400 and "may not read all of it" in refused.json()["error"]["message"]


def test_training_is_started_through_the_api_and_reports_status(served) -> None:
    app, _ = served
    own, _, _, participant_id = person_with_token(app, ["schwartz"])
    started = own.post("/v1/me/adapter")
    assert started.status_code == 202 and started.json()["job"]["state"] == "queued"
    assert own.post("/v1/me/adapter").status_code == 409
    app.state.services.personalizer.jobs.wait(participant_id, timeout=600)
    status = own.get("/v1/me/adapter").json()
    assert status["job"]["state"] == "done" and status["adapter"]["subject"] == "person"
    assert own.delete("/v1/me/adapter").status_code == 204
    assert own.get("/v1/me/adapter").json() == {"adapter": None, "job": None}


# -- the benchmark -------------------------------------------------------------------------


def test_the_finetune_benchmark_writes_every_figure_the_issue_asks_for(
    tmp_path, smollm2_dir, tiny_adapter, monkeypatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_adapter, data / "adapters" / "personas" / tiny_adapter.name)
    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(data))
    monkeypatch.setenv("VALUEPRINT_MODEL_DIR", str(smollm2_dir))
    monkeypatch.setenv("VALUEPRINT_ADAPTER_REPLY_PROMPTS", "4")
    load_settings.cache_clear()  # the autouse fixture built them before these variables
    out = tmp_path / "results"
    options = ["--personas", "1", "--prompts", "2", "--max-tokens", "6", "--pairs-per-source", "2", "--reuse"]
    result = CliRunner().invoke(cli, ["bench", "finetune", *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "finetune.json").read_text())
    assert figures["personas"] == [tiny_adapter.name] and figures["prompts"] == 2
    assert 1 <= figures["reply_prompts"] <= 4 and figures["reply_sampling_seconds"] > 0
    meta = read_meta(tiny_adapter)
    assert figures["train_seconds"] == round(meta["preparation_seconds"] + meta["train_seconds"], 1)  # --reuse
    assert 3.0 < figures["adapter_mb"] < 10.0 and 0 < figures["swap_ms"] < figures["swap_ms_cold"]
    for condition in ("base", "precis", "adapter", "adapter_precis"):
        assert 0.0 <= figures[f"distance_{condition}"] <= 1.0
    low, high = figures["reduction_adapter_ci95"]
    assert low <= figures["reduction_adapter"] <= high
    accuracy = figures["preference_accuracy"][tiny_adapter.name]
    assert {"train", "moral_stories", "ethics_deontology", "heldout"} <= set(accuracy)
    assert all(0.0 <= a <= 1.0 for a in accuracy.values())
    assert 0.0 <= figures["adapter_distance_own"] <= 1.0 and figures["adapter_distance_others"] is None
    assert figures["perplexity_base"] > 1 and abs(figures["perplexity_change"]) < 1.0
    assert (out / "finetune.png").stat().st_size > 10_000


def test_specificity_compares_each_personas_own_adapter_with_the_others(space) -> None:
    from valueprint.bench.finetune import adapter_specificity
    from valueprint.values.profile import ValueProfile

    def profile(benevolence: float) -> ValueProfile:
        mean = np.zeros(space.size)
        mean[space.index("benevolence")] = benevolence
        return ValueProfile.from_arrays(space, mean, np.full(space.size, 0.1))

    kind, hard = profile(0.8), profile(-0.8)
    replies = [np.tile(p.means(space), (3, 1)) for p in (kind, hard)]  # each adapter speaks exactly as its persona
    figures = adapter_specificity([kind, hard], replies)
    assert figures["adapter_distance_own"] < figures["adapter_distance_others"]
    assert len(figures["adapter_cross_distance"]) == 2


def test_training_without_the_labelled_data_sets_is_refused_at_once_in_plain_words(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "web", environment="test", datasets_dir=tmp_path / "no-data-here")
    with TestClient(create_app(settings)) as client:
        started = client.post("/v1/participants", json={"consent": True}).json()
        client.headers["X-CSRF-Token"] = started["csrf_token"]
        answer_until_done(client, limit=10)
        refused = client.post("/v1/me/adapter")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "adapter_unavailable"
    message = refused.json()["error"]["message"]
    assert "data sets" in message and "VALUEPRINT_DATASETS_DIR" in message and str(tmp_path) not in message
