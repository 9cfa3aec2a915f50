"""The guided interview that helps a person write a values card, and the upstream model's drafts.

Offline (always): `PROMPTS`, structured questions the page asks one after another; the person writes
the card in their own words, and similar policies other people wrote are offered beside each field
(the person copies one only by choosing it). Nothing the person types here is stored until they save.

With an OpenAI-compatible upstream (`VALUEPRINT_UPSTREAM_URL`), the interview can run as a chat: the model
asks the questions (`reply`), then drafts a card from the conversation (`draft_card`) or a transition's
story (`draft_story`). A draft is only ever a suggestion shown to the person in the form, to edit and save
or discard; a saved card or story records that a model drafted it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from valueprint.errors import CardError, EndpointResponseError
from valueprint.moralgraph.cards import Card, check_card, check_story, text_of

MAX_TURNS = 30
MAX_TURN_CHARS = 2000


@dataclass(frozen=True)
class Prompt:
    key: str
    question: str  # "{context}" is replaced by the context
    hint: str


PROMPTS = (
    Prompt(
        "moment",
        "Think of a time {context} that went well, yours or someone's you watched. What happened?",
        "A few sentences are enough; this stays in your browser and is not saved.",
    ),
    Prompt(
        "attention",
        "In that moment, what did you pay attention to that helped you choose well?",
        "Each thing you noticed can become a policy: MOMENTS when …, CHANCES for …, SIGNS that …",
    ),
    Prompt(
        "miss",
        "What would you be sorry to have missed, looking back?",
        "Things you would not want to overlook are policies too.",
    ),
    Prompt(
        "name",
        "Give this way of choosing a name and one line that says what it is about.",
        "The title and description of your card.",
    ),
)


class Upstream(Protocol):
    def complete(
        self, messages: list[dict[str, str]], max_tokens: int | None = None, temperature: float | None = None
    ) -> str: ...


def prompts_for(context: str) -> list[dict[str, str]]:
    return [{"key": p.key, "question": p.question.format(context=context), "hint": p.hint} for p in PROMPTS]


def _system(context: str) -> str:
    return (
        f"You help a person find what they pay attention to when they choose well {context}. Ask one short, "
        "open question at a time about a real experience of theirs. Never suggest values, never judge, and "
        "use their own words when you reflect them back."
    )


def checked_turns(messages: object) -> list[dict[str, str]]:
    """The conversation so far: user and assistant turns only, bounded; CardError otherwise."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_TURNS:
        raise CardError(f"send the interview as a list of 1 to {MAX_TURNS} turns")
    turns = []
    for turn in messages:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            raise CardError("each turn has a role (user or assistant) and its content")
        content = text_of(turn.get("content"), "each turn's content")
        if not content.strip() or len(content) > MAX_TURN_CHARS:
            raise CardError(f"each turn's content is 1 to {MAX_TURN_CHARS} characters of text")
        turns.append({"role": str(turn["role"]), "content": content.strip()})
    return turns


def reply(upstream: Upstream, context: str, messages: Sequence[dict[str, str]]) -> str:
    """The interviewer's next question."""
    return upstream.complete([{"role": "system", "content": _system(context)}, *messages], max_tokens=200).strip()


DRAFT_INSTRUCTION = (
    'Draft a values card from what the person said, as JSON only: {"title": "...", "description": "...", '
    '"policies": ["...", "..."]}. Three to seven policies; each one names something they attend to and starts '
    "with a capitalised word such as MOMENTS, CHANCES, SIGNS or WAYS. Use only what the person said, in their words."
)


def parse_card(text: str) -> Card:
    """The card in a model's reply (the first JSON object in it), checked like any card."""
    found = re.search(r"\{.*\}", text, flags=re.DOTALL)
    try:
        data: Any = json.loads(found.group(0)) if found else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise EndpointResponseError("the model did not answer with a card as JSON; ask it again or write the card")
    try:
        return check_card(data.get("title"), data.get("description"), data.get("policies"))
    except CardError as error:
        raise EndpointResponseError(
            f"the model's draft does not fit a values card ({error}); edit or write it"
        ) from error


def draft_card(upstream: Upstream, context: str, messages: Sequence[dict[str, str]]) -> Card:
    """A card drafted from the conversation, for the person to edit (never saved by this call)."""
    conversation = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
    asked = [
        {"role": "system", "content": _system(context)},
        {"role": "user", "content": f"The interview so far:\n{conversation}\n\n{DRAFT_INSTRUCTION}"},
    ]
    return parse_card(upstream.complete(asked, max_tokens=400, temperature=0.0))


def draft_story(upstream: Upstream, context: str, before: Card, after: Card) -> str:
    """A short story of someone moving from one value to another, for a person to edit (never saved here)."""
    asked = [
        {
            "role": "user",
            "content": (
                f"In three to five plain sentences, tell the story of one person who, {context}, used to attend "
                f"to {before.title} ({'; '.join(before.policies)}) and came to attend to {after.title} "
                f"({'; '.join(after.policies)}), and what made them change. No moral at the end."
            ),
        }
    ]
    text = upstream.complete(asked, max_tokens=300, temperature=0.7)
    try:
        return check_story(text)
    except CardError as error:
        raise EndpointResponseError(f"the model's story does not fit ({error}); write the story yourself") from error
