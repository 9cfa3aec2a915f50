"""One subject's adapter, end to end: preference pairs from their profile, then DPO (see `jobs`).

The personal judge's readings of every option (the data sets' and the model's own sampled replies)
are computed once per process and shared by all later subjects (they do not depend on the profile).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valueprint.errors import AdapterError
from valueprint.evaluate.alignment import counted_dimensions
from valueprint.personalize.finetune import FinetuneConfig, profile_hash, train_adapter
from valueprint.personalize.preferences import (
    Choice,
    OptionScores,
    build_preferences,
    split_options,
    write_jsonl,
)
from valueprint.personalize.replies import reply_choices
from valueprint.personalize.runtime import model_folder_for, served_name
from valueprint.settings import Settings
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace, load_space

_scored: dict[tuple[str, ...], OptionScores] = {}
_scored_lock = threading.Lock()


def option_scores(
    settings: Settings, on_progress: Callable[[int, int], None] | None = None
) -> tuple[OptionScores, OptionScores]:
    """(train, held-out) options with the judge's readings, read once per process and source; `on_progress`
    hears how far the model's own replies are sampled (the slow part, on a process's first use)."""
    train, heldout = split_options(settings.datasets_dir)
    replies_source = (
        str(settings.data_dir),
        str(settings.model_dir),
        settings.model,
        str(settings.adapter_reply_prompts),
    )

    def replies() -> list[Choice]:
        return reply_choices(
            settings.data_dir,
            settings.datasets_dir,
            settings.adapter_reply_prompts,
            settings.model_dir,
            model_name=settings.model,
            on_progress=on_progress,
        )

    return (
        scored(settings, ("replies", *replies_source), replies) + scored(settings, ("train",), lambda: train),
        scored(settings, ("heldout",), lambda: heldout),
    )


def scored(settings: Settings, name: tuple[str, ...], choices: Callable[[], list[Choice]]) -> OptionScores:
    from valueprint.judge.service import shared_judge

    key = (*name, str(settings.datasets_dir))
    with _scored_lock:
        if key not in _scored:
            _scored[key] = OptionScores(choices(), shared_judge(settings, fluency=False))
        return _scored[key]


def check_trainable(profile: ValueProfile, space: ValueSpace) -> None:
    if not counted_dimensions(profile.means(space), profile.sds(space)).any():
        raise AdapterError(
            "your profile does not yet take a clear side on any value, so there is nothing to learn: "
            "answer or refine a few more questions first"
        )


def train_subject(request: Any, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """`request` is a `jobs.TrainingRequest`."""
    settings = Settings(
        data_dir=Path(request.data_dir),
        datasets_dir=Path(request.datasets_dir),
        model_dir=Path(request.model_dir) if request.model_dir else None,
        **({"model": request.model} if getattr(request, "model", None) else {}),
        evaluator_dir=Path(request.evaluator_dir) if request.evaluator_dir else None,
        adapter_reply_prompts=request.reply_prompts,
    )
    space = load_space()
    profile = ValueProfile.from_json(request.profile_json)
    check_trainable(profile, space)
    started = time.perf_counter()
    config = FinetuneConfig(steps=request.steps)
    preparing = (lambda _done, _total: on_progress(0, config.steps)) if on_progress else None
    train_options, heldout_options = option_scores(settings, preparing)
    limit = config.steps * config.batch_size  # one pass over the strongest pairs
    data = build_preferences(profile, space, train_options, heldout_options, own=request.own, limit=limit)
    if on_progress:
        on_progress(0, config.steps)
    out = Path(request.out)
    meta = {
        "subject": request.subject,
        "subject_id": request.subject_id,
        "profile_sha256": profile_hash(profile, space),
        "space_version": space.version,
        "base_model": served_name(settings.model_dir, settings.model),
        "own_answer_pairs": len(request.own),
        "init_persona": request.init_persona,
        "preparation_seconds": round(time.perf_counter() - started, 1),  # sampling and scoring options, pairs
    }
    init = Path(request.init_adapter) if request.init_adapter else None
    base = model_folder_for(settings)
    trained = train_adapter(base, data, out, meta, config, init, on_progress)
    write_jsonl(data.train, out / "preferences" / "train.jsonl")
    write_jsonl(data.heldout, out / "preferences" / "heldout.jsonl")
    return trained
