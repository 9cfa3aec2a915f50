"""Which pair of values to show a person next, so that the graph fills evenly.

Every pair {A, B} of a context's canonical cards the person has not judged gets a score, the mean of three
parts in [0, 1]:

- popularity: (members(A) + members(B)) / (2 · most members of any card): values many people hold first;
- convergence: how close the pair is to being settled: n/m while it has fewer than m judges (so pairs
  near the minimum get finished), ½ while it is contested past the minimum, 0 once it is settled;
- sparsity: ½ · (1 / (1 + n) + 1 / (1 + the fewer judgements of A or B)): pairs and values few people
  judged, so no corner of the graph stays empty.

The highest score is shown (ties are broken by a hash of the person and the pair, so different people
see different pairs). Which way the transition is shown: the direction that has stories, else by the
same hash, so that neither direction is favoured across people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from valueprint.moralgraph.aggregate import Edge


@dataclass(frozen=True)
class Value:
    id: int
    members: int  # cards merged into it
    judged: float  # people who judged any pair it is part of


def _hash(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def convergence(edges: tuple[Edge, Edge] | None, min_votes: float) -> float:
    """How much another judgement helps settle the pair (its two directed edges)."""
    if edges is None:
        return 0.0
    voters = edges[0].voters  # the minimum counts people, whatever their weight
    if voters < min_votes:
        return voters / min_votes
    return 0.0 if any(e.kept for e in edges) or all(e.status == "not_endorsed" for e in edges) else 0.5


def score(a: Value, b: Value, edges: tuple[Edge, Edge] | None, most_members: int, min_votes: float) -> float:
    votes = edges[0].voters if edges else 0
    popularity = (a.members + b.members) / (2 * max(most_members, 1))
    sparsity = 0.5 * (1 / (1 + votes) + 1 / (1 + min(a.judged, b.judged)))
    return (popularity + convergence(edges, min_votes) + sparsity) / 3


def choose(
    values: list[Value],
    edges: Iterable[Edge],
    judged_by_person: set[tuple[int, int]],
    person: str,
    min_votes: float,
) -> tuple[int, int] | None:
    """The (low id, high id) pair to show the person next; None when they judged every pair."""
    by_pair: dict[tuple[int, int], list[Edge]] = {}
    for e in edges:
        by_pair.setdefault((min(e.from_id, e.to_id), max(e.from_id, e.to_id)), []).append(e)
    most = max((v.members for v in values), default=1)
    best: tuple[float, int, tuple[int, int]] | None = None
    ordered = sorted(values, key=lambda v: v.id)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            pair = (a.id, b.id)
            if pair in judged_by_person:
                continue
            found = by_pair.get(pair)
            both = (found[0], found[1]) if found and len(found) == 2 else None
            candidate = (score(a, b, both, most, min_votes), _hash(person, *pair), pair)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return None if best is None else best[2]


def direction(pair: tuple[int, int], stories: dict[tuple[int, int], int], person: str) -> tuple[int, int]:
    """(from, to) to show: the direction with more stories; when tied, by the person's hash."""
    low, high = pair
    up, down = stories.get((low, high), 0), stories.get((high, low), 0)
    if up != down:
        return (low, high) if up > down else (high, low)
    return (low, high) if _hash("direction", person, low, high) % 2 == 0 else (high, low)
