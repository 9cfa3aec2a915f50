"""Adaptive questioning: ask the item that most reduces posterior uncertainty.

The criterion is the expected reduction of the summed posterior variance of the
dimensions that are not yet certain enough (SD at or above `stop_sd`), each divided by
its prior variance so that no dimension counts more for having a wider prior. Under
the scoring model the covariance after an answer does not depend on the answer
itself, so this expectation is computed exactly, for all candidates at once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

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


def variance_reduction(model: ScoringModel, cov: np.ndarray, candidates: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted variance reduction from answering each candidate item (indices) next.

    With the item's information F Fᵀ (rank r ≤ 2), Woodbury gives the new covariance
    Σ' = Σ − (ΣF)(I + FᵀΣF)⁻¹(ΣF)ᵀ, so the reduction of each variance is the diagonal
    of the subtracted term: an r×r solve per item instead of a d×d inverse.
    """
    factors = model.information_factors[candidates]  # (n, d, r)
    spread = cov @ factors  # Σ F, (n, d, r)
    inner = np.eye(factors.shape[2]) + np.swapaxes(factors, 1, 2) @ spread  # I + FᵀΣF, (n, r, r)
    solved = np.linalg.solve(inner, np.swapaxes(spread, 1, 2))  # (n, r, d)
    reduction = np.einsum("ndr,nrd->nd", spread, solved)
    return reduction @ weights


def rank_next(model: ScoringModel, answered: np.ndarray, seen: np.ndarray, stop_sd: float) -> int | None:
    """Index of the best next item, or None when every dimension is certain or nothing is left."""
    cov = model.covariance(answered)
    sd = np.sqrt(np.diagonal(cov))
    uncertain = sd >= stop_sd
    candidates = np.flatnonzero(~seen)
    if not uncertain.any() or candidates.size == 0:
        return None
    weights = uncertain / np.diagonal(model.prior.cov)
    gains = variance_reduction(model, cov, candidates, weights)
    return int(candidates[int(np.argmax(gains))])


def adaptive_order(model: ScoringModel, stop_sd: float = 0.0) -> list[int]:
    """The full sequence of items the adaptive questionnaire asks a respondent who skips nothing."""
    answered = np.zeros(len(model.item_ids), dtype=bool)
    order: list[int] = []
    while (index := rank_next(model, answered, answered, stop_sd)) is not None:
        order.append(index)
        answered[index] = True
    return order


class _PlanCache:
    """What the questionnaire does from a state (answered and seen items, stopping SD): the item it
    asks next (-1: it stops) and how many questions are left, remembered for every state along a
    simulated path. People usually answer the item the path predicted, so their next request finds
    its state here instead of ranking the bank again, and the state after it too. Which item comes
    next depends only on which items were answered, never on the answers, so one plan serves every
    person on that path. Bounded, thread-safe."""

    def __init__(self, size: int = 20_000) -> None:
        self.size, self.lock = size, threading.Lock()
        self.plans = OrderedDict[tuple[bytes, bytes, float], tuple[int, int]]()

    @staticmethod
    def key(answered: np.ndarray, seen: np.ndarray, stop_sd: float) -> tuple[bytes, bytes, float]:
        return np.packbits(answered).tobytes(), np.packbits(seen).tobytes(), stop_sd

    def get(self, key: tuple[bytes, bytes, float]) -> tuple[int, int] | None:
        with self.lock:
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
            return plan

    def put(self, path: list[tuple[tuple[bytes, bytes, float], int]], after: int) -> None:
        """`path[i]` = (a state, the item asked there); it has `len(path) - i + after` questions left."""
        with self.lock:
            for step, (key, index) in enumerate(path):
                self.plans[key] = (index, len(path) - step + after)
                self.plans.move_to_end(key)
            while len(self.plans) > self.size:
                self.plans.popitem(last=False)


_plan_caches: weakref.WeakKeyDictionary[ScoringModel, _PlanCache] = weakref.WeakKeyDictionary()


def plan(model: ScoringModel, answers: Answers, stop_sd: float) -> tuple[int | None, int]:
    """(index of the next item or None when the questionnaire stops, how many questions it still asks
    if none is skipped). Exact: it follows the adaptive rule to the end (once per path, see _PlanCache)."""
    cache = _plan_caches.setdefault(model, _PlanCache())
    answered, seen = _seen_mask(model, answers)
    path: list[tuple[tuple[bytes, bytes, float], int]] = []
    while (known := cache.get(key := cache.key(answered, seen, stop_sd))) is None:
        index = rank_next(model, answered, seen, stop_sd)
        if index is None:
            path.append((key, -1))  # the end: asks nothing, 0 left (put() counts it as one, so after=-1)
            known = (-1, -1)
            break
        path.append((key, index))
        answered[index] = seen[index] = True
    cache.put(path, known[1])
    index, left = (path[0][1], len(path) + known[1]) if path else known
    return (None if index < 0 else index), left


def next_item(model: ScoringModel, answers: Answers, stop_sd: float) -> str | None:
    """The id of the next item to ask, or None if the questionnaire can stop."""
    index, _ = plan(model, answers, stop_sd)
    return None if index is None else model.item_ids[index]


def remaining(model: ScoringModel, answers: Answers, stop_sd: float) -> int:
    """How many more questions the questionnaire asks if none is skipped: exact, because which
    item comes next depends only on which items were answered, never on the answers."""
    return plan(model, answers, stop_sd)[1]


def progress(model: ScoringModel, answers: Answers, stop_sd: float, left: int | None = None) -> float:
    """How far the questionnaire has come, in [0, 1]: questions asked out of asked plus still to ask.
    It grows by about the same step with each answer and is 1 only once nothing is left to ask
    (a share of the way down to the stopping SD sat at 99% for the last several questions)."""
    left = remaining(model, answers, stop_sd) if left is None else left
    asked = len(answers.seen)
    return 1.0 if left == 0 else asked / (asked + left)
