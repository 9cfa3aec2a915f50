"""The versioned value space: dimensions, groups, boundaries, taxonomy mappings.

`load_space()` reads `data/space.toml` and validates it; the order of dimensions in
that file is the order of every vector in the project (profiles, tokens, evaluator).
"""

from __future__ import annotations

from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml, validate_model

SLUG = r"^[a-z][a-z0-9_\-]*$"
KNOWN_TAXONOMIES = frozenset(
    {"touche23", "fulcra", "social_chemistry", "daily_dilemmas", "daily_dilemmas_mft", "eightvalues"}
)


class Group(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(pattern=SLUG)
    label: str
    description: str


class Dimension(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(pattern=SLUG)
    group: str
    label: str
    description: str
    low: str = Field(min_length=3, description="The low pole (-1) in plain words.")
    high: str = Field(min_length=3, description="The high pole (+1) in plain words.")
    maps: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_taxonomies(self) -> Dimension:
        unknown = set(self.maps) - KNOWN_TAXONOMIES
        if unknown:
            raise ValueError(f"dimension {self.id}: unknown taxonomy {sorted(unknown)}")
        return self


class Boundary(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(pattern=SLUG)
    text: str
    overrides: tuple[str, ...] = Field(default=(), description="Dimensions this rule silences in the précis.")


class SafetyFloor(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str


class ValueSpace(BaseModel):
    """The catalogue. Immutable; compare versions before mixing vectors."""

    model_config = ConfigDict(frozen=True)
    version: str
    groups: tuple[Group, ...] = Field(alias="group")
    dimensions: tuple[Dimension, ...] = Field(alias="dimension", min_length=1)
    boundaries: tuple[Boundary, ...] = Field(alias="boundary", default=())
    safety_floor: SafetyFloor

    @model_validator(mode="after")
    def _consistent(self) -> ValueSpace:
        for kind, ids in (
            ("group", [g.id for g in self.groups]),
            ("dimension", [d.id for d in self.dimensions]),
            ("boundary", [b.id for b in self.boundaries]),
        ):
            duplicated = {i for i in ids if ids.count(i) > 1}
            if duplicated:
                raise ValueError(f"duplicate {kind} ids: {sorted(duplicated)}")
        dimension_ids = {d.id for d in self.dimensions}
        for boundary in self.boundaries:
            if set(boundary.overrides) - dimension_ids:
                raise ValueError(f"boundary {boundary.id} overrides unknown dimensions {boundary.overrides}")
        group_ids = {g.id for g in self.groups}
        for dim in self.dimensions:
            if dim.group not in group_ids:
                raise ValueError(f"dimension {dim.id} names unknown group {dim.group!r}")
        return self

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {d.id: i for i, d in enumerate(self.dimensions)}

    @property
    def size(self) -> int:
        return len(self.dimensions)

    def index(self, dim_id: str) -> int:
        try:
            return self._index[dim_id]
        except KeyError:
            raise CatalogueError(f"unknown dimension {dim_id!r}; known: {', '.join(self.ids)}") from None

    def dimension(self, dim_id: str) -> Dimension:
        return self.dimensions[self.index(dim_id)]

    def in_group(self, group_id: str) -> tuple[Dimension, ...]:
        return tuple(d for d in self.dimensions if d.group == group_id)

    def boundary(self, boundary_id: str) -> Boundary:
        for b in self.boundaries:
            if b.id == boundary_id:
                return b
        known = ", ".join(b.id for b in self.boundaries)
        raise CatalogueError(f"unknown boundary {boundary_id!r}; known: {known}")

    def taxonomy_map(self, taxonomy: str) -> dict[str, tuple[str, ...]]:
        """External label -> the dimensions it is evidence for (e.g. Touché23 category -> dims)."""
        mapping: dict[str, list[str]] = {}
        for dim in self.dimensions:
            labels = dim.maps.get(taxonomy, [])
            if isinstance(labels, list):
                for label in labels:
                    mapping.setdefault(str(label), []).append(dim.id)
        return {label: tuple(dims) for label, dims in mapping.items()}


@lru_cache(maxsize=1)
def load_space() -> ValueSpace:
    return validate_model(ValueSpace, read_package_toml("space.toml"), "data/space.toml")
