"""The evaluator's data: official splits where they exist, disjoint hash splits elsewhere."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from valueprint.evaluate import datasets
from valueprint.evaluate.calibrate import best_thresholds, f1_scores


def test_touche23_has_the_official_split_sizes_and_twenty_binary_categories(shared_data) -> None:
    sizes = {split: len(datasets.touche23(shared_data, split)) for split in ("training", "validation", "test")}
    assert sizes == {"training": 5393, "validation": 1896, "test": 1576}
    test = datasets.touche23(shared_data, "test")
    assert test.labels.shape == (1576, 20) and set(np.unique(test.labels)) == {0.0, 1.0}
    first = "affirmative action helps with employment equity. (against: We should end affirmative action)"
    assert test.texts[0] == first


def test_fulcra_holds_out_a_fifth_and_never_shares_a_dialogue(shared_data) -> None:
    train, holdout = datasets.fulcra(shared_data, "train"), datasets.fulcra(shared_data, "holdout")
    assert not set(train.texts) & set(holdout.texts)
    assert 0.15 < len(holdout) / (len(train) + len(holdout)) < 0.25
    assert set(np.unique(holdout.labels)) == {-1.0, 0.0, 1.0}


def test_social_chemistry_parts_are_disjoint_and_every_rule_has_a_foundation(shared_data) -> None:
    parts = {p: datasets.social_chemistry(shared_data, p) for p in ("train", "validation", "holdout")}
    texts = [set(part.texts) for part in parts.values()]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert all(part.labels.sum(1).min() >= 1 for part in parts.values())


def test_acceptability_comes_from_moral_stories_dev_and_is_tested_on_ethics(shared_data) -> None:
    dev = datasets.moral_stories_actions(shared_data, "dev")
    assert set(np.unique(dev.labels)) == {0.0, 1.0}
    ethics = datasets.ethics_commonsense(shared_data)
    assert len(ethics) == 2109 and ethics.texts[0] == "I told my baby I loved her when she cried."


def test_a_missing_data_folder_names_the_setting_to_fix(tmp_path) -> None:
    import pytest

    from valueprint.errors import DatasetError

    with pytest.raises(DatasetError, match="VALUEPRINT_DATASETS_DIR"):
        datasets.touche23(tmp_path, "test")


binary_matrices = st.integers(1, 30).flatmap(
    lambda n: st.lists(st.lists(st.sampled_from([0.0, 1.0]), min_size=3, max_size=3), min_size=n, max_size=n)
)


@given(binary_matrices)
def test_f1_is_one_for_perfect_predictions_and_within_zero_and_one(rows) -> None:
    truth = np.array(rows)
    perfect = f1_scores(truth, truth)
    assert np.all((perfect == 1.0) | (truth.sum(0) == 0))
    noisy = f1_scores(truth, 1 - truth)
    assert np.all((noisy >= 0) & (noisy <= 1))


@given(binary_matrices)
def test_tuned_thresholds_are_never_worse_than_one_half(rows) -> None:
    truth = np.array(rows)
    probabilities = np.clip(truth * 0.6 + np.linspace(0, 0.39, truth.size).reshape(truth.shape), 0, 1)
    tuned = f1_scores(truth, (probabilities >= best_thresholds(truth, probabilities)).astype(float))
    assert np.all(tuned >= f1_scores(truth, (probabilities >= 0.5).astype(float)) - 1e-12)
