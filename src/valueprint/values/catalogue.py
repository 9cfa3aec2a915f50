"""Loading and validating package data files (TOML) into typed models."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from valueprint.errors import CatalogueError

M = TypeVar("M", bound=BaseModel)


def read_package_toml(relative_path: str) -> dict[str, Any]:
    """Read a TOML file shipped in `valueprint/values/data/`."""
    resource = resources.files("valueprint.values") / "data" / relative_path
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CatalogueError(f"package data file {relative_path!r} is missing; reinstall valueprint") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"package data file {relative_path!r} is not valid TOML: {error}") from error


def validate_model(model: type[M], data: Any, where: str) -> M:
    """Validate `data` as `model`, turning pydantic's error into a CatalogueError naming `where`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise CatalogueError(f"{where} is invalid: {error}") from error
