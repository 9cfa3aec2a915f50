"""One subject's adapter, end to end: preference pairs from their profile, then DPO (see `jobs`).

The evaluator's vectors of every option in the real data are computed once per process and
shared by all later subjects (they do not depend on the profile).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valueprint.errors import AdapterError
from valueprint.evaluate.alignment import counted_dimensions
from valueprint.personalize.finetune import FinetuneConfig, profile_hash, train_adapter
from valueprint.personalize.preferences import OptionScores, build_preferences, split_options, write_jsonl
from valueprint.personalize.runtime import SMOLLM2_NAME, convert_smollm2
from valueprint.settings import Settings
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace, load_space

_options: dict[tuple[str, str], tuple[OptionScores, OptionScores]] = {}
_options_lock = threading.Lock()


def option_scores(settings: Settings) -> tuple[OptionScores, OptionScores]:
    """(train, held-out) options with their evaluator vectors, cached per data and evaluator folder."""
    from valueprint.evaluate.evaluator import shared_evaluator

    key = (str(settings.datasets_dir), str(settings.evaluator_dir))
    with _options_lock:
        if key not in _options:
            train, heldout = split_options(settings.datasets_dir)
            score = shared_evaluator(settings).score
            _options[key] = (OptionScores(train, score), OptionScores(heldout, score))
        return _options[key]


def check_trainable(profile: ValueProfile, space: ValueSpace) -> None:
    if not counted_dimensions(profile.means(space), profile.sds(space)).any():
        raise AdapterError(
            "your profile does not yet take a clear side on any value, so there is nothing to learn: "
            "answer or refine a few more questions first"
        )


def model_folder(data_dir: Path, model_dir: Path | None) -> Path:
    return model_dir or convert_smollm2(data_dir / "models" / SMOLLM2_NAME)


def train_subject(request: Any, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """`request` is a `jobs.TrainingRequest`."""
    settings = Settings(
        data_dir=Path(request.data_dir),
        datasets_dir=Path(request.datasets_dir),
        model_dir=Path(request.model_dir) if request.model_dir else None,
        evaluator_dir=Path(request.evaluator_dir) if request.evaluator_dir else None,
    )
    space = load_space()
    profile = ValueProfile.from_json(request.profile_json)
    check_trainable(profile, space)
    train_options, heldout_options = option_scores(settings)
    data = build_preferences(profile, space, train_options, heldout_options, own=request.own)
    out = Path(request.out)
    meta = {
        "subject": request.subject,
        "subject_id": request.subject_id,
        "profile_sha256": profile_hash(profile, space),
        "space_version": space.version,
        "base_model": (settings.model_dir or Path(SMOLLM2_NAME)).name,
        "own_answer_pairs": len(request.own),
        "init_persona": request.init_persona,
    }
    config = FinetuneConfig(steps=request.steps)
    init = Path(request.init_adapter) if request.init_adapter else None
    base = model_folder(settings.data_dir, settings.model_dir)
    trained = train_adapter(base, data, out, meta, config, init, on_progress)
    write_jsonl(data.train, out / "preferences" / "train.jsonl")
    write_jsonl(data.heldout, out / "preferences" / "heldout.jsonl")
    return trained
