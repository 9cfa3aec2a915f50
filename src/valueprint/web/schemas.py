"""The HTTP layer's own shapes: the one error format every JSON error takes, declared for OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """`{"error": {"code", "message"}}`: a stable machine-readable code and what to do about it."""

    error: ErrorDetail


# Declared on the app for every operation; it also replaces FastAPI's default `HTTPValidationError`
# (request validation errors take this format too, with the code `invalid_request`).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorResponse, "description": "Refused: the code says why, the message what to do."},
    "5XX": {"model": ErrorResponse, "description": "The server's own failure (its message is generic)."},
}
