"""The `valueprint` command. Thin: parses arguments, calls the domain packages, renders.

Commands live in `core` (questionnaire, tokens, keys, server), `models` (evaluator, steering,
adapters) and `bench`; importing them registers them on `app`.
"""

from __future__ import annotations

from valueprint.cli import annotate, bench, core, judge, models  # noqa: F401  (registers the commands)
from valueprint.cli.common import app


def main() -> None:
    app()


__all__ = ["app", "main"]
