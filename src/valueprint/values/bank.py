"""The question bank: Likert items, the 2-D political slider, scenario choices, demographics.

Every scored item states its value loadings: a Likert item's loadings say how agreeing
moves each dimension (negative = reverse-keyed); each scenario option states the value
profile that choosing it expresses; the slider observes the two political dimensions.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml, validate_model
from valueprint.values.space import SLUG, ValueSpace, load_space

Loadings = dict[str, float]


def _check_loadings(value: Loadings) -> Loadings:
    if not value:
        raise ValueError("needs at least one loading")
    for dim, weight in value.items():
        if not -1.0 <= weight <= 1.0:
            raise ValueError(f"loading {dim}={weight} is outside [-1, 1]")
    return value


class LikertItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["likert"] = "likert"
    id: str = Field(pattern=SLUG)
    text: str = Field(min_length=5)
    loadings: Loadings
    why: str
    source: str

    _loadings_in_range = field_validator("loadings")(_check_loadings)

    @property
    def primary(self) -> str:
        return max(self.loadings, key=lambda dim: abs(self.loadings[dim]))

    @property
    def reverse_keyed(self) -> bool:
        return self.loadings[self.primary] < 0


class ScenarioOption(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: Literal["A", "B", "C"]
    text: str
    profile: Loadings

    _profile_in_range = field_validator("profile")(_check_loadings)


class ScenarioItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["scenario"] = "scenario"
    id: str = Field(pattern=SLUG)
    prompt: str
    why: str
    source: str
    options: tuple[ScenarioOption, ...] = Field(min_length=2, max_length=3)

    @field_validator("options")
    @classmethod
    def _keys_in_order(cls, options: tuple[ScenarioOption, ...]) -> tuple[ScenarioOption, ...]:
        keys = [o.key for o in options]
        if keys != ["A", "B", "C"][: len(keys)]:
            raise ValueError(f"option keys must be A, B[, C] in order, got {keys}")
        return options

    def option(self, key: str) -> ScenarioOption:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(key)


class SliderItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["slider"] = "slider"
    id: str = Field(pattern=SLUG)
    prompt: str
    why: str
    source: str
    x_dim: str
    y_dim: str
    x_low: str
    x_high: str
    y_low: str
    y_high: str


class DemographicField(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(pattern=SLUG)
    label: str
    kind: Literal["text", "choice"]
    choices: tuple[str, ...] = ()


Item = LikertItem | ScenarioItem | SliderItem


class QuestionBank(BaseModel):
    """All scored items in a stable order, plus the unscored demographic fields."""

    model_config = ConfigDict(frozen=True)
    space_version: str
    items: tuple[Item, ...]
    demographics: tuple[DemographicField, ...]

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise CatalogueError(f"unknown item id {item_id!r}") from None

    def get(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    def of_kind(self, kind: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.kind == kind)


def _referenced_dimensions(item: Item) -> set[str]:
    if isinstance(item, LikertItem):
        return set(item.loadings)
    if isinstance(item, ScenarioItem):
        return {dim for option in item.options for dim in option.profile}
    return {item.x_dim, item.y_dim}


def check_bank(bank: QuestionBank, space: ValueSpace) -> None:
    """Cross-check the bank against the value space; raise CatalogueError naming the item."""
    ids = [item.id for item in bank.items] + [f.id for f in bank.demographics]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"question bank has duplicate item ids: {duplicated}")
    known = set(space.ids)
    for item in bank.items:
        unknown = _referenced_dimensions(item) - known
        if unknown:
            raise CatalogueError(f"item {item.id!r} names unknown dimensions {sorted(unknown)}")


def build_bank(space: ValueSpace) -> QuestionBank:
    core = read_package_toml("bank/core.toml")
    likert = read_package_toml("bank/likert.toml").get("item", [])
    scenarios = read_package_toml("bank/scenarios.toml").get("item", [])
    items: list[Item] = [validate_model(SliderItem, core["slider"], "bank/core.toml [slider]")]
    items += [validate_model(LikertItem, raw, f"bank/likert.toml item {raw.get('id')!r}") for raw in likert]
    items += [validate_model(ScenarioItem, raw, f"bank/scenarios.toml item {raw.get('id')!r}") for raw in scenarios]
    demographics = tuple(
        validate_model(DemographicField, raw, f"bank/core.toml demographic {raw.get('id')!r}")
        for raw in core.get("demographic", [])
    )
    bank = QuestionBank(space_version=space.version, items=tuple(items), demographics=demographics)
    check_bank(bank, space)
    return bank


@lru_cache(maxsize=1)
def load_bank() -> QuestionBank:
    return build_bank(load_space())
