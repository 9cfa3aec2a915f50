"""The sanitiser hook: every unit's text passes a `Sanitiser` before it is stored for people to see.

The real sanitiser lives in `valueprint.annotate.sanitize` (class `Sanitiser`, built without
arguments). This module only states the protocol and loads it; there is deliberately no fallback:
without the sanitiser, nothing is imported (`MissingDependencyError`), so raw personal data can
never reach an annotator. Tests hand a double to `Annotate(sanitiser_factory=...)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from valueprint.errors import MissingDependencyError

SANITISER_MODULE = "valueprint.annotate.sanitize"
ENTITY_TYPE_ATTRIBUTES = ("type", "kind", "entity_type", "label")


@dataclass(frozen=True)
class Sanitised:
    """Text with personal data replaced by typed placeholders (`[PERSON]`), and what was replaced.

    `entities`: one per replacement, with a type (`type`, `kind`, `entity_type` or `label`) and
    `start`/`end` offsets; only those are stored, never the replaced text."""

    text: str
    entities: Sequence[Any] = field(default_factory=list)


@runtime_checkable
class Sanitiser(Protocol):
    """Anything with `sanitise(text) -> Sanitised` (any object with `text` and `entities` will do)."""

    def sanitise(self, text: str) -> Sanitised: ...


def load_sanitiser() -> Sanitiser:
    """The product sanitiser (`valueprint.annotate.sanitize.Sanitiser()`); MissingDependencyError when the
    module, or a library it needs, is not installed. Building it may load recognisers (seconds)."""
    try:
        module = importlib.import_module(SANITISER_MODULE)
    except ModuleNotFoundError as error:
        if error.name == SANITISER_MODULE:
            raise MissingDependencyError(
                f"the PII sanitiser ({SANITISER_MODULE}) is not part of this build: nothing can be imported for "
                "annotation until it is, because annotators must never see unsanitised text"
            ) from error
        raise MissingDependencyError(
            f"the PII sanitiser needs {error.name!r}, which is not installed: pip install 'valueprint[ml]'"
        ) from error
    return module.Sanitiser()


def entity_record(entity: Any) -> dict[str, Any]:
    """What is stored of one replaced entity: its type and offsets, never its text."""
    get = entity.get if isinstance(entity, dict) else lambda name, default=None: getattr(entity, name, default)
    kind = next((get(name) for name in ENTITY_TYPE_ATTRIBUTES if get(name) is not None), "UNKNOWN")
    return {"type": str(kind), "start": get("start"), "end": get("end")}


def sanitise(sanitiser: Sanitiser, text: str) -> tuple[str, list[dict[str, Any]]]:
    """The sanitised text and its entity records (no side effects beyond the sanitiser's own)."""
    result = sanitiser.sanitise(text)
    return str(result.text), [entity_record(entity) for entity in result.entities]
