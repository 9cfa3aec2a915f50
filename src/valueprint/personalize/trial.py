""" "Try it": one prompt answered by the plain model and by the personalised one, side by side.

The personal judge compares the two answers for the person: `personal_wins` says whether it ranks
the personalised answer first, and "which of your values shaped this" lists the values (and
manners) on which the personalised answer fits the person better than the plain one, strongest
first, each with the person's side in plain words. An answer cut by the length budget says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from valueprint.errors import BadRequestError
from valueprint.personalize import framing
from valueprint.personalize.engine import Completion
from valueprint.personalize.runtime import Sampling
from valueprint.personalize.strategies import parse_strategies, runnable
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

MAX_PROMPT_CHARS = 1000
# Per reply, and the personalised reply's candidates (chat's default is 4): with these the page answers
# in about 10 s on two idle cores (`valueprint bench try`).
MAX_TOKENS = 96
CANDIDATES = 3
SHAPED_BY = 3
MIN_SHIFT = 0.01  # a contribution difference below this is noise


@dataclass
class Trial:
    prompt: str
    base: str
    personal: str
    strategies: list[str]
    base_cut: bool = False
    personal_cut: bool = False
    personal_wins: bool | None = None
    shaped_by: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def clean_prompt(prompt: str) -> str:
    """The prompt without surrounding space; an empty or oversized one is refused with the fix."""
    prompt = prompt.strip()
    if not prompt:
        raise BadRequestError("Type a question or a dilemma to try.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadRequestError(f"Keep the question under {MAX_PROMPT_CHARS} characters.")
    return prompt


@dataclass
class Answers:
    """One prompt answered twice: by the plain model and by the personalised one."""

    base: Completion
    personal: Completion
    strategies: list[str]


def answer_twice(
    personalizer: Any,
    profile: ValueProfile,
    prompt: str,
    strategies: str,
    max_tokens: int,
    instructions: str | None = None,
) -> Answers:
    """The plain and the personalised reply (same seed and budget); `instructions` (the person's own
    edited précis) replace the generated précis. Side effects: runs the local model twice and records
    how long that took on the personalizer (`answer_seconds`, what the pages' time estimates show)."""
    started = time.perf_counter()
    engine = personalizer.engine()
    messages = [{"role": "user", "content": prompt}]
    sampling = Sampling(max_new_tokens=max_tokens, seed=0)
    chosen = runnable(parse_strategies(strategies), engine.model is not None)
    base = engine.complete(messages, sampling, [], engine.context(None))
    context = engine.context(profile, rerank_n=CANDIDATES)
    context.instructions = instructions
    personal = engine.complete(messages, sampling, chosen, context)
    personalizer.answer_seconds = time.perf_counter() - started
    return Answers(base, personal, [s.name for s in chosen])


def run_trial(
    personalizer: Any,
    profile: ValueProfile,
    prompt: str,
    strategies: str,
    max_tokens: int,
    instructions: str | None = None,
) -> Trial:
    """`personalizer` is the server's `Personalizer` (model, judge and steering, loaded on first use).

    Side effects: runs the local model twice (plain, then personalised) and the judge once."""

    started = time.perf_counter()
    space = personalizer.space
    answers = answer_twice(personalizer, profile, prompt, strategies, max_tokens, instructions)
    base, personal = answers.base, answers.personal
    trial = Trial(prompt, base.text, personal.text, answers.strategies)
    trial.base_cut, trial.personal_cut = base.finish_reason == "length", personal.finish_reason == "length"
    judge = personalizer.judge()
    ranking = judge.rank(profile, prompt, [base.text, personal.text])
    trial.personal_wins = ranking.order[0] == 1 and ranking.scores[1] > ranking.scores[0]
    if trial.personal_wins:  # else the page would list values "fitting better" beside a verdict saying otherwise
        trial.shaped_by = shaped_by(judge, profile, space, prompt, [base.text, personal.text])
    trial.seconds = round(time.perf_counter() - started, 1)
    return trial


def shaped_by(judge: Any, profile: ValueProfile, space: ValueSpace, prompt: str, replies: list[str]) -> list[dict]:
    """Up to SHAPED_BY dimensions on which the personalised reply (`replies[1]`) fits the person better than the
    plain one, as the judge reads them. A manner of answering (directness, caution, ...) counts for any
    question; a value only when the question touches it (`framing.relevance`, the rule that decides whether a
    reply opens with the person's values), so "how do I boil an egg?" is shaped by no value."""
    shift = judge.contributions(profile, replies)
    shift = shift[1] - shift[0]  # > 0: the personalised answer fits the person better on this dimension
    related = framing.relevance(space, prompt)
    laden = max(related.values()) >= framing.MIN_VALUE_LADEN
    means = profile.means(space)
    shaped: list[dict] = []
    for i in np.argsort(-shift):
        dim = space.dimensions[i]
        if shift[i] < MIN_SHIFT or len(shaped) == SHAPED_BY:
            break
        if dim.id in related and not (laden and related[dim.id] >= framing.MIN_RELEVANCE):
            continue
        side = dim.high if means[i] > 0 else dim.low
        shaped.append({"label": dim.label, "your_side": side, "moved": round(float(shift[i]), 3)})
    return shaped
