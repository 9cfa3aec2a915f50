"""JSON-ready views of domain objects, shared by the API and the HTML pages."""

from __future__ import annotations

from typing import Any

from valueprint.accounts.service import NextQuestion
from valueprint.values.bank import Item, LikertItem, ScenarioItem
from valueprint.values.personas import match_words, nearest_persona
from valueprint.values.precis import precis
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace


def item_view(item: Item) -> dict[str, Any]:
    view: dict[str, Any] = {"id": item.id, "kind": item.kind, "why": item.why}
    if isinstance(item, LikertItem):
        view.update(
            text=item.text,
            scale={
                "min": 1,
                "max": 5,
                "labels": ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"],
            },
        )
    elif isinstance(item, ScenarioItem):
        view.update(text=item.prompt, options=[{"key": o.key, "text": o.text} for o in item.options])
    else:
        view.update(
            text=item.prompt,
            x={"dimension": item.x_dim, "low": item.x_low, "high": item.x_high},
            y={"dimension": item.y_dim, "low": item.y_low, "high": item.y_high},
        )
    return view


def next_view(step: NextQuestion) -> dict[str, Any]:
    return {
        "done": step.item is None,
        "item": None if step.item is None else item_view(step.item),
        "answered": step.answered,
        "progress": round(step.progress, 3),
        "remaining": step.remaining,
    }


def result_view(profile: ValueProfile, space: ValueSpace, max_sd: float) -> dict[str, Any]:
    persona, distance = nearest_persona(profile, space)
    return {
        "profile": profile.model_dump(mode="json"),
        "persona": {
            "id": persona.id,
            "name": persona.name,
            "summary": persona.summary,
            "distance": round(distance, 3),
            "match": match_words(distance),
        },
        "precis": precis(profile, space, max_sd),
        "political": {"economic": profile.scores["economic"].mean, "social": profile.scores["social"].mean},
    }
