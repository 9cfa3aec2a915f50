"""Framing: open a reply with what the person cares about for this question, and let the model go on.

Side effects: the first call loads the sentence encoder (MiniLM, about a second) and embeds the
value space's openers once per process.

A small model told about a person in its system prompt mostly answers as it would anyway: blind
readers could not tell its précis-prompted replies from plain ones in most cases. Prefilling the
start of the assistant's turn is a stronger and cheaper lever: the reply opens with

    "Since you put the safety and stability of your household first and weigh what a choice
     means for your family,"

and the model continues that sentence, so what the reply weighs follows from what the person
values, and the person can see it does. The openers (`values/data/openers.toml`) are one
second-person clause per pole of every value dimension (manners of answering have none: the
précis carries them).

Which values open a reply, in two steps, with e the judge's frozen sentence encoder and
relevance(d) = max cos(e(prompt), e(t)) over the texts t that describe dimension d (its
description, its poles and both openers):

1. only a question that touches some value gets an opening: max over all value dimensions of
   relevance(d) ≥ MIN_VALUE_LADEN ("how do I boil an egg?" opens plainly: framing a question that
   touches no value would be noise, not personalisation);
2. among the dimensions the précis would mention (confident, away from the middle, not
   overridden by a boundary) whose relevance reaches MIN_RELEVANCE, the best MAX_VALUES by
   relevance(d) · |mean_d| open the reply.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from valueprint.values.guidance import load_openers, value_dims
from valueprint.values.precis import mentionable
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

Embed = Callable[[Sequence[str]], np.ndarray]  # L2-normalised sentence embeddings [n, d]
MAX_VALUES = 2
# Both thresholds were set by reading the similarities of everyday and value-laden questions written
# for tests/test_framing.py (everyday ones reached at most 0.19), never on benchmark prompts.
MIN_VALUE_LADEN = 0.2
MIN_RELEVANCE = 0.1
LEAD = "Since you"

_described: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}  # value-space version -> (dims, [dims, texts, d])
_lock = threading.Lock()


def _default_embed(texts: Sequence[str]) -> np.ndarray:
    from valueprint.judge.reader import embed

    return embed(texts)


def opener_sentence(clause: str) -> str:
    return f"{LEAD} {clause},"


def _dimension_texts(space: ValueSpace) -> dict[str, list[str]]:
    openers = load_openers(space)
    by_id = {d.id: d for d in space.dimensions}
    return {
        dim: [
            by_id[dim].description,
            by_id[dim].high,
            by_id[dim].low,
            opener_sentence(openers.of(dim).high),
            opener_sentence(openers.of(dim).low),
        ]
        for dim in value_dims(space)
    }


def _described_vectors(space: ValueSpace, embed: Embed) -> tuple[tuple[str, ...], np.ndarray]:
    """The value dimensions and their texts' embeddings [dims, texts, d], computed once per process."""
    with _lock:
        if embed is not _default_embed or space.version not in _described:
            texts = _dimension_texts(space)
            dims = tuple(texts)
            flat = embed([t for dim in dims for t in texts[dim]])
            vectors = flat.reshape(len(dims), -1, flat.shape[-1])
            if embed is not _default_embed:
                return dims, vectors
            _described[space.version] = (dims, vectors)
        return _described[space.version]


def relevance(space: ValueSpace, prompt: str, embed: Embed | None = None) -> dict[str, float]:
    """How much `prompt` is about each value dimension (max cosine to the texts describing it)."""
    embed = embed or _default_embed
    dims, vectors = _described_vectors(space, embed)
    question = embed([prompt])[0]
    return dict(zip(dims, (vectors @ question).max(axis=1).tolist(), strict=True))


def relevant_values(
    profile: ValueProfile, space: ValueSpace, prompt: str, max_sd: float = 0.35, embed: Embed | None = None
) -> list[tuple[str, float, float]]:
    """(dimension, mean, relevance) of the person's values that should open a reply to `prompt`, best first."""
    if not prompt.strip():
        return []
    related = relevance(space, prompt, embed)
    if max(related.values()) < MIN_VALUE_LADEN:
        return []
    scored = [
        (c.dim, profile.scores[c.dim].mean, related[c.dim])
        for c in mentionable(profile, space, max_sd)
        if c.dim in related and related[c.dim] >= MIN_RELEVANCE
    ]
    return sorted(scored, key=lambda s: -s[2] * abs(s[1]))[:MAX_VALUES]


def opening(
    profile: ValueProfile, space: ValueSpace, prompt: str, max_sd: float = 0.35, embed: Embed | None = None
) -> str | None:
    """The start of a reply to `prompt` that names what the person cares about here, or None."""
    chosen = relevant_values(profile, space, prompt, max_sd, embed)
    if not chosen:
        return None
    openers = load_openers(space)
    clauses = [openers.of(dim).for_mean(mean) for dim, mean, _ in chosen]
    return opener_sentence(", and you ".join(clauses))  # clauses may hold an "and" of their own
