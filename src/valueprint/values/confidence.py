"""How sure a profile is, in words: the rules behind "tentative", "fairly sure" and "least certain"."""

from __future__ import annotations

from valueprint.values.profile import ValueProfile
from valueprint.values.space import Dimension, ValueSpace

TENTATIVE_MEAN_SD = 0.38  # above this average SD the persona and précis are called tentative
SURE_SD, FAIRLY_SURE_SD = 0.25, 0.4


def certainty(sd: float) -> str:
    """One dimension's certainty in words: sure below 0.25, fairly sure below 0.4."""
    return "sure" if sd < SURE_SD else "fairly sure" if sd < FAIRLY_SURE_SD else "not sure yet"


def is_tentative(profile: ValueProfile, space: ValueSpace) -> bool:
    """Too uncertain on average to present the persona and précis as settled."""
    return float(profile.sds(space).mean()) > TENTATIVE_MEAN_SD


def least_certain(profile: ValueProfile, space: ValueSpace, count: int = 3) -> list[Dimension]:
    """The `count` dimensions the profile is least sure about, least sure first."""
    return sorted(space.dimensions, key=lambda d: -profile.scores[d.id].sd)[:count]


def certainty_counts(profile: ValueProfile, space: ValueSpace) -> dict[str, int]:
    """How many dimensions are "sure", "fairly sure" and "not sure yet" (in that order)."""
    counts = {"sure": 0, "fairly sure": 0, "not sure yet": 0}
    for dim in space.dimensions:
        counts[certainty(profile.scores[dim.id].sd)] += 1
    return counts
