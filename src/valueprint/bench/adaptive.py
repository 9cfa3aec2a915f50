"""Adaptive against random question order on respondents simulated from the scoring model.

Each simulated respondent has a true profile drawn from the prior and answers every
item by the model's own observation process (Likert answers are also rounded to the
5-point scale, which the model does not know about). For every number of questions t
we score the first t answers and measure the RMSE of the posterior mean against the
true profile, once in the adaptive order and once in a fresh random order per person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valueprint.bench.report import save_figure
from valueprint.values.adaptive import adaptive_order
from valueprint.values.scoring import EncodedAnswers, ScoringModel

MATCH_TOLERANCE = 1.10  # "within 10% of the full-bank RMSE"


@dataclass
class SimulatedRespondents:
    truth: np.ndarray  # (n, d)
    answers: EncodedAnswers  # every item answered


def simulate(model: ScoringModel, n: int, rng: np.random.Generator) -> SimulatedRespondents:
    truth = model.prior.sample(n, rng)
    signal = truth @ model.g_rows.T
    noisy = signal + rng.normal(size=signal.shape) / np.sqrt(model.g_precision)
    is_likert = np.array([model.bank.items[i].kind == "likert" for i in model.g_owner])
    likert = (np.clip(np.round(noisy * 2 + 3), 1, 5) - 3) / 2
    gaussian_y = np.where(is_likert, likert, np.clip(noisy, -1, 1))
    utility = model.params.choice_sharpness * np.einsum("skd,nd->nsk", model.s_vectors, truth)
    utility = np.where(model.s_valid[None], utility, -np.inf)
    gumbel = rng.gumbel(size=utility.shape)
    choice = np.argmax(utility + gumbel, axis=2)
    mask = np.ones((n, len(model.item_ids)), dtype=bool)
    return SimulatedRespondents(truth, EncodedAnswers(mask=mask, gaussian_y=gaussian_y, choice=choice))


def rmse_after(model: ScoringModel, people: SimulatedRespondents, mask: np.ndarray) -> float:
    encoded = EncodedAnswers(mask=mask, gaussian_y=people.answers.gaussian_y, choice=people.answers.choice)
    means = np.clip(model.map_means(encoded), -1, 1)
    return float(np.sqrt(np.mean((means - people.truth) ** 2)))


def items_to_match(curve: np.ndarray, target: float, tolerance: float = MATCH_TOLERANCE) -> int:
    """Fewest questions whose RMSE is within `tolerance` times `target`."""
    return int(np.flatnonzero(curve <= tolerance * target)[0])


@dataclass
class AdaptiveResult:
    figures: dict
    adaptive_curve: np.ndarray
    random_curve: np.ndarray


def run(
    model: ScoringModel,
    respondents: int = 1000,
    seed: int = 0,
    stop_sd: float = 0.3,
    on_step: Callable[[int, int], None] | None = None,
) -> AdaptiveResult:
    rng = np.random.default_rng(seed)
    people = simulate(model, respondents, rng)
    n_items = len(model.item_ids)
    order = adaptive_order(model)
    ranks = np.argsort(rng.random((respondents, n_items)), axis=1)  # random order: rank of each item
    adaptive_rank = np.empty(n_items, dtype=int)
    adaptive_rank[order] = np.arange(n_items)
    adaptive_curve, random_curve = np.zeros(n_items + 1), np.zeros(n_items + 1)
    for t in range(n_items + 1):
        adaptive_curve[t] = rmse_after(model, people, np.broadcast_to(adaptive_rank < t, (respondents, n_items)))
        random_curve[t] = rmse_after(model, people, ranks < t)
        if on_step:
            on_step(t, n_items)
    full = adaptive_curve[-1]
    stop_at = len(adaptive_order(model, stop_sd))
    stop_precision = model.precision(np.broadcast_to(adaptive_rank < stop_at, (1, n_items)))[0]
    figures = {
        "respondents": respondents,
        "items_in_bank": n_items,
        "full_bank_rmse": round(float(full), 4),
        "prior_rmse": round(float(adaptive_curve[0]), 4),
        "adaptive_items_to_match": items_to_match(adaptive_curve, full),
        "random_items_to_match": items_to_match(random_curve, full),
        "stop_sd": stop_sd,
        "adaptive_items_at_stop": stop_at,
        "adaptive_rmse_at_stop": round(float(adaptive_curve[stop_at]), 4),
        "random_rmse_at_same_count": round(float(random_curve[stop_at]), 4),
        "random_items_to_reach_stop_rmse": items_to_match(random_curve, adaptive_curve[stop_at], 1.0),
        "model_sd_at_stop": round(float(np.sqrt(np.mean(np.diag(np.linalg.inv(stop_precision))))), 4),
    }
    figures["adaptive_share_of_bank"] = round(figures["adaptive_items_to_match"] / n_items, 3)
    figures["adaptive_over_random"] = round(figures["adaptive_items_to_match"] / figures["random_items_to_match"], 3)
    return AdaptiveResult(figures, adaptive_curve, random_curve)


def plot(result: AdaptiveResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = result.figures
    fig, ax = plt.subplots(figsize=(7, 4.2))
    steps = np.arange(len(result.adaptive_curve))
    ax.plot(steps, result.adaptive_curve, label="adaptive order", lw=2)
    ax.plot(steps, result.random_curve, label="random order", lw=2, ls="--")
    ax.axhline(
        MATCH_TOLERANCE * figures["full_bank_rmse"], color="grey", lw=1, ls=":", label="within 10% of the full bank"
    )
    for key, colour in (("adaptive_items_to_match", "C0"), ("random_items_to_match", "C1")):
        ax.axvline(figures[key], color=colour, lw=1, ls=":")
    ax.set_xlabel("questions answered")
    ax.set_ylabel("RMSE of the profile vs the true one")
    ax.set_title(f"{figures['respondents']} simulated respondents, {figures['items_in_bank']}-item bank")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
