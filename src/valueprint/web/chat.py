"""`POST /v1/chat/completions`: OpenAI-compatible chat, personalised by a value token.

Apps authenticate with their API key (`Authorization: Bearer vpk_…`, which is what the
official `openai` client sends). The value token (a JWS or a four-word handle) comes in
the `X-Value-Token` header or the `value_token` body field; it is resolved through the
registry, so only the scopes the person consented to shape the answer, and the read is
audit-logged like any other. Without a token the plain model answers.

`GET /v1/models` lists the served model in OpenAI's format. A request's `model` may be omitted
(or null, or "local"): the served model answers; naming any other model gets OpenAI's 404
`model_not_found`. `finish_reason` is "length" when the token budget cut the reply (it then
ends at its last complete sentence) and "stop" otherwise.

The moral graph is consulted on every request once people have judged some of it (`moralgraph.consult`):
when the prompt is in one of its contexts and the person's profile is silent there (no card of their
own, shared through the `wisdom` scope), the context's winning value joins the conversation as a system
message, and `valueprint.notes.moral_graph` says so (and says so when it added nothing).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from valueprint.errors import ModelNotFoundError
from valueprint.moralgraph import wisdom
from valueprint.personalize.engine import last_user_message
from valueprint.personalize.guidance import DEFAULT_GUIDANCE, MAX_GUIDANCE
from valueprint.personalize.runtime import Sampling, TextStream, served_model_name
from valueprint.personalize.schemas import ChatCompletion, ModelList
from valueprint.personalize.service import scoped_profile
from valueprint.personalize.strategies import DEFAULT_STEER_STRENGTH, parse_strategies, runnable
from valueprint.registry.audit import ReadPurpose
from valueprint.services import Services
from valueprint.store.models import App
from valueprint.tokens.jws import MAX_TOKEN_CHARS
from valueprint.values.profile import ValueProfile
from valueprint.web.deps import AppClient, ServicesDep

router = APIRouter(prefix="/v1", tags=["chat"])
MAX_MESSAGE_CHARS = 8000
MAX_TOKENS = 1024  # per request; the server's VALUEPRINT_CHAT_MAX_TOKENS may cap it lower
DEFAULT_STRATEGIES = ("precis", "frame")  # frame only on the local model (an upstream gets the précis alone)
LOCAL_ALIAS = "local"  # always means the served local model
STARTED = int(time.time())


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class ChatRequest(BaseModel):
    """The OpenAI request body, plus valueprint's fields; other OpenAI fields are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=50)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS, description="Default 256.")
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS, description="Default 256.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1, description="A 64-bit integer.")
    value_token: str | None = Field(
        default=None, max_length=MAX_TOKEN_CHARS, description="A value token (JWS) or a handle."
    )
    strategies: list[str] | str | None = Field(
        default=None,
        description=(
            "precis, frame, steer, adapter, guide, rerank, combined with + (default with a token: precis+frame on "
            "the local model, precis through an upstream)."
        ),
    )
    rerank_n: int = Field(default=4, ge=2, le=8)
    steer_strength: float = Field(default=DEFAULT_STEER_STRENGTH, ge=0.0, le=4.0)
    guidance: float = Field(
        default=DEFAULT_GUIDANCE, ge=1.0, le=MAX_GUIDANCE, description="How strongly `guide` follows the précis."
    )


@dataclass
class Resolved:
    profile: ValueProfile | None = None
    scopes: list[str] = field(default_factory=list)
    adapter: Path | None = None
    adapter_missing: str = "no value token was given, so there is no personal adapter to use"
    instructions: str | None = None  # the person's own text, only for an app allowed every value group
    view: dict[str, Any] | None = None  # the consent-scoped registry view behind the token
    wisdom: str | None = None  # the person's values cards as précis sentences (scope `wisdom`)


