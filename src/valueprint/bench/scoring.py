"""Scoring benchmark: median time to score a full answer set, and to pick the next item."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from valueprint.bench.adaptive import simulate
from valueprint.values import adaptive
from valueprint.values.answers import Answers, record
from valueprint.values.model import default_model
from valueprint.values.scoring import ScoringModel

REPEATS = 300


def _median_ms(action: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def simulated_answers(model: ScoringModel, seed: int = 0) -> Answers:
    """A full answer set from one respondent simulated from the model."""
    person = simulate(model, 1, np.random.default_rng(seed))
    answers = Answers()
    for index, item in enumerate(model.bank.items):
        if item.kind == "likert":
            row = model.g_row_of[item.id][0]
            record(answers, model.bank, item.id, int(person.answers.gaussian_y[0, row] * 2 + 3))
        elif item.kind == "slider":
            x, y = (float(person.answers.gaussian_y[0, r]) for r in model.g_row_of[item.id])
            record(answers, model.bank, item.id, {"x": x, "y": y})
        else:
            column = model.s_column[item.id]
            record(answers, model.bank, item.id, "ABC"[person.answers.choice[0, column]])
        assert model.item_index[item.id] == index
    return answers


def ranking(model: ScoringModel, answers: Answers, stop_sd: float) -> Callable[[], object]:
    """Picking the next item by ranking the bank (what `adaptive.plan` does once per path and then
    remembers: timing `next_item` itself would time the remembered plan)."""
    answered = np.array([item_id in answers.answered for item_id in model.item_ids])
    seen = np.array([item_id in answers.seen for item_id in model.item_ids])
    return lambda: adaptive.rank_next(model, answered, seen, stop_sd)


def run() -> dict[str, object]:
    model = default_model()
    full = simulated_answers(model)
    half = Answers(likert=dict(list(full.likert.items())[::2]), scenario=dict(list(full.scenario.items())[::2]))
    return {
        "items_in_bank": len(model.item_ids),
        "full_bank_ms": round(_median_ms(lambda: model.profile(full)), 3),
        "half_bank_ms": round(_median_ms(lambda: model.profile(half)), 3),
        "likert_only_full_ms": round(_median_ms(lambda: model.profile(Answers(likert=full.likert))), 3),
        "next_item_ms_empty": round(_median_ms(ranking(model, Answers(), 0.3)), 3),
        "next_item_ms_half": round(_median_ms(ranking(model, half, 0.0)), 3),
    }
