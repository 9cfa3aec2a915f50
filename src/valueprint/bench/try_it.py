"""`valueprint bench try`: how long "Try it" on the result page takes, end to end, as a person waits for it.

Each trial is exactly what the page runs (`trial.run_trial` with the server's settings: the
default strategies, the page's token budget): the plain reply, the personalised reply and the
judge's verdict. The first trial, which loads the model, the judge and the steering vectors, is
timed apart (`cold_s`); the rest are the warm figures a person sees once the server has answered
once. Prompts are DailyDilemmas situations of the held-out part (no adapter pair came from them),
personas the shipped ones, round-robin.
Also reported: how often the judge says the personalised reply fits the persona better (the
page's verdict; self-graded, so not evidence of fit) and how often a reply was cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from valueprint.evaluate.fit import PERSONA_SD, sample_dilemmas, select_personas
from valueprint.personalize.service import Personalizer
from valueprint.personalize.trial import run_trial
from valueprint.settings import Settings
from valueprint.values.personas import load_personas
from valueprint.values.space import load_space

GOAL_SECONDS = 10.0
Progress = Callable[[str, int, int], None]


def run(settings: Settings, trials: int, max_tokens: int, on_progress: Progress | None = None) -> dict[str, Any]:
    """Side effects: loads the local model and the judge, and trains steering vectors if none are saved."""
    progress = on_progress or (lambda _stage, _done, _total: None)
    space = load_space()
    personalizer = Personalizer(settings, space)
    personas = select_personas("all", load_personas())
    prompts = sample_dilemmas(settings.datasets_dir, trials + 1, seed=1, part="heldout")
    seconds, wins, cut = [], [], []
    cold = 0.0
    for i, prompt in enumerate(prompts):
        progress("trials", i, len(prompts))
        profile = personas[i % len(personas)].as_profile(space, PERSONA_SD)
        started = time.perf_counter()
        trial = run_trial(personalizer, profile, prompt, settings.try_strategies, max_tokens)
        elapsed = time.perf_counter() - started
        if i == 0:
            cold = elapsed
            continue
        seconds.append(elapsed)
        wins.append(bool(trial.personal_wins))
        cut.append(trial.base_cut or trial.personal_cut)
    progress("trials", len(prompts), len(prompts))
    median = float(np.median(seconds))
    return {
        "model": personalizer.engine().model_name,
        "strategies": settings.try_strategies,
        "max_tokens": max_tokens,
        "trials": len(seconds),
        "cold_s": round(cold, 2),
        "median_s": round(median, 2),
        "p90_s": round(float(np.percentile(seconds, 90)), 2),
        "max_s": round(max(seconds), 2),
        "goal_s": GOAL_SECONDS,
        "goal_met": median <= GOAL_SECONDS,
        "personal_wins_self_graded": round(float(np.mean(wins)), 3),
        "cut_share": round(float(np.mean(cut)), 3),
    }
