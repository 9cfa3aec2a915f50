r"""From stored "wiser than" votes to a graph per context: edge likelihoods, the edges kept, PageRank, the winner.

A pure function of the votes and three parameters: the same votes always give the same graph, and anyone
holding the exported votes can recompute it (`votes_digest` names the input).

**Votes.** A vote answers "did this person become wiser?" for a transition shown as A → B: yes, no or not
sure. One person has one vote per pair {A, B}, whichever way it was shown (the store keeps the latest;
`Vote.voter`, where given, makes this function refuse a second). Each vote carries a weight w, stored with it
when it is cast (`voting.vote_weight`), from the voter's annotation karma k at that moment (`annotate.karma`):

    w = 0.1 + 0.9 · min(1, max(0, k) / 6)           (`karma.weight`: FRESH_WEIGHT 0.1, FULL_KARMA 6)

so a fresh account (no annotation karma history, or none above 0) weighs 0.1 of an established annotator
(karma 6 or more, weight 1), and a weight grows linearly in between; a vote keeps the weight it was cast
with until its voter answers on the pair again. Weights decide how much a vote moves an edge; whether a
pair has been judged enough counts people, not weight.
For a pair of canonical cards {A, B} of one context:

    Y(A→B) = Σ w of "yes" on A→B          N(A→B) = Σ w of "no" on A→B
    U{A,B} = Σ w of "not sure" on A→B or B→A
    n{A,B} = Y(A→B) + N(A→B) + Y(B→A) + N(B→A) + U{A,B}        (the weight of everyone who judged the pair)
    v{A,B} = the number of people who judged the pair            (each counts 1, whatever their weight)

**An endorsement of A→B counts against B→A** (and a "no" on A→B counts against A→B, but for nothing):

    for(A→B)     = Y(A→B)
    against(A→B) = N(A→B) + Y(B→A)

**Edge likelihood**: the share of the pair's judges who endorse the move, with one pseudo-vote each way
(Laplace, each of the weight of an established annotator), so that one vote is never certainty and "not
sure" dilutes it (a pair judged only by fresh accounts stays near ½: their 0.1 each moves it little):

    ℓ(A→B) = (for(A→B) + 1) / (n{A,B} + 2)

**Contested edges**: the binary entropy (bits) of the decided votes,

    f = for / (for + against),      H(A→B) = −f·log₂ f − (1−f)·log₂(1−f)

**An edge A→B is kept** iff v{A,B} ≥ m (minimum votes: distinct voters, default 3; a fresh account's 0.1
counts as one voter here, so weighting never keeps a pair from being judged), for(A→B) > against(A→B) and
H(A→B) ≤ h (default 0.95 bits: the majority holds at least about 62% of the decided votes).

**PageRank per context** over the kept edges, weighted by likelihood: a value passes to each wiser value the
share ℓ of judges who endorsed that move, and keeps the rest (a self-loop), with its out-weights scaled to
sum to at most one:

    P(A→B) = ℓ(A→B) / max(1, Σ_C ℓ(A→C)),      P(A→A) = 1 − Σ_B P(A→B)
    r = (1 − d)/N · 𝟙 + d · Pᵀ r,      d = 0.85,      Σ r = 1

computed by `networkx.pagerank` (every row of P sums to one, so no node dangles). A value nobody judged
keeps 1/N; a value people moved to gathers more.

**The winning value** of a context is the one with the highest r among the values with at least one kept
edge into them (ties: the lower id); a context without a kept edge has no winner.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Answer = Literal["yes", "no", "not_sure"]
ANSWERS: tuple[str, ...] = ("yes", "no", "not_sure")
DEFAULT_MIN_VOTES = 3.0
DEFAULT_MAX_ENTROPY = 0.95
DEFAULT_DAMPING = 0.85
PAGERANK_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Vote:
    """One stored vote, as the formula reads it."""

    from_id: int
    to_id: int
    answer: str
    weight: float = 1.0
    voter: str | None = None  # who cast it, where known: a second vote of theirs on the pair is refused


@dataclass(frozen=True)
class Parameters:
    min_votes: float = DEFAULT_MIN_VOTES
    max_entropy: float = DEFAULT_MAX_ENTROPY
    damping: float = DEFAULT_DAMPING


@dataclass(slots=True)  # not frozen: a large graph makes hundreds of thousands, and frozen ones build slowly
class Edge:
    """A directed edge A→B with the figures of the formula, and whether (or why not) it is kept."""

    from_id: int
    to_id: int
    endorse: float  # for(A→B)
    against: float
    unsure: float
    votes: float  # n{A,B}, weighted
    voters: int  # v{A,B}, people
    likelihood: float
    entropy: float
    kept: bool
    status: str  # kept, too_few_votes, contested, not_endorsed

    def as_dict(self) -> dict[str, Any]:
        """Its fields (a shallow copy: `dataclasses.asdict` deep-copies, which costs more than the formula)."""
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass
class Graph:
    """One context's graph: every value, every judged edge (both ways), the PageRank and the winner."""

    nodes: list[int]
    edges: list[Edge]
    rank: dict[int, float]
    winner: int | None
    parameters: Parameters
    votes: int
    votes_digest: str
    incoming: dict[int, int] = field(default_factory=dict)  # kept edges into each value

    @property
    def kept(self) -> list[Edge]:
        return [e for e in self.edges if e.kept]

    def ordering(self) -> list[int]:
        """The values from the most to the least endorsed (PageRank, then id)."""
        return sorted(self.nodes, key=lambda n: (-self.rank[n], n))

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "rank": {str(n): round(r, 6) for n, r in self.rank.items()},
            "winner": self.winner,
            "edges": [e.as_dict() for e in self.edges],
            "parameters": asdict(self.parameters),
            "votes": self.votes,
            "votes_digest": self.votes_digest,
        }


