"""Behavioural guidance for the précis (`data/guidance.toml`): for every dimension of the value
space, one first-person instruction for its high pole and one for its low pole.

`load_guidance(space)` validates the file against the space (every dimension, both poles, no
unknown dimension) and raises a CatalogueError naming what is missing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml, validate_model
from valueprint.values.space import ValueSpace

GUIDANCE_FILE = "guidance.toml"


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

    def check(self, space: ValueSpace) -> Guidance:
        missing = [d for d in space.ids if d not in self.dimension]
        unknown = sorted(set(self.dimension) - set(space.ids))
        if missing or unknown:
            raise CatalogueError(
                f"data/{GUIDANCE_FILE} must cover every dimension of value space {space.version} with a high and "
                f"a low instruction: missing {missing}, unknown {unknown}"
            )
        if self.version != space.version:
            raise CatalogueError(f"data/{GUIDANCE_FILE} is for value space {self.version}, not {space.version}")
        return self


def build_guidance(data: dict[str, Any], space: ValueSpace) -> Guidance:
    return validate_model(Guidance, data, f"data/{GUIDANCE_FILE}").check(space)


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return read_package_toml(GUIDANCE_FILE)


_checked: dict[tuple[str, tuple[str, ...]], Guidance] = {}


def load_guidance(space: ValueSpace) -> Guidance:
    """The packaged guidance, validated against `space` (once per space)."""
    key = (space.version, space.ids)
    if key not in _checked:
        _checked[key] = build_guidance(_raw(), space)
    return _checked[key]
