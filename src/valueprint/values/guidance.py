"""Behavioural guidance for the précis (`data/guidance.toml`): for every dimension of the value
space, one first-person instruction for its high pole and one for its low pole.

`load_guidance(space)` validates the file against the space (every dimension, both poles, no
unknown dimension) and raises a CatalogueError naming what is missing.

`load_openers(space)` does the same for `data/openers.toml`: for every dimension that is a value
rather than a manner of answering, what a person at each pole cares about ("Since you ..."),
which the `frame` strategy opens a reply with.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml, validate_model
from valueprint.values.space import ValueSpace

GUIDANCE_FILE = "guidance.toml"
OPENERS_FILE = "openers.toml"
MANNER_GROUP = "behaviour"  # how to answer, rather than what the person values: no opener


class PoleGuidance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    high: str = Field(min_length=3, description="What to do for a person near the high pole (+1).")
    low: str = Field(min_length=3, description="What to do for a person near the low pole (-1).")

    def for_mean(self, mean: float) -> str:
        return self.high if mean > 0 else self.low


class Guidance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    dimension: dict[str, PoleGuidance]

    def of(self, dim_id: str) -> PoleGuidance:
        return self.dimension[dim_id]

    def check(self, space: ValueSpace, file: str = GUIDANCE_FILE, dims: tuple[str, ...] | None = None) -> Guidance:
        """Self, if it covers exactly `dims` (default: every dimension of `space`) with both poles."""
        dims = space.ids if dims is None else dims
        missing = [d for d in dims if d not in self.dimension]
        unknown = sorted(set(self.dimension) - set(dims))
        if missing or unknown:
            raise CatalogueError(
                f"data/{file} must cover these dimensions of value space {space.version} with a high and "
                f"a low pole: missing {missing}, unknown {unknown}"
            )
        if self.version != space.version:
            raise CatalogueError(f"data/{file} is for value space {self.version}, not {space.version}")
        return self


def value_dims(space: ValueSpace) -> tuple[str, ...]:
    """The dimensions that are values, not manners of answering (the ones a reply can be framed by)."""
    return tuple(d.id for d in space.dimensions if d.group != MANNER_GROUP)


def build_guidance(data: dict[str, Any], space: ValueSpace) -> Guidance:
    return validate_model(Guidance, data, f"data/{GUIDANCE_FILE}").check(space)


def build_openers(data: dict[str, Any], space: ValueSpace) -> Guidance:
    return validate_model(Guidance, data, f"data/{OPENERS_FILE}").check(space, OPENERS_FILE, value_dims(space))


@lru_cache(maxsize=2)
def _raw(file: str) -> dict[str, Any]:
    return read_package_toml(file)


_checked: dict[tuple[str, str, tuple[str, ...]], Guidance] = {}


def load_guidance(space: ValueSpace) -> Guidance:
    """The packaged guidance, validated against `space` (once per space)."""
    key = (GUIDANCE_FILE, space.version, space.ids)
    if key not in _checked:
        _checked[key] = build_guidance(_raw(GUIDANCE_FILE), space)
    return _checked[key]


def load_openers(space: ValueSpace) -> Guidance:
    """The packaged openers, validated against `space`'s value dimensions (once per space)."""
    key = (OPENERS_FILE, space.version, space.ids)
    if key not in _checked:
        _checked[key] = build_openers(_raw(OPENERS_FILE), space)
    return _checked[key]
