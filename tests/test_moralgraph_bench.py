"""`valueprint bench moralgraph`'s parts on small inputs: crowds, the coordinated attack, the paraphrase cards,
deduplication's counts, the build from stored votes, and the plot."""

from __future__ import annotations

import numpy as np
import pytest

from tests.moralgraph_factories import words
from valueprint.bench import moralgraph as bench
from valueprint.moralgraph.aggregate import aggregate


def test_a_crowd_judges_its_pairs_and_adversaries_invert_them() -> None:
    honest = bench.crowd_votes(np.random.default_rng(0), 6, 300, 5)
    assert len(honest) == 1500 and {v.answer for v in honest} == {"yes", "no", "not_sure"}
    ups = [v for v in honest if v.to_id - v.from_id >= 3 and v.answer != "not_sure"]
    assert np.mean([v.answer == "yes" for v in ups]) > 0.9, "a clearly wiser move is endorsed"
    liars = bench.crowd_votes(np.random.default_rng(0), 6, 300, 5, adversarial=1.0)
    ups = [v for v in liars if v.to_id - v.from_id >= 3]
    assert np.mean([v.answer == "yes" for v in ups]) < 0.1


def test_a_large_honest_crowd_recovers_the_order_and_the_winner() -> None:
    found = bench.recovery(6, 300, 6, 0.0, seeds=3)
    assert found["kendall_tau"] > 0.7 and found["winner_correct"] >= 2 / 3
    assert bench.kendall({v: 0.1 * v for v in range(6)}, 6) == pytest.approx(1.0)
    assert bench.kendall({v: -0.1 * v for v in range(6)}, 6) == pytest.approx(-1.0)
    assert bench.kendall(dict.fromkeys(range(6), 1 / 6), 6) == 0.0, "no edge: no ordering, whatever the ids"


def test_coordinated_accounts_crown_their_value_eventually() -> None:
    needed = bench.attackers_to_flip(6, 30, 5, target=0, seed=1)
    assert needed is not None and needed > 0
    base = bench.crowd_votes(np.random.default_rng(1), 6, 30, 5)
    assert aggregate(range(6), base).winner != 0


def test_fresh_accounts_need_more_of_them_against_established_annotators() -> None:
    found = bench.fresh_attack(6, 30, 5, target=4, seeds=4)
    plain, weighted = found["unweighted"]["per_seed"], found["weighted_established_crowd"]["per_seed"]
    assert None not in plain and None not in weighted
    for p, w in zip(plain, weighted, strict=True):  # 0 where the honest crowd already crowned the target
        assert (w > p) if p > 0 else (w == 0), "a fresh account weighs 0.1 of an established one"
    assert found["weighted_established_crowd"]["median_attackers"] > 3 * found["unweighted"]["median_attackers"]
    assert found["fresh_weight"] == 0.1 and found["target_true_rank"] == 2


def test_paraphrase_cards_come_from_valuebench_items_and_their_rephrasings(shared_data) -> None:
    cards = bench.paraphrase_cards(shared_data)
    assert len(cards) > 300 and {c[0] for c in cards} == {"dev", "test"}
    _, _, original, rephrased = cards[0]
    assert original != rephrased and "?" in rephrased and "?" not in original.split(". ", 2)[1]


def test_dedup_counts_pairs_and_picks_its_threshold_on_the_dev_half(shared_data) -> None:
    assert bench.pair_scores([0, 0, 1, 2], [0, 0, 1, 1]) == (1, 1, 2)
    assert bench.precision_recall(1, 1, 2) == (1.0, 0.5, 0.6667)
    found = bench.dedup(words, shared_data, product_threshold=0.9)
    chosen = found["chosen_on_dev"]
    assert 0 <= chosen["test_precision"] <= 1 and 0 <= chosen["test_recall"] <= 1
    assert found["product_setting"]["threshold"] == 0.9 and len(found["test_curve"]) == len(bench.THRESHOLDS)


def test_graphs_are_built_from_stored_votes_and_plotted(tmp_path) -> None:
    built = bench.build_time(contexts=3, values=5, votes=300)
    assert built["canonical_cards"] == 15 and 0 < built["votes"] <= 300 and built["edges_kept"] >= 0
    single = bench.single_context_time(50, 500)
    assert single["values"] == 50 and single["aggregate_s"] >= 0
    figures = {
        "crowd": {
            "values_per_context": 6,
            "seeds": 1,
            "honest": [bench.recovery(6, n, 5, 0.0, 1) for n in (10, 40)],
            "adversarial_10pct": [bench.recovery(6, n, 5, 0.1, 1) for n in (10, 40)],
        },
        "coordinated_attack": {"second_best": {"median_attackers": 2}, "worst": {"median_attackers": 9}},
    }
    path = bench.plot(figures, tmp_path / "moralgraph.png")
    assert path.stat().st_size > 10_000
