"""Sanitisation: personal data in a text replaced by typed placeholders, before any person sees it.

`Sanitiser().sanitise(text)` returns the text with each piece of personal data replaced by
`[PERSON]`, `[EMAIL]`, `[PHONE]`, `[ADDRESS]`, `[ID]` (national IDs, passport-like numbers,
IBANs), `[CARD]` (payment cards that pass the Luhn check), `[URL]` (any URL but a bare
well-known domain) or `[IP]`, and the entities found, each with its type, its offsets in the
ORIGINAL text (Python string indices) and its replacement. Nothing else in the text changes:
no HTML escaping (templates escape on output), no normalisation, control characters kept.

Patterns come from Presidio on a blank spaCy pipeline (`pii/patterns.py`); person names from
a small head over the frozen MiniLM encoder (`pii/names.py`), loaded on first use. Nothing is
downloaded, ever. Overlapping findings become one entity spanning them all, so no fragment of a
longer item survives (an e-mail's domain, an IBAN's digits), typed by the longest pattern finding
among them: a person name (the least certain finding) types it only when no pattern overlaps it.

The result is a fixed point: the sanitised text is sanitised again (at most `PASSES` times in
all) until nothing new is found, because a replacement changes the context a name is read in.
So `sanitise(sanitise(x).text).text == sanitise(x).text`. Long texts are read in overlapping
chunks, so any length works, in time proportional to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from valueprint.annotate.pii import patterns
from valueprint.annotate.pii.names import PersonNameFinder, default_finder

EntityType = Literal["PERSON", "EMAIL", "PHONE", "ADDRESS", "ID", "CARD", "URL", "IP"]
ENTITY_TYPES: tuple[EntityType, ...] = ("PERSON", "EMAIL", "PHONE", "ADDRESS", "ID", "CARD", "URL", "IP")
# When overlapping findings are equally long, the earlier type names the merged entity.
PRIORITY: tuple[EntityType, ...] = ("EMAIL", "CARD", "ID", "IP", "URL", "PHONE", "ADDRESS", "PERSON")
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(ENTITY_TYPES) + r")\]")
CHUNK = 20_000  # characters read at a time ...
OVERLAP = 400  # ... overlapping by more than any single item is long
PASSES = 3
MIN_PHONE_DIGITS = 7  # phonenumbers' loosest mode also matches "742" or "10"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Entity:
    """A piece of personal data: `text[start:end]` of the original text became `replacement`."""

    type: EntityType
    start: int
    end: int
    replacement: str
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class Sanitised:
    """The sanitised text and what was replaced in it, in order of position."""

    text: str
    entities: tuple[Entity, ...]


def placeholder(kind: EntityType) -> str:
    return f"[{kind}]"


class Sanitiser:
    """Replaces personal data with typed placeholders. Thread-safe; reuse one instance.

    `names=False` leaves person names to the caller (pattern recognisers only, no MiniLM)."""

    def __init__(self, names: PersonNameFinder | bool = True) -> None:
        self._names = names

    @property
    def names(self) -> PersonNameFinder | None:
        if self._names is True:
            self._names = default_finder()
        return self._names or None

    def sanitise(self, text: str) -> Sanitised:
        """`text` with personal data replaced; offsets in the returned entities index `text`."""
        entities: list[Entity] = []
        current = text
        for _ in range(PASSES):
            found = self._find(current)
            if not found:
                break
            entities = _merge([*entities, *_to_original(found, entities)])
            current = apply(text, entities)
        return Sanitised(current, tuple(entities))

    def sanitise_many(self, texts: Iterable[str]) -> list[Sanitised]:
        return [self.sanitise(text) for text in texts]

    def _find(self, text: str) -> list[Entity]:
        """Every finding in `text` (already sanitised text included), placeholders left alone."""
        readable = _SURROGATE.sub("\ufffd", text)  # same length: offsets unchanged
        found: list[Entity] = []
        for offset, chunk in _chunks(readable):
            for kind, start, end, score in patterns.find(chunk):
                if kind == "PHONE" and sum(c.isdigit() for c in chunk[start:end]) < MIN_PHONE_DIGITS:
                    continue
                found.append(Entity(kind, offset + start, offset + end, placeholder(kind), score))
            if self.names is not None:
                for span in self.names.find(chunk):
                    found.append(Entity("PERSON", offset + span.start, offset + span.end, "[PERSON]", span.score))
        protected = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
        found = [e for e in found if not any(e.start < hi and lo < e.end for lo, hi in protected)]
        return _merge(found)


def _chunks(text: str) -> Iterable[tuple[int, str]]:
    if len(text) <= CHUNK:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        if end < len(text):  # cut at whitespace where there is some, so no word is split
            space = text.rfind(" ", start + CHUNK - OVERLAP, end)
            end = space if space > start else end
        yield start, text[start:end]
        if end >= len(text):
            break
        start = max(start + 1, end - OVERLAP)


def _merge(entities: Sequence[Entity]) -> list[Entity]:
    """Overlapping entities joined into one spanning them all, typed by the longest pattern finding (a
    person name only when it overlaps none)."""
    merged: list[Entity] = []
    group: list[Entity] = []

    def close() -> None:
        if not group:
            return
        best = min(group, key=lambda e: (e.type == "PERSON", -(e.end - e.start), PRIORITY.index(e.type)))
        start, end = min(e.start for e in group), max(e.end for e in group)
        merged.append(Entity(best.type, start, end, placeholder(best.type), max(e.score for e in group)))
        group.clear()

    for entity in sorted(entities, key=lambda e: (e.start, -e.end)):
        if group and entity.start >= max(e.end for e in group):
            close()
        group.append(entity)
    close()
    return merged


def apply(text: str, entities: Sequence[Entity]) -> str:
    """`text` with each entity (sorted, not overlapping) replaced by its placeholder."""
    parts, at = [], 0
    for entity in entities:
        parts.append(text[at : entity.start])
        parts.append(entity.replacement)
        at = entity.end
    parts.append(text[at:])
    return "".join(parts)


def _to_original(found: Sequence[Entity], earlier: Sequence[Entity]) -> list[Entity]:
    """Entities found in the sanitised text, with offsets moved back into the original text.
    (They never overlap a placeholder, so each lies in text that was kept as it was.)"""
    moved = []
    for entity in found:
        shift = 0  # how much longer the sanitised text is than the original, up to the entity
        for previous in earlier:
            if previous.start + shift >= entity.start:  # that placeholder comes after the entity
                break
            shift += len(previous.replacement) - (previous.end - previous.start)
        moved.append(Entity(entity.type, entity.start - shift, entity.end - shift, entity.replacement, entity.score))
    return moved
