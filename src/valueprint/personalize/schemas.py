"""The personalisation domain's JSON shapes: a person's adapter and the OpenAI-compatible chat completion."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AdapterStatus(BaseModel):
    """The person's adapter (its metadata, null until trained) and their latest training job (null if none)."""

    adapter: dict[str, Any] | None
    job: dict[str, Any] | None


class TrainingStarted(BaseModel):
    job: dict[str, Any] = Field(description="The queued job's status: job_id, state, engine, submitted_at, error.")


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatMessageOut
    finish_reason: Literal["stop", "length"] = Field(description='"length" when the token budget cut the reply.')


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatExtra(BaseModel):
    """valueprint's own fields: the strategies used, the consented scopes, and public notes."""

    strategies: list[str]
    scopes: list[str]
    notes: dict[str, Any]


class ChatCompletion(BaseModel):
    """The OpenAI chat-completion object (streamed as `chat.completion.chunk` server-sent events instead)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    valueprint: ChatExtra


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    """`GET /v1/models`, in OpenAI's format."""

    object: Literal["list"]
    data: list[ModelCard]
