"""Gold units: units with a known answer, mixed into the queue unannounced, and each annotator's accuracy on them.

Where known answers come from (never a test split: those are for evaluation only):

- `social_chemistry`: Social Chemistry 101 actions of the validation part (rules of thumb in hash bucket 2,
  as `evaluate.datasets.social_chemistry` splits them): the rule's moral foundations are present (the other
  foundations are known absent) and the action's moral judgment (-2..2) is its acceptability;
- `touche23`: Touché23 validation arguments: the Schwartz values they draw on (the others known absent);
- `moral_stories`: Moral Stories dev actions: the immoral action is "clearly wrong", the moral one "somewhat
  good" (a moral action is often mundane);
- an adjudicated unit: a reviewer's answer becomes the unit's known answer (`review`).

Checking a label against a known answer (`checks`): acceptability agrees within `tolerance(scale)` steps
(one on a five-point scale); each checked dimension agrees when the annotator marked it present (either
direction) exactly when the answer has it present. A unit's score is the share of its checks that agree,
and its chance score what a uniformly random answer would get (acceptability: the share of the scale within
tolerance; each dimension: 1/2). An annotator's accuracy is the mean score over the gold units they labelled,
with a 95% Wilson interval; when its upper end lies below the chance score after at least `MIN_GOLD` units,
the annotator is far below chance and is paused in the project, told why (`pause_reason`).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valueprint.errors import BadRequestError
from valueprint.values.space import ValueSpace

MIN_GOLD = 8
GOLD_SOURCES = ("social_chemistry", "touche23", "moral_stories")
MAX_GOLD_IMPORT = 5000


@dataclass(frozen=True)
class GoldItem:
    """A text with its known answer: `values` present (direction ±1) among `checked`, `acceptability` as a
    fraction of the scale in [0, 1] (placed on a project's scale by `on_scale`) or None."""

    text: str
    values: dict[str, int]
    checked: tuple[str, ...]
    acceptability: float | None
    source: str
    licence: str
    external_id: str


@dataclass(frozen=True)
class Check:
    label: str  # "acceptability" or a dimension id
    hit: bool
    chance: float


@dataclass(frozen=True)
class GoldAccuracy:
    """An annotator's record on gold units: mean score with a 95% Wilson interval, and the chance score."""

    units: int
    accuracy: float | None
    low: float
    high: float
    chance: float | None

    @property
    def far_below_chance(self) -> bool:
        return self.units >= MIN_GOLD and self.chance is not None and self.high < self.chance

    def as_dict(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "accuracy": self.accuracy,
            "interval": [self.low, self.high],
            "chance": self.chance,
            "far_below_chance": self.far_below_chance,
        }


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion p observed on n trials ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def tolerance(scale_points: int) -> int:
    """How many steps off an acceptability answer may be and still agree: one on a five-point scale."""
    return max(0, (scale_points - 1) // 4)


def on_scale(fraction: float | None, scale_points: int) -> int | None:
    return None if fraction is None else round(fraction * (scale_points - 1))


def checks(
    gold_values: dict[str, int],
    checked: Sequence[str],
    gold_acceptability: int | None,
    given: dict[str, Any],
    scale_points: int,
) -> list[Check]:
    """Each check of a label against a known answer (see the module docstring)."""
    out = []
    if gold_acceptability is not None:
        tol = tolerance(scale_points)
        given_point = given.get("acceptability")
        hit = given_point is not None and abs(int(given_point) - gold_acceptability) <= tol
        width = sum(1 for p in range(scale_points) if abs(p - gold_acceptability) <= tol)
        out.append(Check("acceptability", hit, width / scale_points))
    marked = set((given.get("values") or {}).keys())
    for dim in checked:
        out.append(Check(dim, (dim in marked) == (dim in gold_values), 0.5))
    return out


def unit_score(found: Sequence[Check]) -> tuple[float, float] | None:
    """(share of checks that agree, chance share); None without checks."""
    if not found:
        return None
    return sum(c.hit for c in found) / len(found), sum(c.chance for c in found) / len(found)


def accuracy(scores: Sequence[tuple[float, float]]) -> GoldAccuracy:
    """The record from per-unit (score, chance) pairs."""
    n = len(scores)
    if n == 0:
        return GoldAccuracy(0, None, 0.0, 1.0, None)
    mean = sum(s for s, _ in scores) / n
    low, high = wilson(mean, n)
    return GoldAccuracy(n, round(mean, 4), low, high, round(sum(c for _, c in scores) / n, 4))


def pause_reason(record: GoldAccuracy) -> str:
    return (
        f"on {record.units} units whose answers are known, your labels agreed {record.accuracy:.0%} of the time "
        f"(95% interval {record.low:.0%}-{record.high:.0%}), below the {record.chance:.0%} that random answers "
        "would reach. Please read the project's instructions again; a curator can let you continue"
    )


def describe(found: Sequence[Check]) -> str:
    hits = [c.label for c in found if c.hit]
    return f"{len(hits)} of {len(found)} checks agreed" + (f" ({', '.join(hits[:6])})" if hits else "")


# -- known answers from validation splits ------------------------------------------------------------


def gold_items(space: ValueSpace, datasets_dir: Path, source: str, split: str = "validation") -> list[GoldItem]:
    """The known answers of one source's validation split; BadRequestError for a test split or an unknown source."""
    if split != "validation":
        raise BadRequestError(
            f"gold units come from validation splits only, not {split!r}: test splits are for evaluation"
        )
    if source == "social_chemistry":
        return _social_chemistry(space, datasets_dir)
    if source == "touche23":
        return _touche(space, datasets_dir)
    if source == "moral_stories":
        return _moral_stories(datasets_dir)
    raise BadRequestError(f"unknown gold source {source!r}; choose from {list(GOLD_SOURCES)}")


def sample(items: Sequence[GoldItem], limit: int, seed: int = 0) -> list[GoldItem]:
    if not 1 <= limit <= MAX_GOLD_IMPORT:
        raise BadRequestError(f"import 1-{MAX_GOLD_IMPORT} gold units at a time")
    chosen = list(items)
    random.Random(seed).shuffle(chosen)
    return chosen[:limit]


def _social_chemistry(space: ValueSpace, root: Path) -> list[GoldItem]:
    from valueprint.evaluate.datasets import bucket

    mapping = space.taxonomy_map("social_chemistry")
    checked = tuple(sorted({d for dims in mapping.values() for d in dims}))
    items, seen = [], set()
    for name in ("obligatory_sc101.csv", "optional_sc101.csv"):
        with (root / "social_chemistry_101" / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rot, action = (row.get("rot") or "").strip(), (row.get("action") or "").strip()
                foundations = [f for f in (row.get("rot-moral-foundations") or "").split("|") if f in mapping]
                judgment = _number(row.get("action-moral-judgment"))
                if not rot or not action or not foundations or judgment is None or bucket(rot) != 2 or action in seen:
                    continue
                seen.add(action)
                values = {d: 1 for f in foundations for d in mapping[f]}
                text = action[0].upper() + action[1:]
                fraction = (max(-2.0, min(2.0, judgment)) + 2) / 4
                items.append(
                    GoldItem(
                        text, values, checked, fraction, "social_chemistry:validation", "CC BY-SA 4.0", row["rot-id"]
                    )
                )
    return items


def _touche(space: ValueSpace, root: Path) -> list[GoldItem]:
    from valueprint.evaluate.datasets import touche23

    data = touche23(root, "validation")
    mapping = space.taxonomy_map("touche23")
    checked = tuple(sorted({d for dims in mapping.values() for d in dims}))
    items = []
    for i, (text, labels) in enumerate(zip(data.texts, data.labels, strict=True)):
        values = {d: 1 for c, on in zip(data.columns, labels, strict=True) if on for d in mapping.get(c, ())}
        items.append(GoldItem(text, values, checked, None, "touche23:validation", "CC BY 4.0", f"touche-val-{i}"))
    return items


def _moral_stories(root: Path) -> list[GoldItem]:
    from valueprint.evaluate.datasets import moral_stories_actions

    data = moral_stories_actions(root, "dev")
    return [
        GoldItem(text, {}, (), 0.75 if label[0] > 0.5 else 0.0, "moral_stories:dev", "MIT", f"ms-dev-{i}")
        for i, (text, label) in enumerate(zip(data.texts, data.labels, strict=True))
    ]


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
