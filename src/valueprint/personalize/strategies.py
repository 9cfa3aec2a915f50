"""Personalisation strategies behind one interface, registered by name and combinable.

A strategy may do any of three things to one chat completion:

- `prepare`: change the messages before generation (précis: the profile as a system prompt);
- `opening`: start the reply with some words the model then continues (frame: "Since you put
  your family first, ..."; see `personalize.framing`);
- `hook`: change the model while it generates (steer: add the person's steering vector;
  adapter: switch on the person's LoRA adapter);
- `guidance`: weigh each generated token between the prepared and the caller's own messages
  (guide: amplify what the précis changes, see `personalize.guidance`);
- `candidates` / `choose`: ask for several completions and pick one (rerank: the one the
  personal judge ranks first for the person; the judge's penalties for incoherent, cut-off
  and recited replies are the coherence floor).

They compose in that order, so `precis+guide+rerank` is a précis-prompted model guided by its
précis and sampled N times and reranked; `precis+steer+rerank` is a précis-prompted, steered model
sampled N times and reranked. Strategies that change the model (`hook`) need the local
model; `precis` and `rerank` also work with a remote OpenAI-compatible upstream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from valueprint.errors import StrategyError
from valueprint.personalize.guidance import DEFAULT_GUIDANCE
from valueprint.values.precis import precis, with_sentences
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

Message = dict[str, str]
Judge = Callable[[ValueProfile, str, Sequence[str]], Any]  # -> judge.Ranking (order, scores, because)
# 1.0 keeps perplexity on neutral text within about 10% of the plain model's (1.5 costs ~25%:
# measured on scikit-learn's dataset descriptions, not on any benchmark prompt).
DEFAULT_STEER_STRENGTH = 1.0


@dataclass
class Context:
    """What a strategy may use: the (consent-scoped) profile and the services it needs."""

    profile: ValueProfile
    space: ValueSpace
    precis_max_sd: float = 0.35
    instructions: str | None = None  # the person's own edited précis, when they wrote one (and may share it)
    wisdom: str | None = None  # the person's own values cards as sentences (moral graph, scope `wisdom`)
    rerank_n: int = 4
    steer_strength: float = DEFAULT_STEER_STRENGTH
    guidance: float = DEFAULT_GUIDANCE
    judge: Judge | None = None  # ranks candidate replies for the profile (`judge.PersonalJudge.rank`)
    steering_hook: Callable[[ValueProfile, float], AbstractContextManager] | None = None
    adapter: Path | None = None  # the person's trained adapter, when they have one
    adapter_missing: str = "this person has no personal adapter yet: they can train one on their result page"
    adapter_hook: Callable[[Path], AbstractContextManager] | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what each strategy did, for the response


class Strategy:
    name: ClassVar[str]
    needs_local_model: ClassVar[bool] = False

    def prepare(self, messages: list[Message], context: Context) -> list[Message]:
        return messages

    def opening(self, prompt: str, context: Context) -> str | None:
        """The words the reply to `prompt` starts with (None: not this strategy's, or nothing to say)."""
        return None

    def hook(self, context: Context) -> AbstractContextManager | None:
        return None

    def guidance(self, context: Context) -> float | None:
        """γ: how strongly to follow the prepared messages over the caller's own (None: not this strategy's)."""
        return None

    def candidates(self, context: Context) -> int:
        return 1

    def choose(self, prompt: str, texts: list[str], context: Context) -> int:
        return 0


REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    REGISTRY[cls.name] = cls
    return cls


@register
class Precis(Strategy):
    """The person's own custom instructions when they wrote some, else the précis of their profile, with
    their values cards' sentences when they share them, as the system prompt (before any system message
    of the caller's)."""

    name = "precis"

    def prepare(self, messages: list[Message], context: Context) -> list[Message]:
        text = context.instructions or precis(context.profile, context.space, context.precis_max_sd)
        text = with_sentences(text, context.wisdom or "")
        context.notes["precis"] = text
        own_system = [m for m in messages if m.get("role") == "system"]
        rest = [m for m in messages if m.get("role") != "system"]
        merged = "\n\n".join([text, *(m["content"] for m in own_system)])
        return [{"role": "system", "content": merged}, *rest]


@register
class Frame(Strategy):
    """Open the reply with the person's values that the question touches, for the model to continue."""

    name = "frame"
    needs_local_model = True  # an OpenAI-style upstream cannot be asked to continue the assistant's turn

    def opening(self, prompt: str, context: Context) -> str | None:
        from valueprint.personalize.framing import opening

        text = opening(context.profile, context.space, prompt, context.precis_max_sd)
        context.notes["frame"] = text
        return text


@register
class Steer(Strategy):
    name = "steer"
    needs_local_model = True

    def hook(self, context: Context) -> AbstractContextManager | None:
        if context.steering_hook is None:
            raise StrategyError("steering vectors are not available here: run `valueprint steer train`")
        context.notes["steer_strength"] = context.steer_strength
        return context.steering_hook(context.profile, context.steer_strength)


@register
class Adapter(Strategy):
    name = "adapter"
    needs_local_model = True

    def hook(self, context: Context) -> AbstractContextManager | None:
        if context.adapter is None:
            raise StrategyError(context.adapter_missing)
        if context.adapter_hook is None:
            raise StrategyError("personal adapters need the local model")
        context.notes["adapter"] = context.adapter.name
        return context.adapter_hook(context.adapter)


@register
class Guide(Strategy):
    """Follow the précis more strongly than the model would by itself (classifier-free guidance)."""

    name = "guide"
    needs_local_model = True  # it needs the model's scores at every step

    def guidance(self, context: Context) -> float | None:
        context.notes["guidance"] = context.guidance
        return context.guidance


@register
class Rerank(Strategy):
    name = "rerank"

    def candidates(self, context: Context) -> int:
        return context.rerank_n

    def choose(self, prompt: str, texts: list[str], context: Context) -> int:
        if context.judge is None:
            raise StrategyError("rerank needs the personal judge, which is not loaded")
        ranking = context.judge(context.profile, prompt, texts)
        context.notes["rerank_scores"] = ranking.scores
        context.notes["rerank_because"] = ranking.because[ranking.order[0]]
        return int(ranking.order[0])


def runnable(strategies: list[Strategy], local_model: bool) -> list[Strategy]:
    """`strategies` without those that need the local model when an upstream answers instead (for defaults
    chosen by the server, not by a caller, who gets an error for asking the impossible)."""
    return [s for s in strategies if local_model or not s.needs_local_model]


def parse_strategies(requested: Sequence[str] | str | None) -> list[Strategy]:
    """Strategy objects from names ("precis+rerank", ["precis", "steer"], ...), in a fixed order."""
    if requested is None:
        return []
    names = requested.replace(",", "+").split("+") if isinstance(requested, str) else list(requested)
    names = [n.strip().lower() for n in names if n and n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise StrategyError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(REGISTRY)} (combine with +)")
    if "guide" in names and "precis" not in names:
        raise StrategyError("guide amplifies what the précis changes: combine it with precis (precis+guide)")
    order = list(REGISTRY)
    return [REGISTRY[n]() for n in sorted(set(names), key=order.index)]
