""" "Try it": one prompt answered by the plain model and by the personalised one, side by side.

The evaluator scores both answers; "which of your values shaped this" lists the values the
person holds (those the précis would mention) on which the personalised answer leans
further towards the person's side than the plain one, with the evaluator's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from valueprint.evaluate.alignment import alignment_distance, counted_dimensions
from valueprint.personalize.runtime import Sampling
from valueprint.personalize.strategies import parse_strategies
from valueprint.values.profile import ValueProfile

MAX_PROMPT_CHARS = 1000
SHAPED_BY = 3


@dataclass
class Trial:
    prompt: str
    base: str
    personal: str
    strategies: list[str]
    base_distance: float | None = None
    personal_distance: float | None = None
    shaped_by: list[dict[str, Any]] = field(default_factory=list)


def run_trial(personalizer: Any, profile: ValueProfile, prompt: str, strategies: str, max_tokens: int) -> Trial:
    """`personalizer` is the server's `Personalizer` (model, evaluator and steering, loaded on first use)."""
    engine, space = personalizer.engine(), personalizer.space
    messages = [{"role": "user", "content": prompt}]
    sampling = Sampling(max_new_tokens=max_tokens, seed=0)
    chosen = parse_strategies(strategies)
    base = engine.complete(messages, sampling, [], engine.context(None)).text
    personal = engine.complete(messages, sampling, chosen, engine.context(profile)).text
    trial = Trial(prompt, base, personal, [s.name for s in chosen])
    mean, sd = profile.means(space), profile.sds(space)
    counted = counted_dimensions(mean, sd)
    if not counted.any():
        return trial
    evaluator = personalizer.evaluator()
    scores = evaluator.score([base, personal])
    trial.base_distance, trial.personal_distance = (round(float(d), 3) for d in alignment_distance(mean, sd, scores))
    towards = np.sign(mean) * (scores[1] - scores[0])  # > 0: the personal answer moved to the person's side
    evidence = {e["dimension"]: e for e in evaluator.explain(personal, top=space.size)}
    for i in np.argsort(-towards):
        if not counted[i] or towards[i] <= 0 or len(trial.shaped_by) == SHAPED_BY:
            continue
        dim = space.dimensions[i]
        trial.shaped_by.append(
            {
                "label": dim.label,
                "your_side": dim.high if mean[i] > 0 else dim.low,
                "moved": round(float(towards[i]), 3),
                "source": evidence[dim.id]["source"],
                "evidence": evidence[dim.id]["evidence"][:2],
            }
        )
    return trial
