"""The judges a process shares, and the public JSONL contract of `valueprint rank`.

A line in: `{"profile": {dim: mean | {"mean": m, "sd": s}}, "prompt": str, "replies": [str, ...]}`
A line out: `{"order": [best index first], "scores": [...], "because": [[...], ...]}`, or
`{"error": "..."}` for a line that cannot be judged (the other lines are still judged).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from valueprint.errors import ValueprintError
from valueprint.judge.judge import PersonalJudge
from valueprint.judge.quality import mean_logprobs
from valueprint.judge.reader import ValueReader
from valueprint.settings import Settings

_judges: dict[tuple[str, str], PersonalJudge] = {}
_lock = threading.Lock()


_fluency_cache: dict[tuple[str, str, str], float] = {}  # (model folder, prompt, reply) -> log-probability
FLUENCY_CACHE_SIZE = 4096


def _fluency(settings: Settings) -> Any:
    """Mean log-probability of replies under the local model (loaded on first use); the last few
    thousand are remembered, so the product judge and the referee never compute one twice."""
    from valueprint.personalize.runtime import model_for

    def fluency(prompt: str, replies: Sequence[str]) -> np.ndarray:
        model = model_for(settings)
        keys = [(str(model.path), prompt, reply) for reply in replies]
        missing = [i for i, k in enumerate(keys) if k not in _fluency_cache]
        if missing:
            values = mean_logprobs(model, prompt, [replies[i] for i in missing])
            with _lock:
                if len(_fluency_cache) > FLUENCY_CACHE_SIZE:
                    _fluency_cache.clear()
                _fluency_cache.update({keys[i]: float(v) for i, v in zip(missing, values, strict=True)})
        return np.array([_fluency_cache.get(k, 0.0) for k in keys])

    return fluency


def shared_judge(settings: Settings, half: str = "a", fluency: bool = True) -> PersonalJudge:
    """The process's judge with reader `half` (`a`: the product's; `b`: the referee), loaded once."""
    key = (half, f"{settings.data_dir}|{settings.model_dir}|{settings.model}" if fluency else "")
    with _lock:
        if key not in _judges:
            _judges[key] = PersonalJudge(ValueReader.load(half), _fluency(settings) if fluency else None)
        return _judges[key]


def referee(settings: Settings) -> PersonalJudge:
    """The independent judge: trained on the other half of the data, anchored on other texts."""
    return shared_judge(settings, "b")


def rank_lines(judge: PersonalJudge, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One result per non-empty input line, in order; a bad line yields an error naming its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            yield {"line": number, "error": f"not valid JSON: {error}"}
            continue
        if not isinstance(record, dict) or not {"profile", "prompt", "replies"} <= set(record):
            yield {"line": number, "error": 'expected an object with "profile", "prompt" and "replies"'}
            continue
        try:
            yield judge.rank(record["profile"], record["prompt"], record["replies"]).as_dict()
        except ValueprintError as error:
            yield {"line": number, "error": str(error)}
