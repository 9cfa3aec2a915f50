"""The sanitiser hook: every unit's text passes a `Sanitiser` before it is stored for people to see.

The product sanitiser is `valueprint.annotate.sanitize.Sanitiser` (Presidio's patterns and a person-name
head, see that module); there is deliberately no fallback, so raw personal data can never reach an
annotator: if its libraries are missing, nothing is imported (`MissingDependencyError`). Tests hand a
double with the same `sanitise` method to `Annotate(sanitiser_factory=...)`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from valueprint.annotate.sanitize import Sanitised


@runtime_checkable
class Sanitiser(Protocol):
    """Anything with `sanitise(text) -> Sanitised`."""

    def sanitise(self, text: str) -> Sanitised: ...


def load_sanitiser() -> Sanitiser:
    """The product sanitiser. Building it loads nothing yet; its first use loads the recognisers (seconds)."""
    from valueprint.annotate.sanitize import Sanitiser as ProductSanitiser

    return ProductSanitiser()


def sanitise(sanitiser: Sanitiser, text: str) -> tuple[str, list[dict[str, Any]]]:
    """The sanitised text and what is stored of each replaced entity: its type and offsets, never its text."""
    result = sanitiser.sanitise(text)
    return result.text, [{"type": e.type, "start": e.start, "end": e.end} for e in result.entities]
