"""Annotator actions per unit, counted in a scripted browser session (the issue's benchmark "annotator actions
per unit with and without pre-labels"), and the file they are written to.

A scripted annotator knows the labels it wants for each unit and gets there with the keyboard only, the
way the page's key help says: a number key for the acceptability (only if the form does not already show
the wanted one), Tab to a value's row and arrow keys to its direction (only for rows that differ), Enter to
save. Every key press is an action; no mouse is used, so clicks are 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Any

from playwright.sync_api import Page, expect

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "annotate_actions.json"
ORDER = ("-1", "", "1")  # the order of a value row's radios: violates, not shown, upholds

FORM_STATE = """() => {
  const form = document.getElementById("label-form");
  const checked = (name) => { const r = form.querySelector(`input[name="${name}"]:checked`); return r ? r.value : ""; };
  const dims = [...form.querySelectorAll(".value-row input[value='1']")].map((r) => r.name.slice(6));
  const values = Object.fromEntries(dims.map((d) => [d, checked("value-" + d)]));
  return {acceptability: checked("acceptability"), values};
}"""


class KeyboardAnnotator:
    """Presses keys on the annotate page and counts them."""

    def __init__(self, page: Page) -> None:
        self.page, self.presses = page, 0

    def press(self, key: str) -> None:
        self.presses += 1
        self.page.keyboard.press(key)

    def focused_name(self) -> str:
        return self.page.evaluate("() => document.activeElement && document.activeElement.name || ''")

    def label(self, acceptability: int, values: dict[str, int]) -> int:
        """Label the unit on the page as wanted; the key presses it took (Enter included)."""
        expect(self.page.locator("#unit-heading")).to_be_focused()  # the page is ready: it moved focus to the unit
        before, unit_id = self.presses, self.page.get_attribute("#unit", "data-unit-id")
        state = self.page.evaluate(FORM_STATE)
        if state["acceptability"] != str(acceptability):
            self.press(str(acceptability + 1))
        for dim in state["values"]:
            wanted = str(values.get(dim, ""))
            if state["values"][dim] == wanted:
                continue
            while self.focused_name() != f"value-{dim}":
                self.press("Tab")
            steps = ORDER.index(wanted) - ORDER.index(state["values"][dim])
            for _ in range(abs(steps)):
                self.press("ArrowRight" if steps > 0 else "ArrowLeft")
        self.press("Enter")
        expect(self.page.locator("#unit")).not_to_have_attribute("data-unit-id", unit_id or "")
        expect(self.page.locator("#annotate-status")).to_have_text("Saved. Here is the next unit.")
        self.page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
        return self.presses - before


def summary(per_unit: list[int], accepted_unchanged: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "units": len(per_unit),
        "actions_per_unit": round(mean(per_unit), 2),
        "min": min(per_unit),
        "max": max(per_unit),
        "per_unit": per_unit,
        "clicks": 0,
    }
    if accepted_unchanged is not None:
        found["accepted_unchanged"] = accepted_unchanged
    return found


def write_actions(with_prelabels: dict[str, Any], without_prelabels: dict[str, Any], path: Path = RESULTS) -> Path:
    """Write the figures (and how they were made) to benchmarks/results/annotate_actions.json."""
    result = {
        "benchmark": "annotator actions per unit with and without pre-labels, from a scripted browser session",
        "method": __doc__.strip().split("\n\n", 1)[1].replace("\n", " "),
        "browser": "chromium (Debian) via Playwright, 1100x900, keyboard only",
        "with_prelabels": with_prelabels,
        "without_prelabels": without_prelabels,
        "saved_per_unit": round(without_prelabels["actions_per_unit"] - with_prelabels["actions_per_unit"], 2),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path
