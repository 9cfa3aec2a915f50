"""Exemplar personas (package data) and the nearest persona of a profile."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml, validate_model
from valueprint.values.profile import ValueProfile
from valueprint.values.space import SLUG, ValueSpace, load_space

# Floor on the variance used to weight dimensions, so a near-certain dimension cannot
# dominate the distance on its own.
VARIANCE_FLOOR = 0.02


class Persona(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(pattern=SLUG)
    name: str
    summary: str
    vector: dict[str, float]

    def array(self, space: ValueSpace) -> np.ndarray:
        values = np.zeros(space.size)
        for dim, value in self.vector.items():
            values[space.index(dim)] = value
        return values

    def as_profile(self, space: ValueSpace, sd: float = 0.1) -> ValueProfile:
        """The persona as a confident profile (for précis, tokens and benchmarks)."""
        return ValueProfile.from_arrays(space, self.array(space), np.full(space.size, sd))


def build_personas(space: ValueSpace) -> tuple[Persona, ...]:
    raw = read_package_toml("personas.toml").get("persona", [])
    personas = tuple(validate_model(Persona, p, f"personas.toml persona {p.get('id')!r}") for p in raw)
    for persona in personas:
        for dim, value in persona.vector.items():
            space.index(dim)
            if not -1.0 <= value <= 1.0:
                raise CatalogueError(f"persona {persona.id!r}: {dim}={value} is outside [-1, 1]")
    if len({p.id for p in personas}) != len(personas):
        raise CatalogueError("personas.toml has duplicate persona ids")
    return personas


@lru_cache(maxsize=1)
def load_personas() -> tuple[Persona, ...]:
    return build_personas(load_space())


def persona_distances(profile: ValueProfile, personas: tuple[Persona, ...], space: ValueSpace) -> np.ndarray:
    """Confidence-weighted RMS distance from the profile to each persona.

    d(profile, persona) = sqrt( Σ_k w_k (μ_k − v_k)² / Σ_k w_k ),  w_k = 1 / (σ_k² + 0.02)

    where μ, σ are the profile's means and SDs: dimensions the profile is sure about
    count more, and an unanswered profile compares all dimensions equally.
    """
    means, sds = profile.means(space), profile.sds(space)
    weights = 1.0 / (sds**2 + VARIANCE_FLOOR)
    vectors = np.stack([p.array(space) for p in personas])
    return np.sqrt(((vectors - means) ** 2 @ weights) / weights.sum())


def nearest_persona(profile: ValueProfile, space: ValueSpace | None = None) -> tuple[Persona, float]:
    space = space or load_space()
    personas = load_personas()
    distances = persona_distances(profile, personas, space)
    best = int(np.argmin(distances))
    return personas[best], float(distances[best])


CLOSE_MATCH, PARTIAL_MATCH = 0.25, 0.45  # RMS distance on the [-1, 1] scale


def match_words(distance: float) -> str:
    """How well the nearest persona fits, in words instead of a distance."""
    if distance < CLOSE_MATCH:
        return "a close match"
    if distance < PARTIAL_MATCH:
        return "a partial match"
    return "a loose match: none of our personas is much like you"
