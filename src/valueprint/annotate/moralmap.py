"""The moral map: annotators' groups on two axes built from their value profiles, and how groups judge a unit.

**The axes** are in the spirit of the World Values Survey's Inglehart–Welzel cultural map, rebuilt from our
own dimensions (each in [-1, 1], so each axis is too); they are not the WVS's factor scores and place no
country where the WVS would:

- *traditional ↔ secular-rational* (x, secular to the right): the negated mean of tradition, conformity,
  authority, sanctity and loyalty, the dimensions that carry deference to religion, authority, nation and
  custom in the WVS's traditional pole;
- *survival ↔ self-expression* (y, self-expression up): half of the mean of self-direction, universalism,
  liberty and stimulation (tolerance, autonomy, openness) minus the mean of security and power (economic and
  physical security first).

**Who is on it**: annotators, each at the position of their latest value-profile snapshot (the one stored
with their latest label); **groups** come only from what a person chose to give: country, religion and age
band from the optional demographics, and the political quadrant from the questionnaire's political slider.

**Privacy** (the admin dashboard's rules, `accounts.stats.suppress`): nothing is shown under k people
(default 5); a group under k is never named, its members pooled into an unnamed "other answers" group; and
complementary suppression hides the smallest shown group too while a single hidden group could be computed
from the others and the total. The pool gets a centroid only when it is the one hidden group and has k or
more people; "not given" counts as a group (it names no answer).

**Intervals**: each centroid's 95% interval is a percentile bootstrap over the group's members.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from valueprint.accounts.stats import suppress

AXES: dict[str, dict[str, float]] = {
    "traditional_secular": {d: -0.2 for d in ("tradition", "conformity", "authority", "sanctity", "loyalty")},
    "survival_self_expression": {
        "self_direction": 0.125,
        "universalism": 0.125,
        "liberty": 0.125,
        "stimulation": 0.125,
        "security": -0.25,
        "power": -0.25,
    },
}
AXIS_LABELS = {
    "traditional_secular": ("traditional", "secular-rational"),
    "survival_self_expression": ("survival", "self-expression"),
}
FIELDS = ("country", "religion", "age_band", "political_quadrant")
BOOTSTRAP = 1000
NOT_GIVEN = "not given"
OTHER = "other answers"


@dataclass(frozen=True)
class Member:
    participant_id: str
    position: tuple[float, float]
    groups: Mapping[str, str | None]


def position(means: Mapping[str, float]) -> tuple[float, float]:
    """A profile's (x, y) on the map from its dimension means (missing dimensions count as 0)."""
    x, y = (sum(w * float(means.get(d, 0.0)) for d, w in AXES[axis].items()) for axis in AXES)
    return round(x, 4), round(y, 4)


def quadrant(slider: tuple[float, float] | None) -> str | None:
    """The political quadrant of a slider answer (x: economic left-right, y: libertarian-authoritarian)."""
    if slider is None:
        return None
    x, y = slider
    return f"{'left' if x < 0 else 'right'}-{'libertarian' if y < 0 else 'authoritarian'}"


def group_of(value: str | None) -> str:
    return " ".join(value.split()) if value and value.strip() else NOT_GIVEN


def _key(value: str) -> str:
    return value.casefold()


