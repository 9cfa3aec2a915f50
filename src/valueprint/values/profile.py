"""ValueProfile: the posterior mean and SD of every dimension, version-stamped, JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from valueprint.errors import ProfileError
from valueprint.values.space import ValueSpace

PROFILE_FORMAT = "valueprint.profile/1"


class DimensionScore(BaseModel):
    model_config = ConfigDict(frozen=True)
    mean: float = Field(ge=-1.0, le=1.0)
    sd: float = Field(ge=0.0, le=1.0)


class ValueProfile(BaseModel):
    """A measured value profile. `scores` is keyed by dimension id in value-space order."""

    model_config = ConfigDict(frozen=True)
    format: str = PROFILE_FORMAT
    space_version: str
    scores: dict[str, DimensionScore]
    boundaries: tuple[str, ...] = ()
    answered: int = Field(default=0, ge=0)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_arrays(
        cls,
        space: ValueSpace,
        mean: np.ndarray,
        sd: np.ndarray,
        boundaries: tuple[str, ...] = (),
        answered: int = 0,
    ) -> ValueProfile:
        means = np.clip(np.asarray(mean, dtype=float), -1.0, 1.0).tolist()
        sds = np.clip(np.asarray(sd, dtype=float), 0.0, 1.0).tolist()
        scores = {dim: DimensionScore(mean=m, sd=s) for dim, m, s in zip(space.ids, means, sds, strict=True)}
        return cls(space_version=space.version, scores=scores, boundaries=tuple(sorted(boundaries)), answered=answered)

    def check_space(self, space: ValueSpace) -> None:
        if self.space_version != space.version:
            raise ProfileError(
                f"profile is for value space {self.space_version!r} but this is {space.version!r}; "
                "re-score the answers to get a current profile"
            )
        if tuple(self.scores) != space.ids:
            raise ProfileError("profile dimensions do not match the value space; re-score the answers")

    def means(self, space: ValueSpace) -> np.ndarray:
        self.check_space(space)
        return np.array([self.scores[d].mean for d in space.ids])

    def sds(self, space: ValueSpace) -> np.ndarray:
        self.check_space(space)
        return np.array([self.scores[d].sd for d in space.ids])

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> ValueProfile:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise ProfileError(f"profile is not valid JSON: {error}") from error
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise ProfileError(f"not a valueprint profile (expected format {PROFILE_FORMAT!r})")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ProfileError(f"profile is invalid: {error}") from error