def _resolve(s: Services, app: App, token: str | None) -> Resolved:
    """The consent-scoped profile behind a token, and the person's adapter if this app may use it.

    An adapter is trained on the whole profile, so only an app allowed to read every value group uses it.
    """
    if not token:
        return Resolved()
    view = s.registry.read(app, token, ReadPurpose.CHAT)
    profile = scoped_profile(view, s.model.space)
    resolved = Resolved(profile, view["scopes"], instructions=view.get("instructions"), view=view)
    resolved.wisdom = wisdom.from_view(view.get("wisdom", [])) or None
    all_groups = {d.group for d in s.model.space.dimensions}
    participant_id = s.registry.participant_of(view["handle"])
    adapter = s.personalizer.person_adapter(participant_id) if participant_id else None
    if adapter is None:
        resolved.adapter_missing = "this person has no personal adapter yet: they can train one on their result page"
    elif not all_groups <= set(view["scopes"]):
        resolved.adapter_missing = "a personal adapter carries the whole profile; this app may not read all of it"
    else:
        resolved.adapter = adapter
    return resolved


def served_model(s: Services) -> str:
    """The id of the model this server answers with (known without loading it)."""
    return served_model_name(s.settings)


@router.get("/models", response_model=ModelList)
def list_models(s: ServicesDep, app: AppClient) -> dict[str, Any]:
    """The served model(s), in OpenAI's format."""
    model = {"id": served_model(s), "object": "model", "created": STARTED, "owned_by": "valueprint"}
    return {"object": "list", "data": [model]}


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def chat_completions(
    s: ServicesDep,
    app: AppClient,
    body: ChatRequest,
    x_value_token: Annotated[str | None, Header(max_length=MAX_TOKEN_CHARS)] = None,
) -> Any:
    """Chat with the local model, personalised by the value token's consented scopes."""
    served = served_model(s)
    if body.model not in (None, "", LOCAL_ALIAS, served):
        raise ModelNotFoundError(
            f"The model {body.model!r} does not exist or you do not have access to it: this server serves "
            f"{served!r} (GET /v1/models lists it; omit model to use it)."
        )
    resolved = _resolve(s, app, x_value_token or body.value_token)
    profile, scopes = resolved.profile, resolved.scopes
    engine = s.personalizer.engine()
    if body.strategies is not None:
        strategies = parse_strategies(body.strategies) if profile else []
    else:
        strategies = runnable(parse_strategies(DEFAULT_STRATEGIES), engine.model is not None) if profile else []
    context = engine.context(
        profile, rerank_n=body.rerank_n, steer_strength=body.steer_strength, guidance=body.guidance
    )
    context.adapter, context.adapter_missing = resolved.adapter, resolved.adapter_missing
    context.instructions, context.wisdom = resolved.instructions, resolved.wisdom
    cap = s.settings.chat_max_tokens
    sampling = Sampling(
        max_new_tokens=min(body.max_completion_tokens or body.max_tokens or Sampling.max_new_tokens, cap),
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
    )
    messages = [m.model_dump() for m in body.messages]
    consulted = s.consult_moral_graph(resolved.view, last_user_message(messages))
    if consulted is not None and consulted.instruction:
        messages = [{"role": "system", "content": consulted.instruction}, *messages]
    graph_notes = {"moral_graph": consulted.notes()} if consulted is not None else {}
    extra = {"strategies": [strategy.name for strategy in strategies], "scopes": scopes}
    if body.stream:
        pieces = engine.stream(messages, sampling, strategies, context)
        streamed = {**extra, "notes": graph_notes}
        return StreamingResponse(_sse(pieces, engine.model_name, streamed), media_type="text/event-stream")
    completion = engine.complete(messages, sampling, strategies, context)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.text},
                "finish_reason": completion.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "total_tokens": completion.prompt_tokens + completion.completion_tokens,
        },
        "valueprint": {**extra, "notes": {**_public_notes(completion.notes), **graph_notes}},
    }


def _public_notes(notes: dict[str, Any]) -> dict[str, Any]:
    public = ("precis", "frame", "rerank_scores", "rerank_because", "steer_strength", "guidance", "adapter")
    return {k: v for k, v in notes.items() if k in public}


def _sse(pieces: TextStream, model: str, extra: dict[str, Any]) -> Iterator[str]:
    """Server-sent events in the OpenAI streaming format, ending with `data: [DONE]`."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        payload = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **more,
        }
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for piece in pieces:
            yield chunk({"content": piece})
    finally:
        close = getattr(pieces, "close", None)
        if close:
            close()
    yield chunk({}, pieces.finish_reason or "stop", valueprint=extra)
    yield "data: [DONE]\n\n"
