"""Adaptive questioning: the most informative item next, a stopping rule, no repeats."""

from __future__ import annotations

import numpy as np

from valueprint.values import adaptive
from valueprint.values.answers import Answers, record


def total_standardised_variance(model, answered_ids):
    mask = np.zeros(len(model.item_ids), dtype=bool)
    for item_id in answered_ids:
        mask[model.item_index[item_id]] = True
    cov = np.linalg.inv(model.precision(mask[None])[0])
    return float(np.sum(np.diag(cov) / np.diag(model.prior.cov)))


def test_the_next_item_is_the_one_that_reduces_uncertainty_most(model):
    answers = Answers()
    record(answers, model.bank, "political-slider", {"x": 0.0, "y": 0.0})
    chosen = adaptive.next_item(model, answers, stop_sd=0.0)
    candidates = [i for i in model.item_ids if i not in answers.seen]
    brute_force = min(candidates, key=lambda c: total_standardised_variance(model, [*answers.answered, c]))
    assert chosen == brute_force


def test_it_stops_when_every_dimension_is_certain_enough(model):
    answers = Answers()
    asked = 0
    while (item_id := adaptive.next_item(model, answers, stop_sd=0.3)) is not None:
        item = model.bank.item(item_id)
        record(answers, model.bank, item_id, {"likert": 4, "scenario": "A", "slider": {"x": 0, "y": 0}}[item.kind])
        asked += 1
    assert np.all(model.posterior(answers).sd < 0.3)
    assert asked < len(model.item_ids) / 2


def test_skipped_items_are_never_asked_again(model):
    answers = Answers()
    asked = []
    for _ in range(20):
        item_id = adaptive.next_item(model, answers, stop_sd=0.0)
        asked.append(item_id)
        record(answers, model.bank, item_id, None)
    assert len(set(asked)) == len(asked)


def test_adaptive_order_is_more_informative_than_random_order(model):
    order = [model.item_ids[i] for i in adaptive.adaptive_order(model)[:40]]
    rng = np.random.default_rng(0)
    random_variances = [
        total_standardised_variance(model, list(rng.choice(model.item_ids, 40, replace=False))) for _ in range(20)
    ]
    assert total_standardised_variance(model, order) < min(random_variances)


def test_progress_grows_evenly_and_reaches_one_only_when_nothing_is_left(model):
    answers = Answers()
    seen: list[float] = []
    expected_total = adaptive.remaining(model, answers, stop_sd=0.3)
    while (item_id := adaptive.next_item(model, answers, stop_sd=0.3)) is not None:
        assert adaptive.remaining(model, answers, 0.3) == expected_total - len(answers.seen)  # exact: no skips
        seen.append(adaptive.progress(model, answers, 0.3))
        kind = model.bank.item(item_id).kind
        record(answers, model.bank, item_id, {"likert": 2, "scenario": "B", "slider": {"x": 0.5, "y": 0}}[kind])
    assert len(seen) == expected_total
    assert seen[0] == 0 and max(seen) < 0.99  # the last question still shows work left
    assert adaptive.progress(model, answers, 0.3) == 1.0
    steps = np.diff(seen)
    assert np.all(steps > 0) and steps.max() < 2 * steps.min()


def test_a_skip_counts_as_asked_without_counting_as_answered(model):
    answered, skipped = Answers(), Answers()
    first = adaptive.next_item(model, answered, 0.3)
    record(answered, model.bank, first, {"x": 0.5, "y": 0})
    record(skipped, model.bank, first, None)
    assert adaptive.remaining(model, skipped, 0.3) > adaptive.remaining(model, answered, 0.3)
    assert 0 < adaptive.progress(model, skipped, 0.3) < adaptive.progress(model, answered, 0.3)
