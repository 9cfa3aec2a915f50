"""The adaptive interview, independent of how questions are put to the person.

`run_interview` asks demographics, then items chosen by `next_item` until every
dimension's SD is below the stopping threshold (or the bank is exhausted), then the
boundaries. It saves the session after every answer. An `Asker` puts one question
to the person: the terminal one uses rich prompts; tests use a simulated respondent.
Back (`p`, the previous question) re-asks the question before, showing its answer; a changed answer keeps its
place, and the questionnaire then carries on with the next new question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.prompt import Prompt

from valueprint.values import adaptive
from valueprint.values.answers import record
from valueprint.values.bank import DemographicField, Item, LikertItem, ScenarioItem, SliderItem
from valueprint.values.scoring import ScoringModel
from valueprint.values.space import Boundary

from .session import Session

SKIP, QUIT, BACK = object(), object(), object()


class Interrupted(Exception):
    """The person asked to stop (or input ended); the session is saved."""


class Asker(Protocol):
    def demographic(self, field: DemographicField) -> str | None: ...
    def item(self, item: Item, asked: int, progress: float, earlier: object = None) -> object: ...
    def boundaries(self, options: Sequence[Boundary]) -> list[str]: ...


def run_interview(session: Session, model: ScoringModel, asker: Asker, stop_sd: float) -> None:
    """Continue the session until done. Raises Interrupted (after saving) if the person quits."""
    if not session.demographics_done:
        for field in model.bank.demographics:
            value = asker.demographic(field)
            if value is not None:
                session.answers.demographics[field.id] = value
        session.demographics_done = True
        session.save()
    again: str | None = None  # an earlier question the person went back to
    while (item_id := again or adaptive.next_item(model, session.answers, stop_sd)) is not None:
        item = model.bank.item(item_id)
        progress = adaptive.progress(model, session.answers, stop_sd)
        place = session.order.index(item_id) + 1 if item_id in session.order else len(session.answers.seen) + 1
        answer = asker.item(item, place, progress, session.answers.value_of(item_id))
        if answer is QUIT:
            raise Interrupted
        if answer is BACK:
            again = session.previous(item_id) or item_id  # nothing earlier: ask this one again
            continue
        record(session.answers, model.bank, item_id, None if answer is SKIP else answer)
        if item_id not in session.order:
            session.order.append(item_id)
        session.save()
        again = None
    if not session.boundaries_done:
        session.answers.boundaries = sorted(asker.boundaries(model.space.boundaries))
        session.boundaries_done = True
        session.save()


class TerminalAsker:
    """Puts questions in the terminal with rich. `q` saves and quits, `s` skips, `p` goes back one question."""

    HELP = "[dim](s = skip, p = previous question, q = save and quit)[/]"

    def __init__(self, console: Console) -> None:
        self.console = console

    def _prompt(self, label: str, choices: list[str] | None = None, default: str | None = None) -> str:
        # Optional questions (those accepting "") list their numbered choices above the prompt.
        show_choices = bool(choices) and "" not in (choices or [])
        try:
            return Prompt.ask(
                label,
                console=self.console,
                choices=choices,
                default=default,
                show_choices=show_choices,
                show_default=False,
            )
        except (EOFError, KeyboardInterrupt):
            raise Interrupted from None

    def _choose(self, label: str, valid: list[str], hint: str) -> str:
        """Ask until the answer is one of `valid` (case-insensitive); anything else, Enter
        included, re-asks with `hint` instead of failing."""
        while True:
            answer = (self._prompt(label, default="") or "").strip().lower()
            if answer in valid:
                return answer
            self.console.print(f"[yellow]{hint}[/]")

    def demographic(self, field: DemographicField) -> str | None:
        if field.kind == "choice":
            for number, choice in enumerate(field.choices, 1):
                self.console.print(f"  {number}. {choice}")
            valid = [str(n) for n in range(1, len(field.choices) + 1)]
            answer = self._prompt(f"{field.label} [dim](number, Enter to skip)[/]", [*valid, ""], default="")
            return field.choices[int(answer) - 1] if answer else None
        answer = self._prompt(f"{field.label} [dim](Enter to skip)[/]", default="").strip()
        return answer[:200] or None

    def item(self, item: Item, asked: int, progress: float, earlier: object = None) -> object:
        self.console.rule(f"question {asked} · {progress:.0%} of the way")
        self.console.print(f"[dim]{item.why}[/]")
        if earlier is not None:
            self.console.print(f"[cyan]Your answer was {self._shown(earlier)}; type a new one to change it.[/]")
        if isinstance(item, LikertItem):
            self.console.print(f"[bold]{item.text}[/]")
            self.console.print("  1 strongly disagree · 2 disagree · 3 neutral · 4 agree · 5 strongly agree")
            answer = self._choose(
                self.HELP,
                ["1", "2", "3", "4", "5", "s", "p", "q"],
                "Type a number from 1 to 5 (s skips, p goes back, q saves and quits).",
            )
            return self._special(answer) or int(answer)
        if isinstance(item, ScenarioItem):
            self.console.print(f"[bold]{item.prompt}[/]")
            for option in item.options:
                self.console.print(f"  {option.key}. {option.text}")
            keys = [option.key for option in item.options]
            hint = f"Type one of {', '.join(keys)} (s skips, p goes back, q saves and quits)."
            answer = self._choose(self.HELP, [*[k.lower() for k in keys], "s", "p", "q"], hint)
            return self._special(answer) or answer.upper()
        return self._slider(item)

    def _slider(self, item: SliderItem) -> object:
        self.console.print(f"[bold]{item.prompt}[/]")
        steps = [str(n) for n in range(-5, 6)] + [f"+{n}" for n in range(1, 6)]
        coordinates = []
        for low, high in ((item.x_low, item.x_high), (item.y_low, item.y_high)):
            self.console.print(f"  -5 = {low}   …   +5 = {high}")
            hint = "Type a whole number from -5 to +5, 0 for the centre (s skips, p goes back, q saves and quits)."
            answer = self._choose(self.HELP, [*steps, "s", "p", "q"], hint)
            special = self._special(answer)
            if special is not None:
                return special
            coordinates.append(int(answer) / 5)
        return {"x": coordinates[0], "y": coordinates[1]}

    @staticmethod
    def _special(answer: str) -> object | None:
        return {"s": SKIP, "p": BACK, "q": QUIT}.get(answer)

    @staticmethod
    def _shown(earlier: object) -> str:
        if isinstance(earlier, dict):
            return f"{round(earlier['x'] * 5):+d} / {round(earlier['y'] * 5):+d}"
        return str(earlier)

    def boundaries(self, options: Sequence[Boundary]) -> list[str]:
        self.console.rule("boundaries")
        self.console.print("Rules an AI should always keep with you (they never lower its safety floor):")
        for number, boundary in enumerate(options, 1):
            self.console.print(f"  {number}. {boundary.text}")
        while True:
            answer = self._prompt("Numbers separated by commas [dim](Enter for none)[/]", default="")
            picked = [p.strip() for p in answer.replace(" ", ",").split(",") if p.strip()]
            if all(p.isdigit() and 1 <= int(p) <= len(options) for p in picked):
                return sorted({options[int(p) - 1].id for p in picked})
            self.console.print(f"[red]Please give numbers from 1 to {len(options)}.[/]")
