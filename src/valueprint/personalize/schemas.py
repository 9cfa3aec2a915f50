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


class PickStarted(BaseModel):
    """A blind pick: two replies to the person's prompt as A and B; which one is personalised stays hidden."""

    pick_id: int
    prompt: str
    reply_a: str
    reply_b: str
    reply_a_cut: bool = Field(description="True when the length budget cut reply A.")
    reply_b_cut: bool = Field(description="True when the length budget cut reply B.")
    seconds: float = Field(description="How long answering twice took.")


class PickRevealed(BaseModel):
    """The person's choice, and which side was shaped by their values."""

    pick_id: int
    choice: Literal["A", "B", "same"] = Field(description='"same": no difference.')
    personal_side: Literal["A", "B"]
    chose: Literal["personal", "plain", "same"]
    strategies: list[str]


class StrategyPicks(BaseModel):
    """Blind picks for one strategy: the personalised reply's share among decided picks, with a Wilson 95% interval."""

    strategy: str
    picks: int = Field(description="Picks with a choice (personal, plain or no difference).")
    personal: int
    plain: int
    same: int = Field(description='"No difference" answers.')
    open: int = Field(description="Shown but not chosen yet.")
    personal_share: float | None = Field(description="personal / (personal + plain); null before any decided pick.")
    ci_low: float | None
    ci_high: float | None
