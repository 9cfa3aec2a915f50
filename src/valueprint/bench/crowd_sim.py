"""Simulated crowds for `valueprint bench crowd`: real labels as truth, annotators of known accuracy.

A crowd is a pool of annotators: honest ones answer the truth with their accuracy (drawn uniformly from
`HONEST_ACCURACY`) and otherwise a uniformly random other class; spammers answer uniformly at random. Every
unit gets `overlap` distinct annotators at random; a `gold_share` of the units have known answers. Karma is
what the product would give: each gold label scores `2 * share of checks agreeing - 1` (`annotate.gold`,
with the product's tolerance on an ordinal scale), and weights follow `annotate.karma`. Nothing here sees
the truth of a non-gold unit except the scoring at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valueprint.annotate import gold, karma
from valueprint.annotate.aggregate import Labels, dawid_skene, majority

HONEST_ACCURACY = (0.5, 0.95)


@dataclass
class Crowd:
    truth: np.ndarray  # [units]
    k: int
    accuracy: np.ndarray  # [annotators], a spammer's is 1/k
    spammer: np.ndarray  # [annotators] bool
    rows: list[tuple[int, int, int]]  # (unit, annotator, class)
    known: dict[int, int]  # gold unit -> truth
    ordinal: bool

    @property
    def n_workers(self) -> int:
        return len(self.accuracy)

    def karma(self) -> np.ndarray:
        """Each annotator's karma from their gold labels, by the product's rule."""
        totals = np.zeros(self.n_workers)
        for unit, worker, label in self.rows:
            if unit in self.known:
                answer = self.known[unit]
                if self.ordinal:
                    found = gold.checks({}, (), answer, {"acceptability": label}, self.k)
                else:
                    found = [gold.Check("label", label == answer, 1 / self.k)]
                score = gold.unit_score(found)
                totals[worker] += 2 * score[0] - 1
        return totals

    def weights(self, rows: list[tuple[int, int, int]], karmas: np.ndarray) -> list[float]:
        by_unit: dict[int, list[int]] = {}
        for i, (unit, _, _) in enumerate(rows):
            by_unit.setdefault(unit, []).append(i)
        weights = [1.0] * len(rows)
        for indices in by_unit.values():
            found = karma.unit_weights([float(karmas[rows[i][1]]) for i in indices])
            for i, w in zip(indices, found, strict=True):
                weights[i] = w
        return weights


def simulate(
    truth: np.ndarray,
    k: int,
    annotators: int = 60,
    spam_share: float = 0.2,
    overlap: int = 3,
    gold_share: float = 0.1,
    seed: int = 0,
    ordinal: bool = True,
) -> Crowd:
    rng = np.random.default_rng(seed)
    spammer = np.zeros(annotators, bool)
    spammer[rng.choice(annotators, round(spam_share * annotators), replace=False)] = True
    accuracy = np.where(spammer, 1.0 / k, rng.uniform(*HONEST_ACCURACY, annotators))
    rows = []
    for unit, answer in enumerate(truth):
        for worker in rng.choice(annotators, overlap, replace=False):
            if spammer[worker]:
                label = int(rng.integers(k))
            elif rng.random() < accuracy[worker]:
                label = int(answer)
            else:
                label = int(rng.choice([c for c in range(k) if c != answer]))
            rows.append((unit, int(worker), label))
    gold_units = rng.choice(len(truth), round(gold_share * len(truth)), replace=False)
    return Crowd(truth, k, accuracy, spammer, rows, {int(u): int(truth[u]) for u in gold_units}, ordinal)


def aggregate(crowd: Crowd, extra: list[tuple[int, int, int]] = (), extra_workers: int = 0) -> dict[str, np.ndarray]:
    """Labels per unit from majority vote, plain Dawid–Skene, and ours (karma weights, gold clamped)."""
    rows = list(crowd.rows) + list(extra)
    workers = crowd.n_workers + extra_workers
    karmas = np.concatenate([crowd.karma(), np.zeros(extra_workers)])
    n = len(crowd.truth)
    plain = Labels.of(rows, n, workers, crowd.k)
    weighted = Labels.of(rows, n, workers, crowd.k, crowd.weights(rows, karmas))
    return {
        "majority": majority(plain)[0],
        "dawid_skene": dawid_skene(plain).labels,
        "ours": dawid_skene(weighted, crowd.known).labels,
    }


def accuracy_off_gold(crowd: Crowd, labels: np.ndarray) -> float:
    scored = np.array([u not in crowd.known for u in range(len(crowd.truth))])
    return float((labels[scored] == crowd.truth[scored]).mean())


def flips_needed(crowd: Crowd, unit: int, wrong: int, method: str, most: int = 200) -> int | None:
    """The fewest fresh colluding accounts (each a new annotator, all answering `wrong`) that flip the unit's
    label under `method`; None when even `most` do not."""

    def flipped(c: int) -> bool:
        extra = [(unit, crowd.n_workers + j, wrong) for j in range(c)]
        return int(aggregate(crowd, extra, c)[method][unit]) == wrong

    if not flipped(most):
        return None
    low, high = 0, most  # flipped(high) is True, flipped(low) is False (no colluders)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if flipped(middle) else (middle, high)
    return high
