"""Preference pairs for a person: real options, chosen by how well the personal judge finds each fits them."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from valueprint.evaluate.fit import daily_dilemma_prompts
from valueprint.personalize.preferences import (
    Choice,
    OptionScores,
    Pair,
    build_preferences,
    deduplicate,
    split_options,
    write_jsonl,
)
from valueprint.personalize.replies import replies_file, reply_choices
from valueprint.values.profile import ValueProfile


def committed(space, **means: float) -> ValueProfile:
    mean = np.zeros(space.size)
    for dim, value in means.items():
        mean[space.index(dim)] = value
    return ValueProfile.from_arrays(space, mean, np.full(space.size, 0.1))


class FakeJudge:
    """Reads each text as the given vector; a text in `broken` is cut off."""

    def __init__(self, space, vectors: dict[str, np.ndarray], broken: tuple[str, ...] = ()) -> None:
        self.space, self.vectors, self.broken = space, vectors, broken

    def readings(self, texts):
        return np.stack([self.vectors.get(t, np.zeros(self.space.size)) for t in texts])

    def text_penalties(self, texts):
        return np.zeros(len(texts)), np.array([t in self.broken for t in texts])


def fake_scores(space, vectors: dict[str, np.ndarray], broken: tuple[str, ...] = ()) -> FakeJudge:
    return FakeJudge(space, vectors, broken)


def test_the_held_out_split_shares_no_option_with_training_and_keeps_test_files_out(shared_data) -> None:
    train, held = split_options(shared_data)
    assert len(train) > 800 and len(held) > 1000
    assert not {(o.prompt, o.options) for o in train} & {(o.prompt, o.options) for o in held}
    assert {o.source for o in train} == {"moral_stories"}  # ETHICS and DailyDilemmas here are test splits
    assert {"ethics_deontology", "ethics_justice", "daily_dilemmas", "moral_stories"} == {o.source for o in held}
    assert split_options(shared_data) == (train, held)


def test_the_option_that_fits_the_profile_best_is_chosen_and_ties_are_dropped(space) -> None:
    caring = committed(space, benevolence=0.9)
    vectors = {"help": committed(space, benevolence=0.8).means(space), "ignore": -np.eye(space.size)[0] * 0}
    vectors["ignore"] = committed(space, benevolence=-0.8).means(space)
    options = [Choice("test", "A friend needs you.", ("ignore", "help")), Choice("test", "Tie?", ("same", "same2"))]
    scores = OptionScores(options, fake_scores(space, vectors))
    pairs = scores.pairs(caring, space)
    assert [(p.chosen, p.rejected) for p in pairs] == [("help", "ignore")]
    assert pairs[0].margin > 0.5
    assert scores.pairs(committed(space, benevolence=-0.9), space)[0].chosen == "ignore"


def test_of_several_candidates_the_best_fit_is_chosen_over_the_worst(space) -> None:
    caring = committed(space, benevolence=0.9)
    vectors = {t: committed(space, benevolence=b).means(space) for t, b in (("a", 0.1), ("b", 0.8), ("c", -0.7))}
    replies = OptionScores([Choice("model_replies", "Q?", ("a", "b", "c"))], fake_scores(space, vectors))
    data = OptionScores([Choice("test", "R?", ("c", "b"))], fake_scores(space, vectors))
    assert [(p.chosen, p.rejected) for p in replies.pairs(caring, space)] == [("b", "c")]
    assert [p.prompt for p in (replies + data).pairs(caring, space)] == ["Q?", "R?"]


def test_a_reply_cut_off_mid_sentence_is_never_chosen_however_well_it_fits(space) -> None:
    vectors = {"cut": committed(space, benevolence=0.9).means(space), "whole": np.zeros(space.size)}
    scores = OptionScores([Choice("model_replies", "Q?", ("cut", "whole"))], fake_scores(space, vectors, ("cut",)))
    assert [(p.chosen, p.rejected) for p in scores.pairs(committed(space, benevolence=0.9), space)] == [
        ("whole", "cut")
    ]


def test_the_models_own_replies_come_before_the_data_sets_pairs(space) -> None:
    vectors = {t: committed(space, benevolence=b).means(space) for t, b in (("x", 0.9), ("y", -0.9), ("m", 0.5))}
    options = [Choice("moral_stories", "Story?", ("x", "y")), Choice("model_replies", "Dilemma?", ("m", "y"))]
    scores = OptionScores(options, fake_scores(space, vectors))
    data = build_preferences(committed(space, benevolence=0.9), space, scores, scores, limit=1)
    assert [p.source for p in data.train] == ["model_replies"]  # although the story's margin is larger


def test_the_models_own_replies_are_sampled_once_from_training_dilemmas(tmp_path, smollm2_dir, shared_data) -> None:
    choices = reply_choices(tmp_path, shared_data, 3, smollm2_dir)
    assert 1 <= len(choices) <= 3
    training = {p.text for p in daily_dilemma_prompts(shared_data, "train")}
    for choice in choices:
        assert choice.source == "model_replies" and choice.prompt in training
        assert len(set(choice.options)) == len(choice.options) >= 2 and all(choice.options)
    stored = replies_file(tmp_path, "smollm2-135m-instruct", 3)
    written = stored.stat().st_mtime_ns
    assert reply_choices(tmp_path, shared_data, 3, smollm2_dir) == choices
    assert stored.stat().st_mtime_ns == written
    assert reply_choices(tmp_path, shared_data, 0, smollm2_dir) == []


def test_one_dilemma_in_five_is_held_out_from_training(shared_data) -> None:
    train, held = (daily_dilemma_prompts(shared_data, part) for part in ("train", "heldout"))
    assert not {p.id for p in train} & {p.id for p in held}
    assert len(train) + len(held) == len(daily_dilemma_prompts(shared_data))
    assert 0.15 < len(held) / (len(train) + len(held)) < 0.25


def test_own_answers_come_first_and_count_most(space) -> None:
    empty = OptionScores([], fake_scores(space, {}))
    data = build_preferences(committed(space, tradition=0.8), space, empty, empty, own=[("Q?", "mine", "other")])
    assert [p.source for p in data.train] == ["own_answers"] * 4
    assert all((p.chosen, p.rejected) == ("mine", "other") for p in data.train)


def test_a_profile_that_takes_no_side_yields_no_pairs(space) -> None:
    neutral = ValueProfile.from_arrays(space, np.zeros(space.size), np.full(space.size, 0.5))
    scores = OptionScores([Choice("t", "p", ("a", "b"))], fake_scores(space, {"a": np.ones(space.size)}))
    assert scores.pairs(neutral, space) == []


@given(st.lists(st.text(alphabet="abcdefgh ", min_size=10, max_size=60), min_size=1, max_size=12))
def test_deduplication_keeps_one_of_each_repeated_pair_and_never_adds(texts: list[str]) -> None:
    pairs = [Pair("t", t, "chosen reply here", "rejected", 0.1) for t in texts]
    kept = deduplicate(pairs + pairs)
    assert 1 <= len(kept) <= len(set(texts))
    assert all(k in pairs for k in kept)


def test_near_duplicate_prompts_are_removed() -> None:
    said = "People say you should always return what you borrow from your {} on time, even when it is a nuisance."
    first, second = said.format("neighbours"), said.format("neighbors")
    pairs = [Pair("t", first, "I return it.", "I keep it.", 0.2), Pair("t", second, "I return it.", "No.", 0.1)]
    assert len(deduplicate(pairs)) == 1


def test_the_jsonl_export_loads_with_datasets(tmp_path) -> None:
    import datasets

    pairs = [Pair("moral_stories", "Q1?", "yes", "no", 0.3), Pair("own_answers", "Q2?", "a", "b", 1.0)]
    path = write_jsonl(pairs, tmp_path / "prefs" / "train.jsonl")
    loaded = datasets.load_dataset("json", data_files=str(path), split="train")
    assert loaded.column_names[:3] == ["source", "prompt", "chosen"] or {"prompt", "chosen", "rejected"} <= set(
        loaded.column_names
    )
    assert loaded[1]["chosen"] == "a" and len(loaded) == 2
