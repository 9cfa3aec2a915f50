"""Adaptive questioning: ask the item that most reduces posterior uncertainty.

The criterion is the expected reduction of the summed posterior variance of the
dimensions that are not yet certain enough (SD at or above `stop_sd`), each divided by
its prior variance so that no dimension counts more for having a wider prior. Under
the scoring model the covariance after an answer does not depend on the answer
itself, so this expectation is computed exactly, for all candidates at once.
"""

from __future__ import annotations

import numpy as np

from valueprint.values.answers import Answers
from valueprint.values.scoring import ScoringModel


def _seen_mask(model: ScoringModel, answers: Answers) -> tuple[np.ndarray, np.ndarray]:
    answered = np.zeros(len(model.item_ids), dtype=bool)
    seen = np.zeros(len(model.item_ids), dtype=bool)
    for item_id in answers.answered:
        answered[model.item_index[item_id]] = True
    for item_id in answers.seen:
        seen[model.item_index[item_id]] = True
    return answered, seen


def variance_reduction(
    model: ScoringModel, precision: np.ndarray, candidates: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Weighted variance reduction from answering each candidate item (indices) next.

    With the item's information F Fᵀ (rank r ≤ 2), Woodbury gives the new covariance
    Σ' = Σ − (ΣF)(I + FᵀΣF)⁻¹(ΣF)ᵀ, so the reduction of each variance is the diagonal
    of the subtracted term: an r×r solve per item instead of a d×d inverse.
    """
    cov = np.linalg.inv(precision)
    factors = model.information_factors[candidates]  # (n, d, r)
    spread = cov @ factors  # Σ F, (n, d, r)
    inner = np.eye(factors.shape[2]) + np.swapaxes(factors, 1, 2) @ spread  # I + FᵀΣF, (n, r, r)
    solved = np.linalg.solve(inner, np.swapaxes(spread, 1, 2))  # (n, r, d)
    reduction = np.einsum("ndr,nrd->nd", spread, solved)
    return reduction @ weights


def rank_next(model: ScoringModel, answered: np.ndarray, seen: np.ndarray, stop_sd: float) -> int | None:
    """Index of the best next item, or None when every dimension is certain or nothing is left."""
    precision = model.precision(answered[None])[0]
    sd = np.sqrt(np.diagonal(np.linalg.inv(precision)))
    uncertain = sd >= stop_sd
    candidates = np.flatnonzero(~seen)
    if not uncertain.any() or candidates.size == 0:
        return None
    weights = uncertain / np.diagonal(model.prior.cov)
    gains = variance_reduction(model, precision, candidates, weights)
    return int(candidates[int(np.argmax(gains))])


def next_item(model: ScoringModel, answers: Answers, stop_sd: float) -> str | None:
    """The id of the next item to ask, or None if the questionnaire can stop."""
    answered, seen = _seen_mask(model, answers)
    index = rank_next(model, answered, seen, stop_sd)
    return None if index is None else model.item_ids[index]


def adaptive_order(model: ScoringModel, stop_sd: float = 0.0) -> list[int]:
    """The full sequence of items the adaptive questionnaire asks a respondent who skips nothing."""
    answered = np.zeros(len(model.item_ids), dtype=bool)
    order: list[int] = []
    while (index := rank_next(model, answered, answered, stop_sd)) is not None:
        order.append(index)
        answered[index] = True
    return order


def progress(model: ScoringModel, answers: Answers, stop_sd: float) -> float:
    """How far the questionnaire has come, in [0, 1]: the share of the way from the prior SD
    down to the stopping SD, averaged over dimensions (smooth, unlike a count of finished ones)."""
    sd = np.sqrt(np.diagonal(np.linalg.inv(model.precision(_seen_mask(model, answers)[0][None])[0])))
    prior_sd = np.sqrt(np.diagonal(model.prior.cov))
    return float(np.mean(np.clip((prior_sd - sd) / np.maximum(prior_sd - stop_sd, 1e-9), 0.0, 1.0)))
