"""ValueEvaluator: every dimension in [-1, 1], honest coverage, explanations, a reproducible artefact."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from valueprint.errors import EvaluatorError
from valueprint.evaluate import artefact
from valueprint.evaluate.evaluator import ValueEvaluator

NATURE = "We have to stop polluting rivers and cutting down forests; every species deserves protection."
FAMILY = "I will always be there for my friends and family when they need me, no matter what."
CRUEL = "I kicked the stray dog as hard as I could because it was in my way."


def test_scores_every_dimension_of_the_value_space_in_range(evaluator, space) -> None:
    scores = evaluator.score([NATURE, FAMILY, CRUEL, "", "ok"])
    assert scores.shape == (5, space.size)
    assert np.all(np.abs(scores) <= 1.0) and np.all(np.isfinite(scores))


def test_scores_do_not_depend_on_the_batch_a_text_is_in(evaluator) -> None:
    alone = evaluator.score([FAMILY])
    together = evaluator.score([NATURE, "short", FAMILY, CRUEL * 3])
    np.testing.assert_allclose(alone[0], together[2], atol=0.03)


def test_learned_dimensions_read_the_obvious_value_in_a_text(evaluator, space) -> None:
    nature, family, cruel = evaluator.score([NATURE, FAMILY, CRUEL])
    assert nature[space.index("universalism")] > 0.4
    assert family[space.index("benevolence")] > 0.4
    assert cruel[space.index("care")] < 0


def test_coverage_says_which_dimensions_have_labelled_data(evaluator, space) -> None:
    coverage = evaluator.coverage()
    assert list(coverage) == list(space.ids)
    assert coverage["universalism"].startswith("learned: Touché23")
    assert "Social Chemistry care-harm" in coverage["care"]
    for zero_shot in ("humour", "formality", "economic", "liberty"):
        assert coverage[zero_shot].startswith("zero-shot")


def test_explain_names_the_strongest_dimensions_with_their_evidence(evaluator) -> None:
    explained = evaluator.explain(NATURE, top=3)
    assert explained[0]["dimension"] == "universalism"
    strengths = [abs(e["score"]) for e in explained]
    assert strengths == sorted(strengths, reverse=True)
    assert any("Universalism: nature" in line for line in explained[0]["evidence"])


def test_the_shipped_artefact_is_version_stamped(evaluator, space) -> None:
    meta = evaluator.meta
    assert meta["artefact_version"] == artefact.ARTEFACT_VERSION and meta["space_version"] == space.version
    assert {"torch", "transformers", "peft"} <= set(meta["libraries"])
    assert set(meta["data"]) == {"touche", "fulcra", "foundations", "acceptable"}
    assert all(len(part["sha256_16"]) == 16 for part in meta["data"].values())


def test_training_writes_a_loadable_artefact(tiny_evaluator_dir, space) -> None:
    files = {p.name for p in tiny_evaluator_dir.iterdir()}
    assert {"meta.json", "arrays.safetensors", "adapter"} <= files
    scores = ValueEvaluator(tiny_evaluator_dir).score(["A tiny model still scores every dimension."])
    assert scores.shape == (1, space.size)


def test_training_is_reproducible_with_the_same_seed(tmp_path, shared_data) -> None:
    from safetensors.numpy import load_file

    from valueprint.evaluate.build import train_evaluator
    from valueprint.evaluate.train import TrainConfig

    config = TrainConfig(epochs=1, limit=8)
    for name in ("first", "second"):
        train_evaluator(shared_data, tmp_path / name, config)
    first, second = (load_file(str(tmp_path / n / "arrays.safetensors")) for n in ("first", "second"))
    np.testing.assert_array_equal(first["head_weight"], second["head_weight"])


def test_an_artefact_for_another_value_space_is_refused(tiny_evaluator_dir, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_evaluator_dir, copy)
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({**meta, "space_version": "0.9"}))
    with pytest.raises(EvaluatorError, match="retrain"):
        ValueEvaluator(copy)


@pytest.mark.parametrize("damage", ["missing", "not json", "no arrays"])
def test_a_damaged_artefact_gives_an_error_naming_the_fix(tiny_evaluator_dir, tmp_path, damage) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_evaluator_dir, copy)
    if damage == "missing":
        (copy / "meta.json").unlink()
    elif damage == "not json":
        (copy / "meta.json").write_text("{half")
    else:
        (copy / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(EvaluatorError, match="valueprint evaluator train"):
        ValueEvaluator(copy)


def test_the_train_command_runs_end_to_end(tmp_path) -> None:
    from typer.testing import CliRunner

    from valueprint.cli import app

    out = tmp_path / "artefact"
    result = CliRunner().invoke(app, ["evaluator", "train", "--epochs", "1", "--limit", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained" in result.output and (out / "meta.json").is_file()
