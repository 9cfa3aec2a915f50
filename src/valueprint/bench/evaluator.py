"""`valueprint bench evaluator`: accuracy on held-out labels, throughput and memory of the evaluator.

Throughput is measured twice in the same run on the same texts (Touché23 test arguments):
the deployed path (length-sorted batches, bf16 where the CPU has it) and plain fp32 in input
order, the usual way to run a fine-tuned MiniLM, so the ratio survives a noisy machine.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valueprint.evaluate import datasets
from valueprint.evaluate.backbone import Encoder
from valueprint.evaluate.evaluator import ValueEvaluator
from valueprint.evaluate.report import coverage_figures, measure_accuracy, write_report

THROUGHPUT_TEXTS = 2048


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def throughput(evaluator: ValueEvaluator, texts: list[str]) -> dict[str, Any]:
    evaluator.score(texts[:64])  # warm-up
    started = time.perf_counter()
    evaluator.score(texts)
    deployed = len(texts) / (time.perf_counter() - started)
    plain = Encoder(evaluator.encoder.tokenizer, evaluator.encoder.model, precision="fp32")
    started = time.perf_counter()
    plain.embed(texts, sort=False)
    baseline = len(texts) / (time.perf_counter() - started)
    return {
        "texts_per_s": round(deployed, 1),
        "texts_per_s_fp32_unsorted": round(baseline, 1),
        "speedup_vs_fp32_unsorted": round(deployed / baseline, 2),
        "precision": evaluator.encoder.precision,
        "throughput_texts": len(texts),
    }


def run(root: Path, out: Path, on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    step = on_step or (lambda _name: None)
    step("loading the evaluator")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    evaluator = ValueEvaluator()
    load_s = time.perf_counter() - started
    rss_after_load = peak_rss_mb()
    figures = measure_accuracy(evaluator, root, step)
    step("throughput")
    texts = datasets.touche23(root, "test").texts
    texts = (texts * (THROUGHPUT_TEXTS // len(texts) + 1))[:THROUGHPUT_TEXTS]
    figures |= throughput(evaluator, texts)
    figures |= coverage_figures(evaluator)
    figures |= {
        "load_s": round(load_s, 2),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_load_mb": rss_before,
        "rss_after_load_mb": rss_after_load,
        "artefact_trained_at": evaluator.meta.get("trained_at"),
    }
    write_report({**figures, "coverage": evaluator.coverage()}, evaluator.meta, out)
    return figures
