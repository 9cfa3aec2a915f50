"""How well the chat finds a prompt's moral-graph context (`moralgraph.consult`), on a labelled set.

The set (`moralgraph/labelled/context_prompts.jsonl`, with a README on how it was made): 148 chat prompts
written for this benchmark, each labelled with one of the 28 contexts a new server starts with, or with none
(unrelated prompts and near misses). Every prompt is compared with all 28 contexts by the product's rule
(`consult.similarities`, `consult.closest`: MiniLM cosine similarity, the most similar context if it reaches
the threshold). Per threshold:

- precision: of the prompts given a context, the share given the right one;
- recall: of the prompts that have a context, the share given the right one;
- false matches: of the prompts in no context, the share given one anyway.

The threshold is chosen on the dev half by F0.5 (precision counts twice as much as recall: a wrong context
puts a value nobody asked for into the conversation, while a missed one leaves the reply as it would be
without the graph; ties go to the higher threshold) and reported on the test half, with the product's
setting beside it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.moralgraph.consult import closest, similarities
from valueprint.moralgraph.contexts import curated
from valueprint.moralgraph.dedup import Embed

THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.20, 0.801, 0.01))
BETA = 0.5


def labelled() -> list[dict[str, Any]]:
    """The labelled prompts, in file order."""
    text = resources.files("valueprint.moralgraph").joinpath("labelled/context_prompts.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def split(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Dev and test: within each expected context (and among prompts in none), in file order, alternately."""
    seen: dict[str | None, int] = defaultdict(int)
    halves: dict[str, list[dict[str, Any]]] = {"dev": [], "test": []}
    for row in rows:
        halves["dev" if seen[row["context"]] % 2 == 0 else "test"].append(row)
        seen[row["context"]] += 1
    return halves


def counts(scores: np.ndarray, expected: list[int | None], threshold: float) -> dict[str, int]:
    """Right, wrong and missed contexts, and false matches, at `threshold`."""
    out = dict.fromkeys(("right", "wrong", "missed", "false_match", "with_context", "without_context"), 0)
    for row, truth in zip(scores, expected, strict=True):
        found, _ = closest(row, threshold)
        if truth is None:
            out["without_context"] += 1
            out["false_match"] += found is not None
        else:
            out["with_context"] += 1
            out["right"] += found == truth
            out["wrong"] += found is not None and found != truth
            out["missed"] += found is None
    return out


def figures(tally: dict[str, int], threshold: float) -> dict[str, Any]:
    given = tally["right"] + tally["wrong"] + tally["false_match"]
    precision = tally["right"] / given if given else 1.0
    recall = tally["right"] / tally["with_context"] if tally["with_context"] else 0.0
    weight = BETA**2
    f_beta = (1 + weight) * precision * recall / (weight * precision + recall) if precision + recall else 0.0
    false_rate = tally["false_match"] / tally["without_context"] if tally["without_context"] else 0.0
    return {
        "threshold": threshold,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f0_5": round(f_beta, 3),
        "false_match_rate": round(false_rate, 3),
        **tally,
    }


def run(embed: Embed, datasets_dir: Path, product_threshold: float) -> dict[str, Any]:
    contexts = [c.text for c in curated(datasets_dir)]
    rows = labelled()
    unknown = {r["context"] for r in rows if r["context"] is not None} - set(contexts)
    if unknown:
        raise ValueError(f"labelled prompts name contexts a new server does not have: {sorted(unknown)}")
    context_vectors = embed(contexts)
    out: dict[str, Any] = {"contexts": len(contexts), "prompts": len(rows)}
    curves: dict[str, list[dict[str, Any]]] = {}
    scored: dict[str, tuple[np.ndarray, list[int | None]]] = {}
    for half, chosen_rows in split(rows).items():
        scores = similarities(embed([r["prompt"] for r in chosen_rows]), context_vectors)
        expected = [None if r["context"] is None else contexts.index(r["context"]) for r in chosen_rows]
        scored[half] = (scores, expected)
        curves[half] = [figures(counts(scores, expected, t), t) for t in THRESHOLDS]
        top1 = [int(np.argmax(s)) == e for s, e in zip(scores, expected, strict=True) if e is not None]
        out[half] = {
            "prompts": len(chosen_rows),
            "with_context": sum(e is not None for e in expected),
            "top1_accuracy": round(float(np.mean(top1)), 3),
        }
    best = max(curves["dev"], key=lambda f: (f["f0_5"], f["threshold"]))
    at = {f["threshold"]: f for f in curves["test"]}
    product = figures(counts(*scored["test"], product_threshold), product_threshold)
    out["chosen_on_dev"] = {"threshold": best["threshold"], "dev": best, "test": at[best["threshold"]]}
    out["product_setting_on_test"] = product
    out["test_curve"] = [
        {k: f[k] for k in ("threshold", "precision", "recall", "false_match_rate")} for f in curves["test"]
    ]
    return out
