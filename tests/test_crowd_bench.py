"""The simulated crowds of `valueprint bench crowd`: spammers hurt majority vote more than our consensus,
fresh colluders flip majority vote but not ours, karma follows true accuracy, intervals narrow with size."""

from __future__ import annotations

import numpy as np

from valueprint.bench import crowd_sim
from valueprint.bench.crowd import map_stability
from valueprint.bench.crowd_loop import first_labels


def truth(n: int = 300, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).choice([2, 3, 4], n, p=[0.25, 0.6, 0.15])


def test_our_consensus_beats_majority_vote_with_a_fifth_of_spammers() -> None:
    crowd = crowd_sim.simulate(truth(), 5, annotators=30, spam_share=0.2, overlap=3, gold_share=0.15, seed=1)
    found = {m: crowd_sim.accuracy_off_gold(crowd, labels) for m, labels in crowd_sim.aggregate(crowd).items()}
    assert found["ours"] > found["majority"] + 0.05


def test_fresh_colluders_flip_majority_vote_but_not_our_consensus() -> None:
    answers = truth()
    crowd = crowd_sim.simulate(answers, 5, annotators=30, spam_share=0.2, overlap=3, gold_share=0.15, seed=1)
    labels = crowd_sim.aggregate(crowd)
    unit = next(
        u
        for u in range(len(answers))
        if u not in crowd.known and labels["ours"][u] == answers[u] and labels["majority"][u] == answers[u]
    )
    wrong = int((answers[unit] + 2) % 5)
    assert crowd_sim.flips_needed(crowd, unit, wrong, "majority", most=20) is not None
    assert crowd_sim.flips_needed(crowd, unit, wrong, "ours", most=50) is None


def test_karma_ranks_spammers_below_honest_annotators() -> None:
    crowd = crowd_sim.simulate(truth(600), 5, annotators=30, spam_share=0.2, overlap=3, gold_share=0.15, seed=2)
    karmas = crowd.karma()
    assert karmas[crowd.spammer].mean() < karmas[~crowd.spammer].mean()


def test_map_intervals_narrow_as_groups_grow() -> None:
    widths = map_stability(rounds=100, groups=3)
    assert widths["200"] < widths["20"] < widths["5"]


def test_loop_labels_are_counted_per_text_and_dimension() -> None:
    labels = [("a", {"x": 1, "y": 0}, ["x", "y"]), ("b", {"x": 0, "y": 1}, ["x", "y"])]
    assert first_labels(labels, 3) == [("a", {"x": 1, "y": 0}, ["x", "y"]), ("b", {"x": 0}, ["x"])]
    assert first_labels(labels, 0) == []
