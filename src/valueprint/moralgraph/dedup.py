"""Near-duplicate values cards into canonical cards, by embedding similarity.

A card is compared as one passage (title, description and policies: `cards.card_text`) in the original
all-MiniLM-L6-v2 space (the evaluator's encoder mapped back by its ridge map, one forward pass, as
`annotate.select` does). A new card joins the canonical card of its context it is most similar to when
the cosine similarity reaches `threshold`; otherwise it starts a canonical card of its own, and the most
similar one above `threshold - SUGGEST_BELOW` is offered to its author as a possible merge. Either way
the author can override (`service.MoralGraph.split_card` / `merge_card`), and every decision is kept.

`group` runs the same rule over a list of cards in order (the benchmark's deduplication).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any

import numpy as np
from cachetools import LRUCache

Embed = Callable[[Sequence[str]], np.ndarray]
SUGGEST_BELOW = 0.15  # a canonical card this much less similar than the threshold is still suggested
CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Placement:
    """Where a new card goes: into `canonical_id` (merged) or a canonical card of its own (None), and the
    nearest other canonical card offered to its author (`suggestion`)."""

    canonical_id: int | None
    similarity: float | None
    suggestion: int | None = None
    suggestion_similarity: float | None = None


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9, None)


def place(vector: np.ndarray, candidates: Sequence[tuple[int, np.ndarray]], threshold: float) -> Placement:
    """The rule for one new card against the canonical cards of its context, given as (id, vector)."""
    if not candidates:
        return Placement(None, None)
    ids = [cid for cid, _ in candidates]
    similarities = unit(np.stack([v for _, v in candidates])) @ unit(vector)
    best = int(np.argmax(similarities))
    score = round(float(similarities[best]), 4)
    if score >= threshold:
        return Placement(ids[best], score)
    if score >= threshold - SUGGEST_BELOW:
        return Placement(None, None, ids[best], score)
    return Placement(None, None)


def group(vectors: np.ndarray, threshold: float) -> list[int]:
    """Cards in order, each merged into the most similar earlier group (its first card) or a new one: the
    group index of each card."""
    groups: list[int] = []
    heads: list[tuple[int, np.ndarray]] = []
    for vector in unit(vectors):
        placed = place(vector, heads, threshold)
        if placed.canonical_id is None:
            heads.append((len(heads), vector))
            groups.append(len(heads) - 1)
        else:
            groups.append(placed.canonical_id)
    return groups


class CachedEmbedder:
    """An embedder that remembers the vectors of texts it has seen (canonical cards are compared often)."""

    def __init__(self, embed: Embed, size: int = CACHE_SIZE) -> None:
        self.embed = embed
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=size)
        self._lock = Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = np.asarray(self.embed(missing))
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                    known[text] = vector
        if not texts:
            return np.zeros((0, 1))
        return np.stack([known[t] for t in texts])


def evaluator_embedder(evaluator: Any) -> Embed:
    """MiniLM embeddings in the original space, from the evaluator's single forward pass."""
    from valueprint.evaluate.calibrate import reconstruct

    def embed(texts: Sequence[str]) -> np.ndarray:
        return reconstruct(evaluator.encoder.embed(list(texts)), evaluator.artefact.arrays["ridge"])

    return embed
