"""Prompt-driven selection: units that match a description ("posts where someone is bullied"), found by
embedding search with the evaluator's backbone.

Texts and the query are embedded in the *original* all-MiniLM-L6-v2 space (the evaluator's fine-tuned
embedding mapped back by its ridge map, `evaluate.calibrate.reconstruct`: one forward pass, and
similarity means what MiniLM was trained for), and ranked by cosine similarity. Units are embedded on
demand, at most `MAX_SCAN` per search (the project's first ones, by id); a larger corpus is searched
in parts or imported into smaller projects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MAX_SCAN = 50_000
MAX_QUERY_CHARS = 500
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Match:
    unit_id: int
    text: str
    score: float


def evaluator_embedder(evaluator: object) -> Embed:
    """MiniLM embeddings (original space) from the evaluator's single forward pass."""
    from valueprint.evaluate.calibrate import reconstruct

    def embed(texts: Sequence[str]) -> np.ndarray:
        fine_tuned = evaluator.encoder.embed(list(texts))  # type: ignore[attr-defined]
        return reconstruct(fine_tuned, evaluator.artefact.arrays["ridge"])  # type: ignore[attr-defined]

    return embed


def rank(embed: Embed, query: str, units: Sequence[tuple[int, str]], top: int, min_score: float = -1.0) -> list[Match]:
    """The `top` units most similar to the query, best first (cosine similarity ≥ `min_score`)."""
    if not units:
        return []
    vectors = embed([query, *(text for _, text in units)])
    vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores, kind="stable")[:top]
    return [Match(units[i][0], units[i][1], round(float(scores[i]), 4)) for i in order if scores[i] >= min_score]
