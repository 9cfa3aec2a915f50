"""Factories for the annotation tests: a sanitiser double, a clock, projects, files and annotators."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from valueprint.annotate.sanitize import Entity, Sanitised
from valueprint.annotate.service import Annotate
from valueprint.values.bank import LikertItem

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


class EmailOnlySanitiser:
    """A test double: replaces e-mail addresses with [EMAIL] (fast; the real sanitiser has its own tests)."""

    calls = 0

    def sanitise(self, text: str) -> Sanitised:
        type(self).calls += 1
        entities = tuple(Entity("EMAIL", m.start(), m.end(), "[EMAIL]") for m in EMAIL.finditer(text))
        return Sanitised(EMAIL.sub("[EMAIL]", text), entities)


class Clock:
    """A settable clock for the queue's reservations."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def annotate_for(services: Any, clock: Clock, reservation_s: int = 600) -> Annotate:
    """The services' annotation domain with the test sanitiser and clock (installed on `services`)."""
    services.annotate = Annotate(
        services.db,
        services.model.space,
        services.accounts.sealer,
        timedelta(seconds=reservation_s),
        sanitiser_factory=EmailOnlySanitiser,
        clock=clock,
    )
    return services.annotate


def project(annotate: Annotate, **fields: Any) -> str:
    spec = {"name": f"project {len(annotate.projects())}", "segmentation": "posts"} | fields
    return annotate.create_project(None, spec).id


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def posts(texts: list[str], licence: str = "CC-BY-4.0") -> list[dict[str, Any]]:
    return [{"text": text, "licence": licence} for text in texts]


def annotator(services: Any) -> str:
    """A participant who answered enough of the questionnaire to annotate (see `Services.annotator_profile`)."""
    return annotator_account(services).id


def annotator_account(services: Any) -> Any:
    """`annotator`, with the resume code to sign in with."""
    created = services.accounts.create()
    participant_id = created.id
    items = sorted((i for i in services.model.bank.items if isinstance(i, LikertItem)), key=lambda i: i.id)
    for item in items[: services.settings.quick_token_after]:
        services.accounts.record_answer(participant_id, item.id, 4)
    return created


LABELS = {"values": {"care": 1}, "acceptability": 4, "why": "kind", "custom": []}
