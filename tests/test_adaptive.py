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
