"""`valueprint bench moralgraph`'s parts on small inputs: crowds, the coordinated attack, the paraphrase cards,
deduplication's counts, the build from stored votes, and the plot."""

from __future__ import annotations

import numpy as np
import pytest

from tests.moralgraph_factories import words
from valueprint.bench import context_detection as detection
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


def test_the_labelled_prompts_name_seeded_contexts_and_split_evenly_per_context(shared_data) -> None:
    from valueprint.moralgraph.contexts import curated

    rows = detection.labelled()
    seeded = {c.text for c in curated(shared_data)}
    assert len({r["id"] for r in rows}) == len(rows) == 148
    assert {r["context"] for r in rows} - {None} == seeded, "every seeded context has prompts, and only those"
    assert sum(r["context"] is None for r in rows) == 48
    halves = detection.split(rows)
    assert len(halves["dev"]) + len(halves["test"]) == len(rows)
    assert not {r["id"] for r in halves["dev"]} & {r["id"] for r in halves["test"]}
    for context in {r["context"] for r in rows}:
        dev = sum(r["context"] == context for r in halves["dev"])
        test = sum(r["context"] == context for r in halves["test"])
        assert test >= 1 and dev - test in (0, 1), "each context alternates dev, test, dev, …"


def test_detection_counts_right_wrong_missed_and_false_matches_by_hand() -> None:
    scores = np.array(
        [
            [0.70, 0.20],  # context 0, found: right
            [0.50, 0.60],  # context 0, but 1 is closer: wrong
            [0.40, 0.10],  # context 1, under the threshold: missed
            [0.30, 0.55],  # no context, but 1 reaches it: a false match
            [0.10, 0.20],  # no context, none found
        ]
    )
    tally = detection.counts(scores, [0, 0, 1, None, None], threshold=0.5)
    assert tally == {
        "right": 1, "wrong": 1, "missed": 1, "false_match": 1, "with_context": 3, "without_context": 2
    }  # fmt: skip
    found = detection.figures(tally, 0.5)
    # precision 1 / (1 + 1 + 1), recall 1 / 3, F0.5 = 1.25·p·r / (0.25·p + r) = 1/3, false matches 1 / 2
    assert (found["precision"], found["recall"], found["f0_5"], found["false_match_rate"]) == (0.333, 0.333, 0.333, 0.5)


def test_detection_picks_its_threshold_on_dev_and_reports_test(shared_data) -> None:
    found = detection.run(words, shared_data, product_threshold=0.45)
    chosen = found["chosen_on_dev"]
    assert chosen["dev"]["f0_5"] == max(f["f0_5"] for f in _dev_curve(shared_data))
    assert chosen["test"]["threshold"] == chosen["threshold"] and found["product_setting_on_test"]["threshold"] == 0.45
    assert found["test"]["prompts"] == 60 and found["dev"]["prompts"] == 88


def _dev_curve(shared_data) -> list[dict]:
    """The dev curve recomputed here, to check the choice independently of `run`."""
    from valueprint.moralgraph.consult import similarities
    from valueprint.moralgraph.contexts import curated

    contexts = [c.text for c in curated(shared_data)]
    dev = detection.split(detection.labelled())["dev"]
    scores = similarities(words([r["prompt"] for r in dev]), words(contexts))
    expected = [None if r["context"] is None else contexts.index(r["context"]) for r in dev]
    return [detection.figures(detection.counts(scores, expected, t), t) for t in detection.THRESHOLDS]


def test_the_chat_takes_the_closest_context_only_from_the_threshold_up() -> None:
    from valueprint.moralgraph.consult import closest

    assert closest(np.array([0.2, 0.48, 0.3]), 0.48) == (1, 0.48)
    assert closest(np.array([0.2, 0.47999, 0.3]), 0.48) == (1, 0.48), "similarities are rounded to 4 places"
    assert closest(np.array([0.2, 0.47, 0.3]), 0.48) == (None, 0.47)


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


def test_graphs_are_built_from_stored_votes_and_plotted(tmp_path, shared_data) -> None:
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
    figures["context_detection"] = detection.run(words, shared_data, 0.45)
    assert bench.plot(figures, tmp_path / "with_detection.png").stat().st_size > path.stat().st_size
