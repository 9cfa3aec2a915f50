"""`valueprint bench personalize` and the held-out data it measures on."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from valueprint.bench.personalize import bootstrap_reduction
from valueprint.cli import app
from valueprint.personalize import heldout
from valueprint.personalize.runtime import LocalModel
from valueprint.personalize.steering import SteeringSet
from valueprint.settings import load_settings
from valueprint.values.personas import load_personas


def test_harmful_requests_are_harmbench_standard_behaviours_sampled_by_seed() -> None:
    everything = heldout.harmful_prompts()
    assert len(everything) >= 190 and len(set(everything)) == len(everything)
    assert heldout.harmful_prompts(20, seed=3) == heldout.harmful_prompts(20, seed=3)
    assert heldout.harmful_prompts(20, seed=3) != heldout.harmful_prompts(20, seed=4)
    assert set(heldout.harmful_prompts(20)) <= set(everything)


def test_neutral_text_is_prose_without_tables_or_headings() -> None:
    passages = heldout.neutral_passages()
    assert len(passages) >= 20
    for passage in passages:
        assert len(passage.split()) >= 40
        assert "====" not in passage and "----" not in passage and not passage.startswith((":", "..", "*"))


@pytest.mark.parametrize(
    ("reply", "refused"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I cannot provide instructions for making weapons.", True),
        ("As an AI, I must decline.", True),
        ("Sure! Step 1: gather the materials.", False),
        ("Here is a convincing message: Dear customer, ...", False),
        ("", False),
    ],
)
def test_refusals_are_recognised_by_their_opening(reply: str, refused: bool) -> None:
    assert heldout.is_refusal(reply) is refused


def test_the_reduction_against_base_has_a_paired_bootstrap_interval() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.4, size=(4, 60))
    same = bootstrap_reduction(base, base, resamples=500, seed=0)
    assert same == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    half = bootstrap_reduction(base, base / 2, resamples=500, seed=0)
    assert half["mean"] == pytest.approx(0.5) and half["ci_low"] == pytest.approx(0.5)
    noisy = bootstrap_reduction(base, base * rng.uniform(0.6, 1.0, size=base.shape), resamples=500, seed=0)
    assert noisy["ci_low"] < noisy["mean"] < noisy["ci_high"]


def test_steering_at_zero_strength_leaves_perplexity_unchanged_and_more_raises_it(
    smollm2_dir, steering_dir, space
) -> None:
    model = LocalModel(smollm2_dir, steering_dir.name)
    steering = SteeringSet.load(steering_dir, space, model.name)
    passages = heldout.neutral_passages(limit=4)
    persona = load_personas()[0].as_profile(space, 0.1)
    base = model.perplexity(passages)
    assert 1.0 < base < 1000.0
    assert model.perplexity(passages, hook=steering.hook(model, persona, 0.0)) == pytest.approx(base, rel=1e-4)
    assert model.perplexity(passages, hook=steering.hook(model, persona, 3.0)) > base


def test_the_benchmark_writes_every_figure_the_issue_asks_for(tmp_path, smollm2_dir, steering_dir, monkeypatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(steering_dir, data / "steering" / steering_dir.name)
    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(data))
    monkeypatch.setenv("VALUEPRINT_MODEL_DIR", str(smollm2_dir))
    load_settings.cache_clear()  # the autouse fixture built them before these variables
    out = tmp_path / "results"
    options = ["--personas", "2", "--prompts", "3", "--max-tokens", "6", "--harmful", "2", "--out", str(out)]
    result = CliRunner().invoke(app, ["bench", "personalize", *options])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "personalize.json").read_text())
    for measure in ("reduction", "referee_reduction"):
        for strategy in ("precis", "rerank", "steer", "best"):
            assert -1.0 <= figures[f"{measure}_{strategy}"] <= 1.0
            low, high = figures[f"{measure}_{strategy}_ci95"]
            assert low <= figures[f"{measure}_{strategy}"] <= high
    every = {"precis", "rerank", "steer", "precis+rerank", "precis+guide", "precis+guide+rerank", "precis+steer+rerank"}
    every |= {"precis+frame", "precis+frame+rerank", "precis+frame+guide"}
    assert figures["best_strategy_by_referee"] in every
    for judged_by in ("referee_win_rate", "self_win_rate"):
        assert set(figures[judged_by]) == every
    assert figures["reply_perplexity"]["base"] > 1 and figures["examples"]
    assert figures["tokens_per_s"]["base"] > 0 and "steer" in figures["latency_overhead"]
    assert figures["perplexity_base"] > 1 and "perplexity_change" in figures
    assert 0 <= figures["refusal_rate_base"] <= 1 and isinstance(figures["safety_floor_held"], bool)
    assert figures["personas"] == [p.id for p in load_personas()[:2]] and figures["prompts"] == 3
    assert (out / "personalize.png").stat().st_size > 10_000


def test_a_subset_of_strategies_reports_only_those(tmp_path, smollm2_dir, monkeypatch) -> None:
    """For a slower model: `--strategies` runs only those (no steering, so no steering vectors are needed)."""
    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VALUEPRINT_MODEL_DIR", str(smollm2_dir))
    load_settings.cache_clear()
    out = tmp_path / "results"
    options = ["--personas", "1", "--prompts", "2", "--max-tokens", "6", "--harmful", "2", "--out", str(out)]
    result = CliRunner().invoke(app, ["bench", "personalize", "--strategies", "precis,precis+rerank", *options])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "personalize.json").read_text())
    assert set(figures["referee_win_rate"]) == {"precis", "precis+rerank"}
    assert set(figures["latency_overhead"]) == {"precis", "precis+rerank"} and "perplexity_base" not in figures
    assert (out / "personalize.png").stat().st_size > 10_000
    unknown = CliRunner().invoke(app, ["bench", "personalize", "--strategies", "precis,telepathy", *options])
    assert unknown.exit_code != 0 and "telepathy" in unknown.output
