"""The local model's own replies to training dilemmas: the candidates most of a person's pairs are made of.

Why: the pairs from the data sets are short third-person actions ("Josh tells his boss…"),
unlike anything the model writes when asked about a dilemma. DPO on them alone raised
held-out preference accuracy but left the replies where they were (`bench finetune`, first
run: distance 0.4% lower than the plain model's, CI across zero). Pairs of the model's own
sampled replies to DailyDilemmas prompts, labelled per person by the personal judge (in
`preferences.OptionScores`: the candidate closest to the profile over the farthest), teach the
adapter on the distribution it generates from: best-of-N reranking distilled into the weights.

The candidates do not depend on anyone's profile, so they are sampled once per model and kept
in DATA_DIR/preferences/<model>/; every later training reuses them. The prompts come from the
training part of DailyDilemmas (`fit.daily_dilemma_prompts`): one dilemma in five is held out
for the benchmark.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from valueprint.evaluate.fit import sample_dilemmas
from valueprint.personalize.preferences import Choice, write_jsonl
from valueprint.personalize.runtime import LocalModel, Message, Sampling, local_model

VERSION = "1"
SAMPLES = 4
BATCH = 8  # prompts per generate call (× SAMPLES sequences)
SAMPLING = Sampling(max_new_tokens=48, temperature=0.9, top_p=0.95, seed=17)
SOURCE = "model_replies"

_lock = threading.Lock()


def replies_file(data_dir: Path, model_name: str, prompts: int) -> Path:
    return data_dir / "preferences" / model_name / f"replies-v{VERSION}-{prompts}x{SAMPLES}.jsonl"


def sample_replies(
    model: LocalModel, prompts: list[str], on_progress: Callable[[int, int], None] | None = None
) -> list[Choice]:
    """`SAMPLES` sampled replies to each prompt; prompts whose replies are not at least two distinct are left out."""
    choices = []
    for start in range(0, len(prompts), BATCH):
        chunk = prompts[start : start + BATCH]
        conversations: list[list[Message]] = [[{"role": "user", "content": p}] for p in chunk]
        sampling = replace(SAMPLING, seed=(SAMPLING.seed or 0) + start)
        for prompt, generations in zip(chunk, model.generate_batch(conversations, sampling, SAMPLES), strict=True):
            distinct = tuple(dict.fromkeys(g.text for g in generations if g.text))
            if len(distinct) >= 2:
                choices.append(Choice(SOURCE, prompt, distinct))
        if on_progress:
            on_progress(min(start + BATCH, len(prompts)), len(prompts))
    return choices


def reply_choices(
    data_dir: Path,
    datasets_dir: Path,
    prompts: int,
    model_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    model_name: str | None = None,
) -> list[Choice]:
    """The model's candidate replies to `prompts` dilemmas, sampled on first use (256 prompts: ~7 min on
    2 cores) and read from disk after."""
    if prompts == 0:
        return []
    model = local_model(data_dir, model_dir, model_name)
    path = replies_file(data_dir, model.name, prompts)
    with _lock:
        if not path.is_file():
            asked = sorted(sample_dilemmas(datasets_dir, prompts, seed=17, part="train"), key=len)
            write_jsonl(sample_replies(model, asked, on_progress), path)
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [Choice(row["source"], row["prompt"], tuple(row["options"])) for row in rows]