def binary_entropy(share: float) -> float:
    """H(f) in bits; 0 at f = 0 or 1."""
    if share <= 0.0 or share >= 1.0:
        return 0.0
    return -share * math.log2(share) - (1.0 - share) * math.log2(1.0 - share)


def votes_digest(votes: Iterable[Vote]) -> str:
    """SHA-256 of the votes in a canonical order: names exactly what a graph was computed from."""
    rows = sorted(f"{v.from_id}>{v.to_id}:{v.answer}:{v.weight:.6f}" for v in votes)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


Tallies = dict[tuple[int, int], dict[str, float]]


def tally(votes: Iterable[Vote]) -> Tallies:
    """Per ordered pair (A, B): the weights of yes, no and not sure shown as A→B, and under "voters" how many
    people answered it that way round."""
    counts: Tallies = defaultdict(lambda: dict.fromkeys((*ANSWERS, "voters"), 0.0))
    seen: set[tuple[str, int, int]] = set()
    for vote in votes:
        if vote.answer not in ANSWERS:
            raise ValueError(f"a vote's answer is one of {ANSWERS}, not {vote.answer!r}")
        if vote.from_id == vote.to_id:
            raise ValueError("a transition goes from one card to another")
        if not vote.weight > 0 or not math.isfinite(vote.weight):
            raise ValueError(f"a vote's weight is a positive number, not {vote.weight!r}")
        if vote.voter is not None:
            key = (vote.voter, min(vote.from_id, vote.to_id), max(vote.from_id, vote.to_id))
            if key in seen:
                raise ValueError(f"one person one vote per pair: {vote.voter!r} voted twice on {key[1:]}")
            seen.add(key)
        tallies = counts[(vote.from_id, vote.to_id)]
        tallies[vote.answer] += vote.weight
        tallies["voters"] += 1
    return counts


NONE_SHOWN: dict[str, float] = dict.fromkeys((*ANSWERS, "voters"), 0.0)  # read only: a direction nobody saw


def edge(a: int, b: int, counts: Tallies, parameters: Parameters) -> Edge:
    """The figures of A→B from the pair's tallies (see the module's formula)."""
    ab, ba = counts.get((a, b), NONE_SHOWN), counts.get((b, a), NONE_SHOWN)
    endorse, against = ab["yes"], ab["no"] + ba["yes"]
    unsure = ab["not_sure"] + ba["not_sure"]
    votes = ab["yes"] + ab["no"] + ba["yes"] + ba["no"] + unsure
    voters = int(ab["voters"] + ba["voters"])
    likelihood = (endorse + 1.0) / (votes + 2.0)
    decided = endorse + against
    entropy = binary_entropy(endorse / decided) if decided > 0 else 0.0
    if voters < parameters.min_votes:
        status = "too_few_votes"
    elif endorse <= against:
        status = "not_endorsed"
    elif entropy > parameters.max_entropy:
        status = "contested"
    else:
        status = "kept"
    return Edge(a, b, endorse, against, unsure, votes, voters, likelihood, entropy, status == "kept", status)


def transition_weights(kept: list[Edge], nodes: list[int]) -> dict[int, dict[int, float]]:
    """P as {A: {B: P(A→B), A: P(A→A)}}: likelihood-weighted, at most one out of each value, the rest kept."""
    weights: dict[int, dict[int, float]] = {n: {} for n in nodes}
    for e in kept:
        weights[e.from_id][e.to_id] = e.likelihood
    for node, out in weights.items():
        total = sum(out.values())
        scale = max(1.0, total)
        for target in out:
            out[target] /= scale
        stay = 1.0 - sum(out.values())
        if stay > 1e-12:
            out[node] = stay
    return weights


def pagerank(weights: dict[int, dict[int, float]], damping: float) -> dict[int, float]:
    """networkx's PageRank over P (uniform teleport)."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(weights)
    graph.add_weighted_edges_from((a, b, w) for a, out in weights.items() for b, w in out.items())
    if graph.number_of_nodes() == 0:
        return {}
    return nx.pagerank(graph, alpha=damping, weight="weight", tol=PAGERANK_TOLERANCE, max_iter=10_000)


def aggregate(nodes: Iterable[int], votes: Iterable[Vote], parameters: Parameters | None = None) -> Graph:
    """The graph of one context from its values (canonical card ids) and their votes."""
    parameters = parameters or Parameters()
    votes = list(votes)
    counts = tally(votes)
    every = sorted(set(nodes) | {n for pair in counts for n in pair})
    pairs = sorted({(min(a, b), max(a, b)) for a, b in counts})
    edges = [edge(a, b, counts, parameters) for low, high in pairs for a, b in ((low, high), (high, low))]
    kept = [e for e in edges if e.kept]
    rank = pagerank(transition_weights(kept, every), parameters.damping)
    incoming: dict[int, int] = defaultdict(int)
    for e in kept:
        incoming[e.to_id] += 1
    endorsed = [n for n in every if incoming[n] > 0]
    winner = min(endorsed, key=lambda n: (-rank[n], n)) if endorsed else None
    return Graph(every, edges, rank, winner, parameters, len(votes), votes_digest(votes), dict(incoming))
