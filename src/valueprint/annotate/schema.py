"""A project's settings and label schema, and the check that labels fit it (pure: no I/O)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from valueprint.errors import BadRequestError, LabelError
from valueprint.values.space import ValueSpace

ACCEPTABILITY_SCALE = ("clearly wrong", "somewhat wrong", "neutral", "somewhat good", "clearly good")
Segmentation = Literal["sentences", "turns", "posts"]
MAX_OVERLAP = 20
MAX_WHY_CHARS = 2000


class LabelSchema(BaseModel):
    """What annotators label: value dimensions (present, with a direction), acceptability on `scale`
    (index 0 = clearly wrong), a free-text why, and any custom labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dimensions: tuple[str, ...] = Field(default=(), description="Value-space dimension ids; empty: all of them.")
    scale: tuple[str, ...] = Field(default=ACCEPTABILITY_SCALE, min_length=2, max_length=11)
    why: bool = Field(default=True, description="Offer a free-text 'why' (always optional).")
    custom_labels: tuple[str, ...] = Field(default=(), max_length=50)

    @field_validator("custom_labels")
    @classmethod
    def _distinct(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(labels)) != len(labels) or any(not 0 < len(label) <= 100 for label in labels):
            raise ValueError("custom labels must be distinct, each 1-100 characters")
        return labels


class ProjectSpec(BaseModel):
    """Everything a curator states when creating a project."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=20_000)
    label_schema: LabelSchema = Field(default_factory=LabelSchema)
    overlap: int = Field(default=1, ge=1, le=MAX_OVERLAP, description="Annotators per unit (k).")
    gold_share: float = Field(default=0.0, ge=0.0, le=0.5, description="Share of units marked gold.")
    segmentation: Segmentation = "sentences"


def parse_spec(space: ValueSpace, fields: dict[str, Any]) -> ProjectSpec:
    """A validated spec whose dimensions all exist in the value space (all of them when none are named);
    BadRequestError naming the first problem otherwise."""
    try:
        spec = ProjectSpec.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        raise BadRequestError(f"project {'.'.join(map(str, first['loc']))}: {first['msg']}") from error
    unknown = [d for d in spec.label_schema.dimensions if d not in space.ids]
    if unknown:
        raise BadRequestError(f"unknown value dimensions {unknown}; choose from {list(space.ids)}")
    if not spec.label_schema.dimensions:
        schema = spec.label_schema.model_copy(update={"dimensions": space.ids})
        spec = spec.model_copy(update={"label_schema": schema})
    return spec


def check_labels(
    schema: LabelSchema,
    values: object,
    acceptability: object,
    custom: object = (),
    why: object = None,
) -> tuple[dict[str, int], int | None, list[str], str | None]:
    """The labels, normalised, if they fit the schema; LabelError naming the first misfit otherwise.

    `values`: {dimension: +1 | -1} (a dimension left out is absent); `acceptability`: an index on the
    scale or None; `custom`: a subset of the custom labels; `why`: optional text."""
    if not isinstance(values, dict):
        raise LabelError("values must be an object {dimension id: 1 or -1}")
    for dim, direction in values.items():
        if dim not in schema.dimensions:
            raise LabelError(f"value {dim!r} is not one of this project's dimensions {list(schema.dimensions)}")
        if direction not in (1, -1) or isinstance(direction, bool):
            raise LabelError(f"value {dim!r}: direction must be 1 (upholds) or -1 (violates), not {direction!r}")
    if acceptability is not None and (
        isinstance(acceptability, bool)
        or not isinstance(acceptability, int)
        or not 0 <= acceptability < len(schema.scale)
    ):
        raise LabelError(f"acceptability must be an index 0-{len(schema.scale) - 1} on {list(schema.scale)}")
    if not isinstance(custom, list | tuple) or any(label not in schema.custom_labels for label in custom):
        raise LabelError(f"custom labels must be among {list(schema.custom_labels)}")
    if why is not None and (not isinstance(why, str) or len(why) > MAX_WHY_CHARS):
        raise LabelError(f"why must be text of at most {MAX_WHY_CHARS} characters")
    return dict(values), acceptability, list(dict.fromkeys(custom)), (why or None)