def bootstrap(points: np.ndarray, rounds: int = BOOTSTRAP, seed: int = 0) -> list[list[float]]:
    """95% percentile intervals of the centroid, per axis: [[x low, x high], [y low, y high]]."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(points), (rounds, len(points)))
    centroids = points[picks].mean(axis=1)
    low, high = np.percentile(centroids, [2.5, 97.5], axis=0)
    return [[round(float(low[a]), 4), round(float(high[a]), 4)] for a in range(2)]


def _split(members: Sequence[Member], field: str, k: int) -> tuple[list[tuple[str, list[Member]]], dict[str, Any]]:
    """Groups that may be shown (label, members) after suppression, and what was held back."""
    spelled: dict[str, Counter[str]] = {}
    by_key: dict[str, list[Member]] = {}
    for m in members:
        label = group_of(m.groups.get(field))
        spelled.setdefault(_key(label), Counter())[label] += 1
        by_key.setdefault(_key(label), []).append(m)
    entries = [
        (spelled[key].most_common(1)[0][0], "not_given" if key == _key(NOT_GIVEN) else "value", len(group))
        for key, group in by_key.items()
    ]
    entries.sort(key=lambda e: (-e[2], e[1], e[0]))
    result = suppress(entries, k)
    shown = [(label, by_key[_key(label)]) for label, _, _ in result.shown]
    pooled = [m for label, _, _ in result.pooled for m in by_key[_key(label)]]
    if pooled and result.hidden_rows() == 1 and len(pooled) >= k:
        shown.append((OTHER, pooled))
    held = {
        "suppressed_groups": len(result.pooled) + len(result.hidden),
        "pool_shown": any(g == OTHER for g, _ in shown),
    }
    return shown, held


def build(members: Sequence[Member], field: str, k: int = 5, rounds: int = BOOTSTRAP) -> dict[str, Any]:
    """The map for one grouping field: everyone's centroid and each shown group's, with bootstrap intervals."""
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; choose from {list(FIELDS)}")
    base = {"field": field, "k": k, "axes": AXIS_LABELS, "people": len(members)}
    if len(members) < k:
        return base | {"hidden": True, "overall": None, "groups": [], "suppressed_groups": 0}
    everyone = np.array([m.position for m in members])
    shown, held = _split(members, field, k)
    groups = []
    for i, (label, group) in enumerate(shown):
        points = np.array([m.position for m in group])
        centre = points.mean(axis=0)
        groups.append(
            {
                "group": label,
                "n": len(group),
                "centroid": [round(float(centre[0]), 4), round(float(centre[1]), 4)],
                "interval": bootstrap(points, rounds, seed=i + 1),
            }
        )
    overall = {
        "n": len(members),
        "centroid": [round(float(v), 4) for v in everyone.mean(axis=0)],
        "interval": bootstrap(everyone, rounds),
    }
    return base | {"hidden": False, "overall": overall, "groups": groups, **held}


def unit_by_group(judged: Sequence[tuple[Member, int]], field: str, scale: Sequence[str], k: int = 5) -> dict[str, Any]:
    """How acceptable each shown group found one unit: mean acceptability (an index on `scale`), its share
    above the middle, and n; suppressed like the map."""
    if len(judged) < k:
        return {"field": field, "hidden": True, "groups": []}
    points = {m.participant_id: a for m, a in judged}
    shown, held = _split([m for m, _ in judged], field, k)
    middle = (len(scale) - 1) / 2
    groups = []
    for label, group in shown:
        values = np.array([points[m.participant_id] for m in group], dtype=float)
        groups.append(
            {
                "group": label,
                "n": len(group),
                "mean_acceptability": round(float(values.mean()), 3),
                "share_acceptable": round(float((values > middle).mean()), 3),
            }
        )
    return {"field": field, "hidden": False, "groups": groups, **held}


def render(found: Mapping[str, Any], fmt: str = "png") -> bytes:
    """The map as a PNG or SVG image (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    ax.axhline(0, color="#bbb", lw=0.8)
    ax.axvline(0, color="#bbb", lw=0.8)
    for g in found.get("groups", []):
        (x, y), ((xl, xh), (yl, yh)) = g["centroid"], g["interval"]
        ax.errorbar(x, y, xerr=[[x - xl], [xh - x]], yerr=[[y - yl], [yh - y]], fmt="o", capsize=3)
        ax.annotate(f"{g['group']} (n={g['n']})", (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9)
    if found.get("overall"):
        x, y = found["overall"]["centroid"]
        ax.plot(x, y, marker="*", color="black", markersize=12, label=f"everyone (n={found['overall']['n']})")
        ax.legend(loc="lower right", fontsize=8)
    (x_low, x_high), (y_low, y_high) = AXIS_LABELS["traditional_secular"], AXIS_LABELS["survival_self_expression"]
    ax.set_xlabel(f"{x_low}  ←  →  {x_high}")
    ax.set_ylabel(f"{y_low}  ←  →  {y_high}")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    hidden = found.get("suppressed_groups", 0)
    ax.set_title(f"Moral map by {found['field']} (groups under {found['k']} hidden: {hidden})", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
