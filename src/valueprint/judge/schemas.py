"""The judge's JSON shapes: `POST /v1/rank` (the same contract as `valueprint rank`, keyed by a value token)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from valueprint.judge.judge import MAX_REPLIES, MAX_REPLY_CHARS
from valueprint.tokens.jws import MAX_TOKEN_CHARS

MAX_PROMPT_CHARS = 8000


class RankRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(max_length=MAX_PROMPT_CHARS, description="What the person asked.")
    replies: list[Annotated[str, Field(max_length=MAX_REPLY_CHARS)]] = Field(
        min_length=1, max_length=MAX_REPLIES, description="Candidate replies to rank."
    )
    value_token: str | None = Field(
        default=None, max_length=MAX_TOKEN_CHARS, description="A value token (JWS) or a handle; or send X-Value-Token."
    )


class RankResult(BaseModel):
    """Best first; one fit score and the reasons per reply, in input order; the scopes that shaped it."""

    order: list[int] = Field(description="Indices of `replies`, best fit first.")
    scores: list[float] = Field(description="Fit per reply (higher fits better; comparable within this call only).")
    because: list[list[str]] = Field(description="Per reply: the penalties and dimensions that moved its fit most.")
    scopes: list[str] = Field(description="The value groups this person lets this app use.")
