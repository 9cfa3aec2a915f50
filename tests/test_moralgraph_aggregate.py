"""The moral graph's aggregation, on examples worked out by hand (the formula is in `moralgraph.aggregate`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from valueprint.moralgraph.aggregate import (
    Parameters,
    Vote,
    aggregate,
    binary_entropy,
    pagerank,
    transition_weights,
    votes_digest,
)


def votes(*spec: tuple[int, int, str, int]) -> list[Vote]:
    """(from, to, answer, how many) -> that many votes of weight 1."""
    return [Vote(a, b, answer) for a, b, answer, n in spec for _ in range(n)]


def edge_of(graph, a: int, b: int):
    return next(e for e in graph.edges if (e.from_id, e.to_id) == (a, b))


def test_an_endorsement_of_a_to_b_counts_against_b_to_a() -> None:
    # 3 yes and 1 no on 1→2; 1 yes and 1 not sure on 2→1: six judges of the pair
    graph = aggregate([1, 2], votes((1, 2, "yes", 3), (1, 2, "no", 1), (2, 1, "yes", 1), (2, 1, "not_sure", 1)))
    forward, backward = edge_of(graph, 1, 2), edge_of(graph, 2, 1)
    assert (forward.endorse, forward.against, forward.unsure, forward.votes) == (3, 2, 1, 6)  # 1 no + 1 yes on 2→1
    assert (backward.endorse, backward.against, backward.votes) == (1, 3, 6)  # the 3 yes on 1→2 count against it
    assert forward.likelihood == pytest.approx(4 / 8) and backward.likelihood == pytest.approx(2 / 8)
    # 3 of 5 decided votes: H(0.6) = 0.971 bits > 0.95, so the edge is contested and not kept
    assert forward.entropy == pytest.approx(-(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4)))
    assert (forward.status, backward.status) == ("contested", "not_endorsed")
    assert graph.kept == [] and graph.winner is None


def test_a_clear_majority_with_enough_votes_is_kept_with_its_likelihood() -> None:
    graph = aggregate([1, 2], votes((1, 2, "yes", 4), (2, 1, "yes", 1)))
    kept = edge_of(graph, 1, 2)
    assert kept.status == "kept" and kept.likelihood == pytest.approx(5 / 7)
    assert kept.entropy == pytest.approx(binary_entropy(0.8)) == pytest.approx(0.7219, abs=1e-4)
    assert graph.winner == 2


def test_too_few_votes_keep_no_edge_and_the_minimum_is_a_parameter() -> None:
    few = votes((1, 2, "yes", 2))
    assert edge_of(aggregate([1, 2], few), 1, 2).status == "too_few_votes"
    assert edge_of(aggregate([1, 2], few, Parameters(min_votes=2)), 1, 2).status == "kept"


def test_not_sure_votes_count_towards_the_minimum_but_dilute_the_likelihood() -> None:
    graph = aggregate([1, 2], votes((1, 2, "yes", 2), (2, 1, "not_sure", 2)))
    e = edge_of(graph, 1, 2)
    assert e.status == "kept" and e.votes == 4 and e.likelihood == pytest.approx(3 / 6)


def test_only_no_votes_make_no_edge_either_way() -> None:
    graph = aggregate([1, 2], votes((1, 2, "no", 5)))
    assert {e.status for e in graph.edges} == {"not_endorsed"} and graph.winner is None


def test_pagerank_matches_the_hand_computed_values() -> None:
    # kept edge 1→2 with ℓ = 5/7: P(1→2) = 5/7, P(1→1) = 2/7, 2 and 3 keep all (d = 0.85, N = 3)
    # r1 = 0.05 + 0.85·(2/7)·r1 = 7/106;  r3 = 0.05 + 0.85·r3 = 1/3;  r2 = (0.05 + 0.85·(5/7)·r1) / 0.15 = 191/318
    graph = aggregate([1, 2, 3], votes((1, 2, "yes", 4), (2, 1, "yes", 1)))
    assert graph.rank[1] == pytest.approx(7 / 106, abs=1e-9)
    assert graph.rank[2] == pytest.approx(191 / 318, abs=1e-9)
    assert graph.rank[3] == pytest.approx(1 / 3, abs=1e-9)
    assert graph.winner == 2, "3 holds 1/3 but nobody moved to it: only an endorsed value can win"


def dense_pagerank(weights: dict[int, dict[int, float]], damping: float) -> dict[int, float]:
    """The exact solution of r = (1-d)/N + d·Pᵀr, by a linear solve (independent of networkx)."""
    nodes = sorted(weights)
    index = {n: i for i, n in enumerate(nodes)}
    p = np.zeros((len(nodes), len(nodes)))
    for a, out in weights.items():
        for b, w in out.items():
            p[index[a], index[b]] = w
    n = len(nodes)
    r = np.linalg.solve(np.eye(n) - damping * p.T, np.full(n, (1 - damping) / n))
    return {node: float(r[index[node]]) for node in nodes}


def test_pagerank_agrees_with_an_exact_linear_solve_when_out_weights_need_scaling() -> None:
    # 1→2 (7 of 8 judges: ℓ = 0.8) and 1→3 (ℓ = 0.7) sum past one, so they are scaled; 2 keeps 5/8
    cast = votes((1, 2, "yes", 7), (1, 2, "no", 1), (1, 3, "yes", 6), (1, 3, "not_sure", 2), (2, 3, "yes", 2))
    cast += votes((3, 2, "yes", 1), (2, 3, "not_sure", 3))  # 2→3: 2 for, 1 against, 6 judges: ℓ = 3/8
    graph = aggregate([1, 2, 3, 4], cast)
    weights = transition_weights(graph.kept, graph.nodes)
    assert weights[1] == pytest.approx({2: 0.8 / 1.5, 3: 0.7 / 1.5})
    assert weights[2] == pytest.approx({3: 3 / 8, 2: 5 / 8}) and weights[4] == {4: 1.0}
    exact = dense_pagerank(weights, 0.85)
    assert graph.rank == pytest.approx(exact, abs=1e-9)
    assert sum(graph.rank.values()) == pytest.approx(1.0) and graph.winner == 3
    assert graph.ordering()[0] == 3


def test_weights_move_an_edge_but_the_minimum_votes_counts_people() -> None:
    # three fresh accounts (weight 0.1 each) say yes on 1→2: three people judged the pair, so it has enough
    # votes; for = 0.3, n = 0.3, ℓ = (0.3 + 1) / (0.3 + 2)
    fresh = [Vote(1, 2, "yes", 0.1, voter=f"fresh{i}") for i in range(3)]
    e = edge_of(aggregate([1, 2], fresh), 1, 2)
    assert (e.voters, e.votes, e.endorse) == (3, pytest.approx(0.3), pytest.approx(0.3))
    assert e.status == "kept" and e.likelihood == pytest.approx(1.3 / 2.3)
    # two established annotators are still too few people, however much they weigh
    assert edge_of(aggregate([1, 2], [Vote(1, 2, "yes", 1.0, "a"), Vote(1, 2, "yes", 1.0, "b")]), 1, 2).voters == 2
    assert edge_of(aggregate([1, 2], [Vote(1, 2, "yes", 1.0), Vote(1, 2, "yes", 1.0)]), 1, 2).status == (
        "too_few_votes"
    )


def test_ten_fresh_accounts_do_not_outvote_three_established_annotators() -> None:
    # 3 established yes on 2→1 (weight 1) and 10 fresh yes on 1→2 (weight 0.1)
    established = [Vote(2, 1, "yes", 1.0, voter=f"old{i}") for i in range(3)]
    fresh = [Vote(1, 2, "yes", 0.1, voter=f"new{i}") for i in range(10)]
    weighted = aggregate([1, 2], established + fresh)
    down, up = edge_of(weighted, 2, 1), edge_of(weighted, 1, 2)
    # 2→1: for 3, against 1.0 (the fresh yes on 1→2), n = 4, 13 people; f = 0.75, H(0.75) = 0.8113 ≤ 0.95
    assert (down.endorse, down.against, down.voters) == (3.0, pytest.approx(1.0), 13)
    assert down.likelihood == pytest.approx(4 / 6) and down.entropy == pytest.approx(0.8113, abs=1e-4)
    assert down.status == "kept" and up.status == "not_endorsed" and weighted.winner == 1
    # had every account weighed the same, the ten would have won: 1→2 for 10, against 3, H(10/13) = 0.779
    unweighted = aggregate([1, 2], [Vote(v.from_id, v.to_id, v.answer, 1.0, v.voter) for v in established + fresh])
    assert edge_of(unweighted, 1, 2).status == "kept" and unweighted.winner == 2


def test_one_person_has_one_vote_per_pair_whichever_way_it_was_shown() -> None:
    with pytest.raises(ValueError, match="one person one vote per pair"):
        aggregate([1, 2], [Vote(1, 2, "yes", 1.0, "ann"), Vote(2, 1, "no", 1.0, "ann")])
    both = aggregate([1, 2, 3], [Vote(1, 2, "yes", 1.0, "ann"), Vote(2, 3, "yes", 1.0, "ann")])
    assert [e.voters for e in both.edges] == [1, 1, 1, 1]


def test_the_graph_is_reproducible_from_its_votes_in_any_order() -> None:
    cast = votes((1, 2, "yes", 4), (2, 3, "yes", 3), (3, 1, "no", 2), (1, 3, "not_sure", 1))
    first, again = aggregate([1, 2, 3], cast), aggregate([3, 2, 1], list(reversed(cast)))
    assert first.to_json() == again.to_json()
    assert first.votes_digest == votes_digest(cast) != votes_digest(cast[1:])


def test_bad_votes_are_refused() -> None:
    with pytest.raises(ValueError, match="answer"):
        aggregate([1, 2], [Vote(1, 2, "maybe")])
    with pytest.raises(ValueError, match="another"):
        aggregate([1], [Vote(1, 1, "yes")])
    for weight in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="weight"):
            aggregate([1, 2], [Vote(1, 2, "yes", weight)])


def test_an_empty_context_has_no_graph_to_speak_of() -> None:
    graph = aggregate([], [])
    assert graph.rank == {} and graph.winner is None
    assert pagerank({}, 0.85) == {}
