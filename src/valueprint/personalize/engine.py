"""One chat completion, personalised by any combination of strategies, on the local model or an upstream.

    messages ─► prepare (précis) ─► open (frame) ─► generate N under the hooks (steer) ─► choose (rerank) ─► text

With no profile (no token) or no strategies, the engine is the plain model: the baseline
every strategy is measured against.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import StrategyError
from valueprint.evaluate.endpoint import ChatEndpoint
from valueprint.personalize.guidance import DEFAULT_GUIDANCE, Guidance
from valueprint.personalize.runtime import (
    FinishReason,
    Generation,
    LocalModel,
    Message,
    Sampling,
    TextStream,
    opening_message,
    opening_of,
)
from valueprint.personalize.strategies import DEFAULT_STEER_STRENGTH, Context, Judge, Strategy
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

RERANK_TEMPERATURE = 0.8  # candidates must differ: greedy decoding would give N copies


@dataclass
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    strategies: list[str]
    notes: dict[str, Any] = field(default_factory=dict)
    finish_reason: FinishReason = "stop"  # the chosen candidate's: "length" when the token budget cut it


def neutral_profile(space: ValueSpace) -> ValueProfile:
    """A profile that asks nothing: mean 0 and SD 1 everywhere (used when a scope is not consented)."""
    return ValueProfile.from_arrays(space, np.zeros(space.size), np.ones(space.size))


def last_user_message(messages: list[Message]) -> str:
    """What the person asked: the last user turn (what a judge ranks the replies against)."""
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


def _opened_like(plain: list[Message], planned: list[Message]) -> list[Message]:
    """The caller's own conversation, ending with the same opening as the planned one (guidance compares the
    two token by token, so both must continue the same words)."""
    return [*plain, planned[-1]] if opening_of(planned) else plain


@contextmanager
def _all(hooks: Sequence[AbstractContextManager]) -> Iterator[None]:
    with ExitStack() as stack:
        for hook in hooks:
            stack.enter_context(hook)
        yield


class Engine:
    """Holds the generator (local model or upstream) and what strategies need (evaluator, steering)."""

    def __init__(
        self,
        space: ValueSpace,
        model: LocalModel | None = None,
        upstream: ChatEndpoint | None = None,
        judge: Judge | None = None,
        steering_hook: Callable[[LocalModel, ValueProfile, float], AbstractContextManager] | None = None,
        adapter_hook: Callable[[Path], AbstractContextManager] | None = None,
        precis_max_sd: float = 0.35,
    ) -> None:
        if (model is None) == (upstream is None):
            raise ValueError("an engine runs either the local model or an upstream endpoint")
        self.space, self.model, self.upstream = space, model, upstream
        self.judge, self.steering_hook, self.precis_max_sd = judge, steering_hook, precis_max_sd
        self.adapter_hook = adapter_hook

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else self.upstream.model  # type: ignore[union-attr]

    def context(
        self,
        profile: ValueProfile | None,
        rerank_n: int = 4,
        steer_strength: float = DEFAULT_STEER_STRENGTH,
        adapter: Path | None = None,
        guidance: float = DEFAULT_GUIDANCE,
    ) -> Context:
        model = self.model
        steering = None
        if self.steering_hook is not None and model is not None:
            hook = self.steering_hook

            def steering(profile: ValueProfile, strength: float) -> AbstractContextManager:
                return hook(model, profile, strength)

        return Context(
            profile=profile or neutral_profile(self.space),
            space=self.space,
            precis_max_sd=self.precis_max_sd,
            rerank_n=rerank_n,
            steer_strength=steer_strength,
            guidance=guidance,
            judge=self.judge,
            steering_hook=steering,
            adapter=adapter,
            adapter_hook=self.adapter_hook if self.model is not None else None,
        )

    def _plan(self, messages: list[Message], strategies: list[Strategy], context: Context) -> tuple[list[Message], int]:
        """The conversation the model continues (prepared, and ending with an opening if a strategy gives one)
        and how many candidates to generate."""
        prompt = last_user_message(messages)
        for strategy in strategies:
            if strategy.needs_local_model and self.model is None:
                raise StrategyError(f"{strategy.name} changes the model itself, so it needs the local model")
            messages = strategy.prepare(messages, context)
        for strategy in strategies:
            opening = strategy.opening(prompt, context)
            if opening:
                messages = [*messages, opening_message(opening)]
        return messages, max([s.candidates(context) for s in strategies] or [1])

    def complete(
        self, messages: list[Message], sampling: Sampling, strategies: list[Strategy], context: Context
    ) -> Completion:
        return self.complete_batch([messages], sampling, strategies, context)[0]

    def complete_batch(
        self,
        conversations: list[list[Message]],
        sampling: Sampling,
        strategies: list[Strategy],
        context: Context,
    ) -> list[Completion]:
        """One completion per conversation, all for the same person, generated together on the local model."""
        planned = [self._plan(messages, strategies, context) for messages in conversations]
        n = planned[0][1] if planned else 1
        if n > 1 and sampling.temperature <= 0:
            sampling = replace(sampling, temperature=RERANK_TEMPERATURE)
        generations = self._generate(
            [messages for messages, _ in planned],
            sampling,
            n,
            strategies,
            context,
            self._guidance(
                [_opened_like(c, m) for c, (m, _) in zip(conversations, planned, strict=True)], strategies, context
            ),
        )
        completions = []
        for messages, candidates in zip(conversations, generations, strict=True):
            chosen = 0
            for strategy in strategies:
                if strategy.candidates(context) > 1:
                    chosen = strategy.choose(last_user_message(messages), [g.text for g in candidates], context)
            best = candidates[chosen]
            names = [s.name for s in strategies]
            completions.append(
                Completion(
                    best.text,
                    self.model_name,
                    best.prompt_tokens,
                    best.completion_tokens,
                    names,
                    dict(context.notes),
                    best.finish_reason,
                )
            )
        return completions

    def _generate(
        self,
        conversations: list[list[Message]],
        sampling: Sampling,
        n: int,
        strategies: list[Strategy],
        context: Context,
        guidance: Guidance | None = None,
    ) -> list[list[Generation]]:
        if self.model is None:
            return [[self._upstream_generation(m, sampling) for _ in range(n)] for m in conversations]
        hooks = [h for h in (s.hook(context) for s in strategies) if h is not None]
        # The hooks are entered inside the model's lock: two requests must never steer each other's answers.
        hook = _all(hooks) if hooks else None
        return self.model.generate_batch(conversations, sampling, n=n, hook=hook, guidance=guidance)

    @staticmethod
    def _guidance(plain: list[list[Message]], strategies: list[Strategy], context: Context) -> Guidance | None:
        """Guidance away from the caller's own conversations, if a strategy asks for it."""
        scales = [scale for scale in (s.guidance(context) for s in strategies) if scale is not None]
        return Guidance(plain, scales[0]) if scales else None

    def _upstream_generation(self, messages: list[Message], sampling: Sampling) -> Generation:
        upstream = self.upstream
        assert upstream is not None
        text = upstream.complete(messages, max_tokens=sampling.max_new_tokens, temperature=sampling.temperature)
        return Generation(text, 0, 0)  # an upstream that reports no usage counts no tokens

    def stream(
        self, messages: list[Message], sampling: Sampling, strategies: list[Strategy], context: Context
    ) -> TextStream:
        """Text pieces as they come (`finish_reason` set once exhausted); a reranked answer is chosen first,
        then sent in pieces. The strategies are planned here, so a bad request fails before any piece is sent."""
        planned, n = self._plan(list(messages), strategies, context)
        if n > 1 or self.model is None:
            return TextStream(self._replay(messages, sampling, strategies, context))
        hooks = [h for h in (s.hook(context) for s in strategies) if h is not None]
        guidance = self._guidance([_opened_like(list(messages), planned)], strategies, context)
        return self.model.stream(planned, sampling, hook=_all(hooks) if hooks else None, guidance=guidance)

    def _replay(
        self, messages: list[Message], sampling: Sampling, strategies: list[Strategy], context: Context
    ) -> Generator[str, None, FinishReason]:
        completion = self.complete(messages, sampling, strategies, context)
        words = completion.text.split(" ")
        for i, word in enumerate(words):
            yield word if i == 0 else " " + word
        return completion.finish_reason
