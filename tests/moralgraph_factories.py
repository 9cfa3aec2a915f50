"""Test helpers for the moral graph: a word-overlap embedder standing in for MiniLM, and cards, people and
votes made through the domain's own calls."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

STOP = {"the", "and", "for", "when", "what", "that", "they", "their", "them", "with", "someone", "this"}

GRIEF = [
    "MOMENTS when they want to talk about the person they lost",
    "CHANCES to sit with them in silence without fixing anything",
    "SIGNS that they need practical help with meals or errands",
]
GRIEF_AGAIN = [  # the same value in slightly other words: merges with GRIEF
    "MOMENTS when they want to talk about the person they lost",
    "CHANCES to sit with them in silence without fixing anything at all",
    "SIGNS that they need practical help with meals and errands",
]
ADVICE = [
    "STEPS they could take to move on with their life",
    "BOOKS or courses about coping that could help",
    "GOALS that would give their days structure again",
]
RITUAL = [
    "TRADITIONS of mourning their family keeps",
    "PRAYERS or rituals that give the loss a place",
    "ELDERS who could guide them through the customs",
]
HUMOUR = [
    "STORIES about the dead that make everyone laugh",
    "LIGHT moments that let them breathe between tears",
    "JOKES the lost person loved to tell",
]
VALUES = {
    "Being there": ("Staying close to a grieving person.", GRIEF),
    "Practical advice": ("Helping them get back on their feet.", ADVICE),
    "Honouring the rites": ("Respecting how their family mourns.", RITUAL),
    "Shared laughter": ("Remembering with warmth and humour.", HUMOUR),
}


def words(texts: list[str] | tuple[str, ...]) -> np.ndarray:
    """A stand-in for MiniLM: hashed counts of the longer words, so similarity is word overlap."""
    out = np.zeros((len(texts), 512))
    for i, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            if len(word) > 2 and word not in STOP:
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 511 + 1] += 1
    out[:, 0] = 0.01
    return out


def person(services: Any) -> str:
    return services.accounts.create().id


def grief_context(services: Any) -> int:
    return next(c.id for c in services.moralgraph.contexts() if c.text == "when someone is grieving")


def four_values(services: Any, context_id: int) -> dict[str, int]:
    """Four people's cards in the context: four distinct canonical cards, by title."""
    made = {}
    for title, (description, policies) in VALUES.items():
        card = services.moralgraph.create_card(person(services), context_id, title, description, policies)
        made[title] = card.canonical.id
    return made


def stories_upward(services: Any, prefer: list[int]) -> None:
    """Someone tells the story of every move up `prefer` (least to most wise): those directions are shown."""
    writer = person(services)
    for i, low in enumerate(prefer):
        for high in prefer[i + 1 :]:
            services.moralgraph.propose_transition(writer, low, high, f"Someone moved from {low} to {high} and grew.")


def judge_all(services: Any, who: str, context_id: int, prefer: list[int]) -> int:
    """The person judges every pair of the context, saying yes exactly when the move goes up `prefer` (a list
    of canonical ids, least to most wise); how many votes they cast."""
    cast = 0
    while (shown := services.moralgraph.next_transition(who, context_id)) is not None:
        better = prefer.index(shown.to_value.id) > prefer.index(shown.from_value.id)
        services.moralgraph.vote(who, shown.id, "yes" if better else "no")
        cast += 1
    return cast
