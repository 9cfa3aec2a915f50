"""Consensus per unit and label: Dawid–Skene with annotator weights and known answers, majority vote beside it.

Dawid & Skene (1979) estimate each annotator's confusion matrix (how often they answer l when the truth is k)
and each unit's posterior over the truth by EM. Written here rather than taken from crowd-kit (Apache-2.0,
whose `DawidSkene` we would gladly use) because we need three things its implementation has no place for:

- **weights**: each label's log-likelihood is multiplied by its annotator's weight on that unit
  (`karma.unit_weights`: fresh accounts weigh little, and together at most a capped amount), so a crowd of
  fresh accounts cannot flip a label however well they agree with one another;
- **a prior on every confusion matrix** (Dirichlet pseudo-counts: `PRIOR_STRENGTH` labels at
  `PRIOR_ACCURACY`), so an annotator seen on a handful of units is assumed ordinary, not perfect;
- **known answers**: gold and adjudicated units are clamped to their answer, which anchors every
  annotator's confusion matrix on ground truth (and a spammer's is learnt as such).

The confidence of a consensus is its posterior probability. Majority vote (ties broken by a seeded coin) is
reported beside it. Consensus is one reading of a unit; how each group judged it is kept separately
(`moralmap`), so a minority's reading is never averaged away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

PRIOR_STRENGTH = 4.0
PRIOR_ACCURACY = 0.7
ITERATIONS = 60


@dataclass(frozen=True)
class Labels:
    """Observations of one label: parallel arrays of item index, annotator index, class index, weight."""

    items: np.ndarray
    workers: np.ndarray
    classes: np.ndarray
    weights: np.ndarray
    n_items: int
    n_workers: int
    n_classes: int

    @classmethod
    def of(
        cls,
        rows: Sequence[tuple[int, int, int]],
        n_items: int,
        n_workers: int,
        n_classes: int,
        weights: Sequence[float] | None = None,
    ) -> Labels:
        array = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        w = np.ones(len(array)) if weights is None else np.asarray(weights, dtype=float)
        return cls(array[:, 0], array[:, 1], array[:, 2], w, n_items, n_workers, n_classes)


@dataclass(frozen=True)
class Consensus:
    posterior: np.ndarray  # [items, classes]
    confusion: np.ndarray  # [workers, classes, classes]

    @property
    def labels(self) -> np.ndarray:
        return self.posterior.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.posterior.max(axis=1)


def _prior(k: int, accuracy: float = PRIOR_ACCURACY, strength: float = PRIOR_STRENGTH) -> np.ndarray:
    off = (1.0 - accuracy) / max(1, k - 1)
    return strength * (np.full((k, k), off) + np.eye(k) * (accuracy - off))


def _clamp(posterior: np.ndarray, known: Mapping[int, int]) -> np.ndarray:
    for item, answer in known.items():
        posterior[item] = 0.0
        posterior[item, answer] = 1.0
    return posterior


def weighted_votes(data: Labels) -> np.ndarray:
    votes = np.zeros((data.n_items, data.n_classes))
    np.add.at(votes, (data.items, data.classes), data.weights)
    return votes


def dawid_skene(data: Labels, known: Mapping[int, int] | None = None, iterations: int = ITERATIONS) -> Consensus:
    """The posterior over each item's class and each annotator's confusion matrix (items without any label
    get the class prior)."""
    known = known or {}
    k = data.n_classes
    votes = weighted_votes(data) + 1e-3
    posterior = _clamp(votes / votes.sum(axis=1, keepdims=True), known)
    prior = _prior(k)
    confusion = np.tile(prior / prior.sum(axis=1, keepdims=True), (data.n_workers, 1, 1))
    for _ in range(iterations):
        counts = np.tile(prior, (data.n_workers, 1, 1))
        np.add.at(counts, (data.workers, slice(None), data.classes), posterior[data.items])
        confusion = counts / counts.sum(axis=2, keepdims=True)
        classes = (posterior.sum(axis=0) + 1.0) / (posterior.sum() + k)
        log_post = np.tile(np.log(classes), (data.n_items, 1))
        np.add.at(
            log_post,
            data.items,
            data.weights[:, None] * np.log(confusion[data.workers, :, data.classes]),
        )
        log_post -= log_post.max(axis=1, keepdims=True)
        updated = np.exp(log_post)
        updated = _clamp(updated / updated.sum(axis=1, keepdims=True), known)
        if np.abs(updated - posterior).max() < 1e-6:
            posterior = updated
            break
        posterior = updated
    return Consensus(posterior, confusion)


def majority(data: Labels, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted majority vote per item (ties broken by a seeded coin) and the winning share of votes;
    items without labels get -1."""
    votes = np.zeros((data.n_items, data.n_classes))
    np.add.at(votes, (data.items, data.classes), 1.0)
    rng = np.random.default_rng(seed)
    jitter = rng.random(votes.shape) * 1e-6
    winner = (votes + jitter).argmax(axis=1)
    total = votes.sum(axis=1)
    share = np.divide(votes.max(axis=1), total, out=np.zeros(len(total)), where=total > 0)
    return np.where(total > 0, winner, -1), share
