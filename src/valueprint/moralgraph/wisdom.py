"""A person's own values cards as précis sentences: "When someone is grieving, I attend to …".

Deterministic and short: the person's newest card per context, newest contexts first, at most
`MAX_CARDS` cards and `MAX_POLICIES` policies each, within `MAX_WORDS` words (cards are dropped from the
oldest end to fit). A policy's leading capitalised word ("MOMENTS when …") is written in lower case, so
the sentence reads as one; the words are otherwise the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from valueprint.values.precis import with_sentences

MAX_CARDS = 3
MAX_POLICIES = 3
MAX_WORDS = 60


@dataclass(frozen=True)
class OwnCard:
    context_id: int
    context: str  # "when someone is grieving"
    title: str
    policies: tuple[str, ...]


def _lowered(policy: str) -> str:
    first, _, rest = policy.partition(" ")
    if len(first) > 1 and first.isupper():
        first = first.lower()
    return f"{first} {rest}".strip().rstrip(".")


def sentence(card: OwnCard) -> str:
    situation = card.context[0].upper() + card.context[1:]
    return f"{situation}, I attend to " + "; ".join(_lowered(p) for p in card.policies[:MAX_POLICIES]) + "."


def newest_per_context(cards: list[OwnCard]) -> list[OwnCard]:
    """The first card of each context in a newest-first list, at most MAX_CARDS of them."""
    seen: set[int] = set()
    chosen = []
    for card in cards:
        if card.context_id not in seen:
            seen.add(card.context_id)
            chosen.append(card)
    return chosen[:MAX_CARDS]


def wisdom_text(cards: list[OwnCard]) -> str:
    """The sentences for a newest-first list of the person's cards; "" when they wrote none."""
    chosen = newest_per_context(cards)
    while chosen:
        text = " ".join(sentence(c) for c in chosen)
        if len(text.split()) <= MAX_WORDS:
            return text
        chosen = chosen[:-1]
    return ""


def with_wisdom(precis_text: str, wisdom: str) -> str:
    """The précis with the wisdom sentences before its closing safety line."""
    return with_sentences(precis_text, wisdom)


def from_view(cards: list[dict[str, Any]]) -> str:
    """The sentences for the cards of a registry view (scope `wisdom`, newest first)."""
    own = [OwnCard(int(c["context_id"]), str(c["context"]), str(c["title"]), tuple(c["policies"])) for c in cards]
    return wisdom_text(own)
