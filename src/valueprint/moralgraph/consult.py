"""The chat consults the graph: which context a prompt is in, and what the graph says there.

A prompt is in the context whose text is most similar to it (MiniLM cosine similarity ≥
`moralgraph_context_similarity`), among the contexts that have votes (a context without votes has no
graph to say anything). Then:

- the person wrote a card for that context (and shares it, scope `wisdom`): their own card speaks, already
  in their précis, so the graph adds nothing (`used: "own_card"`);
- else the person's profile is silent there, and the graph's winning value for the context, if it has
  one, becomes a system message (`used: "winning_value"`); without a winner nothing is added (`used: "none"`).

The chat's `valueprint.notes.moral_graph` says which, so a reply never draws on the graph silently.
No vote anywhere: nothing is embedded and nothing is consulted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import select

from valueprint.moralgraph import graphs
from valueprint.moralgraph.base import GraphBase
from valueprint.moralgraph.schemas import ValueView
from valueprint.store.models import MoralContext, WiserVote

Used = Literal["winning_value", "own_card", "none"]


@dataclass(frozen=True)
class Consultation:
    context_id: int | None
    context: str | None
    similarity: float
    used: Used
    value: dict[str, Any] | None = None
    reason: str = ""

    @property
    def instruction(self) -> str | None:
        """The system message to add to the conversation (only for a winning value)."""
        if self.used != "winning_value" or self.value is None:
            return None
        return (
            f"In situations like this one ({self.context}), the people who built valueprint's moral graph judged "
            f"this the wisest thing to attend to: {self.value['title']}: {self.value['description']} "
            f"Pay attention to: {'; '.join(self.value['policies'])}."
        )

    def notes(self) -> dict[str, Any]:
        return {"consulted": True, **asdict(self)}


def similarities(prompts: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """Cosine similarities, one row per prompt vector, one column per context vector."""

    def unit(vectors: np.ndarray) -> np.ndarray:
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)

    return unit(prompts) @ unit(contexts).T


def closest(scores: np.ndarray, threshold: float) -> tuple[int | None, float]:
    """The most similar context's index if its similarity (rounded to 4 places) reaches `threshold`, and
    that similarity (`bench moralgraph` measures detection with this same rule)."""
    best = int(np.argmax(scores))
    similarity = round(float(scores[best]), 4)
    return (best if similarity >= threshold else None), similarity


class Consulting(GraphBase):
    """The graph's consultation, a part of `service.MoralGraph`."""

    def _voted_contexts(self) -> list[tuple[int, str]]:
        with self.db.session() as session:
            voted = select(WiserVote.context_id).distinct()
            rows = session.execute(select(MoralContext.id, MoralContext.text).where(MoralContext.id.in_(voted)))
            return [(cid, text) for cid, text in rows]

    def detect(self, prompt: str, contexts: list[tuple[int, str]]) -> tuple[tuple[int, str] | None, float]:
        """The context most similar to the prompt, if similar enough, and its similarity."""
        vectors = self.embed([prompt, *(text for _, text in contexts)])
        best, similarity = closest(
            similarities(vectors[:1], vectors[1:])[0], self.settings.moralgraph_context_similarity
        )
        return (contexts[best] if best is not None else None), similarity

    def consult_graph(self, prompt: str, own_context_ids: set[int]) -> Consultation | None:
        contexts = self._voted_contexts()
        prompt = prompt.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be embedded
        if not contexts or not prompt.strip():
            return None
        found, similarity = self.detect(prompt, contexts)
        if found is None:
            return Consultation(None, None, similarity, "none", reason="the prompt is in no context of the graph")
        context_id, text = found
        if context_id in own_context_ids:
            reason = "the person's own values card for this context speaks (in their précis)"
            return Consultation(context_id, text, similarity, "own_card", reason=reason)
        with self.db.session() as session:
            winner: ValueView | None = graphs.winner_of(session, context_id, self.parameters)
        if winner is None:
            return Consultation(context_id, text, similarity, "none", reason="this context has no winning value yet")
        value = {"id": winner.id, "title": winner.title, "description": winner.description, "policies": winner.policies}
        reason = "the person's profile is silent on this context, so the graph's winning value guided the reply"
        return Consultation(context_id, text, similarity, "winning_value", value, reason)
