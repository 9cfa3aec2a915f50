"""`valueprint bench judge`: how often the personal judge picks the reply that fits the person.

Three methods on the same pairs, in the same run:

- `judge`: the product judge (reader `a`);
- `referee`: the independent judge (reader `b`: the other half of the data, other anchors);
- `evaluator_distance`: the method the judge replaces — `ValueEvaluator.score` each reply and
  keep the one with the smallest alignment distance to the profile.

Pair sets:

- the hand-written persona-fit pairs (`judge/data/pairs_dev.jsonl`, `pairs_test.jsonl`), per kind;
  the dev set guided design choices, the test set was only measured;
- held-out real pairs (read without the language-model term: real replies are fluent, and the
  term costs a forward pass per pair): Value FULCRA replies of held-out queries (one promoting a Schwartz value
  against one that does not, for a person holding that value) and Touché23 *test* arguments (one
  drawing on a value category against one that does not, same conclusion where possible).

Accuracy comes with a 95% Wilson interval; ranking speed is timed on four-reply sets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.bench.report import save_figure
from valueprint.errors import AlignmentError
from valueprint.evaluate.alignment import alignment_distance
from valueprint.evaluate.datasets import TOUCHE_CATEGORIES, touche23
from valueprint.judge.judge import PersonalJudge, profile_arrays
from valueprint.judge.labelled import fulcra_records
from valueprint.judge.pairs import FitPair, Picker, accuracy_by_kind, load_pairs
from valueprint.judge.service import shared_judge
from valueprint.settings import Settings
from valueprint.values.space import ValueSpace, load_space

PERSONA_MEAN = 0.8
REAL_PAIRS_PER_VALUE = 8
SEED = 7
COLOURS = {
    "judge": "#1f77b4",
    "referee": "#ff7f0e",
    "judge_without_lm_term": "#2ca02c",
    "evaluator_distance": "#d62728",
}


def wilson(hits: float, n: int, z: float = 1.96) -> list[float]:
    if n == 0:
        return [0.0, 1.0]
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(centre - half), 3), round(float(centre + half), 3)]


def judge_picker(judge: PersonalJudge) -> Picker:
    return lambda profile, prompt, replies: judge.rank(profile, prompt, replies).order[0]


def distance_picker(settings: Settings, space: ValueSpace) -> Picker:
    from valueprint.evaluate.evaluator import shared_evaluator

    evaluator = shared_evaluator(settings)

    def pick(profile: dict[str, Any], prompt: str, replies: Sequence[str]) -> int:
        means, sds = profile_arrays(profile, space)
        try:
            return int(np.argmin(alignment_distance(means, sds, evaluator.score(list(replies)))))
        except AlignmentError:
            return 0

    return pick


def fulcra_pairs(settings: Settings, space: ValueSpace) -> list[FitPair]:
    """Held-out FULCRA replies: one promoting value v against one that does not, for a person holding v."""
    rng = np.random.default_rng(SEED)
    records = fulcra_records(settings.datasets_dir, "holdout")
    fulcra_map = space.taxonomy_map("fulcra")
    pairs = []
    for value, dims in fulcra_map.items():
        promoting = [r for r in records if r[2].get(value) == 1]
        others = [r for r in records if r[2].get(value, 0) <= 0]
        for k in range(min(REAL_PAIRS_PER_VALUE, len(promoting))):
            good, bad = promoting[k], others[int(rng.integers(len(others)))]
            pairs.append(
                FitPair(f"fulcra-{value}-{k}", "fulcra_heldout", {dims[0]: PERSONA_MEAN}, good[0], good[1], bad[1])
            )
    return pairs


def touche_pairs(settings: Settings, space: ValueSpace) -> list[FitPair]:
    """Touché23 test arguments: one drawing on a value category against one that does not."""
    rng = np.random.default_rng(SEED)
    data = touche23(settings.datasets_dir, "test")
    touche_map = space.taxonomy_map("touche23")
    conclusions = [t.rpartition(": ")[2] for t in data.texts]
    pairs = []
    for c, category in enumerate(TOUCHE_CATEGORIES):
        if category not in touche_map:
            continue
        with_value = np.flatnonzero(data.labels[:, c] == 1)
        rng.shuffle(with_value)
        for k, i in enumerate(with_value[:REAL_PAIRS_PER_VALUE]):
            same = [j for j in np.flatnonzero(data.labels[:, c] == 0) if conclusions[j] == conclusions[i]]
            pool = same or list(np.flatnonzero(data.labels[:, c] == 0))
            j = pool[int(rng.integers(len(pool)))]
            prompt = f"What do you think: {conclusions[i]}?"
            profile = {touche_map[category][0]: PERSONA_MEAN}
            pairs.append(FitPair(f"touche-{c}-{k}", "touche_test", profile, prompt, data.texts[i], data.texts[j]))
    return pairs


def ranks_per_second(judge: PersonalJudge, pairs: Sequence[FitPair], sets: int = 12) -> float:
    chosen = [p for p in pairs if p.kind in ("explicit", "subtle")][: 2 * sets : 2]
    started = time.perf_counter()
    for first, second in zip(chosen, chosen[1:] + chosen[:1], strict=True):
        judge.rank(first.profile, first.prompt, [first.better, first.worse, second.better, second.worse])
    return round(len(chosen) / (time.perf_counter() - started), 2)


def _table(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for method, kinds in results.items():
        out[method] = {
            kind: {
                "n": v["n"],
                "accuracy": round(v["accuracy"], 3),
                "ci95": wilson(v["accuracy"] * v["n"], int(v["n"])),
            }
            for kind, v in kinds.items()
        }
    return out


def plot(figures: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = ["dev", "test", "heldout_real"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    for ax, name in zip(axes, sets, strict=True):
        methods = figures[name]
        kinds = list(next(iter(methods.values())))
        width = 0.8 / len(methods)
        for m, (method, table) in enumerate(methods.items()):
            accuracy = [table[k]["accuracy"] for k in kinds]
            ax.bar(np.arange(len(kinds)) + m * width, accuracy, width, label=method, color=COLOURS.get(method))
        ax.set_xticks(np.arange(len(kinds)) + 0.4 - width / 2, kinds, rotation=30, ha="right")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{name} pairs")
    axes[0].set_ylabel("share of pairs where the better reply wins")
    axes[0].legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)


def run(settings: Settings, out: Path, fluency: bool = True, progress: Callable[[str], None] = print) -> dict[str, Any]:
    space = load_space()
    judge, referee = shared_judge(settings, "a", fluency), shared_judge(settings, "b", fluency)
    plain_judge, plain_referee = shared_judge(settings, "a", False), shared_judge(settings, "b", False)
    distance = distance_picker(settings, space)
    written = {
        "judge": judge_picker(judge),
        "referee": judge_picker(referee),
        "judge_without_lm_term": judge_picker(plain_judge),
        "evaluator_distance": distance,
    }
    real = {"judge": judge_picker(plain_judge), "referee": judge_picker(plain_referee), "evaluator_distance": distance}
    pair_sets = {
        "dev": (load_pairs("dev"), written),
        "test": (load_pairs("test"), written),
        "heldout_real": (fulcra_pairs(settings, space) + touche_pairs(settings, space), real),
    }
    figures: dict[str, Any] = {}
    for name, (pairs, pickers) in pair_sets.items():
        results = {}
        for method, pick in pickers.items():
            progress(f"{name} pairs, {method}")
            results[method] = accuracy_by_kind(pairs, pick)
        figures[name] = _table(results)
    progress("ranking speed")
    figures["ranks_per_s_4_replies"] = {
        "with_lm_term": ranks_per_second(judge, pair_sets["dev"][0]),
        "without_lm_term": ranks_per_second(plain_judge, pair_sets["dev"][0]),
    }
    figures["fluency_term"] = fluency
    figures["goal"] = {"overall": 0.85, "salad": 0.97, "subtle": 0.75}
    figures["plot"] = str(plot(figures, out / "judge.png"))
    return figures
