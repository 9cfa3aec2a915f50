"""The evaluator's accuracy on held-out, externally written labels, beside published figures.

Measured through the deployed path (`ValueEvaluator.read`, same precision and thresholds as
in production), on parts never used in training or calibration:

- Touché23 test split: macro-F1 over the 20 categories; next to the all-ones baseline
  computed here, the `pyvalues` dictionary classifier on the same split, and the SemEval-2023
  Task 4 published figures.
- Value FULCRA held-out fifth: for each (dialogue, value) labelled promoted or violated, does
  the predicted direction have the right sign.
- Social Chemistry 101 held-out fifth: macro-F1 over the five moral foundations.
- ETHICS commonsense test (short scenarios): wrong when P(acceptable) < 0.5. The
  acceptability head is trained on Moral Stories only: a transfer test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.evaluate import datasets
from valueprint.evaluate.calibrate import f1_scores
from valueprint.evaluate.datasets import FOUNDATIONS, FULCRA_VALUES, TOUCHE_CATEGORIES
from valueprint.evaluate.evaluator import ValueEvaluator

PUBLISHED_TOUCHE23 = {"all-ones baseline": 0.26, "BERT baseline": 0.42, "best system (ensemble)": 0.56}
GOAL_TOUCHE23 = 0.47

Progress = Callable[[str], None]


def measure_accuracy(evaluator: ValueEvaluator, root: Path, on_step: Progress | None = None) -> dict[str, Any]:
    step = on_step or (lambda _name: None)
    step("Touché23 test")
    touche = datasets.touche23(root, "test")
    touche_heads = evaluator.read(touche.texts).heads
    ours = f1_scores(touche.labels, (touche_heads.touche >= evaluator.thresholds["touche"]).astype(float))
    all_ones = f1_scores(touche.labels, np.ones_like(touche.labels))

    step("pyvalues on Touché23 test")
    from valueprint.evaluate.baselines import pyvalues_touche23

    dictionary = f1_scores(touche.labels, pyvalues_touche23(touche.texts))

    step("Value FULCRA held-out")
    fulcra = datasets.fulcra(root, "holdout")
    direction = evaluator.read(fulcra.texts).heads.fulcra_direction
    labelled = fulcra.labels != 0
    correct = np.sign(direction) == fulcra.labels
    per_value = {
        v: round(float(correct[labelled[:, j], j].mean()), 4)
        for j, v in enumerate(FULCRA_VALUES)
        if labelled[:, j].any()
    }

    step("Social Chemistry held-out")
    social = datasets.social_chemistry(root, "holdout")
    foundations_probability = evaluator.read(social.texts).heads.foundations
    foundations = f1_scores(
        social.labels, (foundations_probability >= evaluator.thresholds["foundations"]).astype(float)
    )

    step("ETHICS commonsense test")
    ethics = datasets.ethics_commonsense(root)
    predicted_wrong = evaluator.read(ethics.texts).heads.acceptable < 0.5
    ethics_accuracy = float(np.mean(predicted_wrong == (ethics.labels[:, 0] == 1)))

    return {
        "touche23_macro_f1": round(float(ours.mean()), 4),
        "touche23_all_ones_macro_f1": round(float(all_ones.mean()), 4),
        "pyvalues_touche23_macro_f1": round(float(dictionary.mean()), 4),
        "touche23_goal": GOAL_TOUCHE23,
        "touche23_published": PUBLISHED_TOUCHE23,
        "touche23_per_category": {
            c: {
                "ours": round(float(ours[i]), 4),
                "pyvalues": round(float(dictionary[i]), 4),
                "all_ones": round(float(all_ones[i]), 4),
            }
            for i, c in enumerate(TOUCHE_CATEGORIES)
        },
        "touche23_test_rows": len(touche),
        "fulcra_direction_accuracy": round(float(correct[labelled].mean()), 4),
        "fulcra_direction_per_value": per_value,
        "fulcra_direction_pairs": int(labelled.sum()),
        "fulcra_direction_majority_baseline": round(float(_majority_share(fulcra.labels[labelled])), 4),
        "socialchem_foundation_macro_f1": round(float(foundations.mean()), 4),
        "socialchem_foundation_f1": {f: round(float(foundations[i]), 4) for i, f in enumerate(FOUNDATIONS)},
        "socialchem_holdout_rows": len(social),
        "ethics_commonsense_accuracy": round(ethics_accuracy, 4),
        "ethics_commonsense_rows": len(ethics),
        "ethics_commonsense_majority_baseline": round(float(_majority_share(ethics.labels[:, 0])), 4),
    }


def _majority_share(labels: np.ndarray) -> float:
    """Accuracy of always answering the most common label."""
    _, counts = np.unique(labels, return_counts=True)
    return counts.max() / counts.sum()


def coverage_figures(evaluator: ValueEvaluator) -> dict[str, Any]:
    coverage = evaluator.coverage()
    learned = [d for d, how in coverage.items() if how.startswith("learned")]
    return {
        "dimensions_learned": len(learned),
        "dimensions_zero_shot": len(coverage) - len(learned),
        "dimensions_learned_ids": learned,
        "dimensions_zero_shot_ids": [d for d in coverage if d not in learned],
    }


def plot_touche(figures: dict[str, Any], path: Path) -> Path:
    """Per-category F1 of the evaluator, pyvalues and all-ones, with the published macro figures as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_category = figures["touche23_per_category"]
    names = list(per_category)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 8))
    for offset, key, label, colour in (
        (-0.27, "ours", f"valueprint evaluator (macro {figures['touche23_macro_f1']:.2f})", "#2b6cb0"),
        (0.0, "pyvalues", f"pyvalues dictionary (macro {figures['pyvalues_touche23_macro_f1']:.2f})", "#dd6b20"),
        (0.27, "all_ones", f"all-ones (macro {figures['touche23_all_ones_macro_f1']:.2f})", "#a0aec0"),
    ):
        ax.barh(y + offset, [per_category[n][key] for n in names], height=0.27, label=label, color=colour)
    for (label, value), style in zip(PUBLISHED_TOUCHE23.items(), (":", "--", "-."), strict=True):
        ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"published {label}: {value:.2f}")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("F1 on the Touché23 test split")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Value categories: per-category F1")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown(figures: dict[str, Any], meta: dict[str, Any], plot_name: str) -> str:
    published = ", ".join(f"{k} {v:.2f}" for k, v in PUBLISHED_TOUCHE23.items())
    goal_met = figures["touche23_macro_f1"] >= GOAL_TOUCHE23
    lines = [
        "# Value evaluator: accuracy on held-out labels",
        "",
        f"Artefact trained {meta.get('trained_at', '?')} (value space {meta.get('space_version')}; "
        f"{meta.get('training', {}).get('steps', '?')} steps in {meta.get('training', {}).get('seconds', '?')} s).",
        "",
        "| Measure | valueprint | Comparison |",
        "|---|---|---|",
        f"| Touché23 test macro-F1 (20 categories, {figures['touche23_test_rows']} arguments) | "
        f"**{figures['touche23_macro_f1']:.3f}** | pyvalues {figures['pyvalues_touche23_macro_f1']:.3f}; "
        f"all-ones here {figures['touche23_all_ones_macro_f1']:.3f}; published: {published} |",
        f"| Value FULCRA held-out direction accuracy ({figures['fulcra_direction_pairs']} value labels) | "
        f"**{figures['fulcra_direction_accuracy']:.3f}** | always 'promoted': "
        f"{figures['fulcra_direction_majority_baseline']:.3f} |",
        f"| Social Chemistry held-out moral foundations macro-F1 ({figures['socialchem_holdout_rows']} rules) | "
        f"**{figures['socialchem_foundation_macro_f1']:.3f}** | 5 foundations |",
        f"| ETHICS commonsense test accuracy ({figures['ethics_commonsense_rows']} short scenarios) | "
        f"**{figures['ethics_commonsense_accuracy']:.3f}** | majority class "
        f"{figures['ethics_commonsense_majority_baseline']:.3f}; trained on Moral Stories only (transfer) |",
        "",
        f"Goal: Touché23 macro-F1 ≥ {GOAL_TOUCHE23}: **{'met' if goal_met else 'NOT met'}**.",
        "",
        f"![Per-category F1]({plot_name})",
        "",
        "## Per category (Touché23 test F1)",
        "",
        "| Category | valueprint | pyvalues | all-ones |",
        "|---|---|---|---|",
    ]
    for name, row in figures["touche23_per_category"].items():
        lines.append(f"| {name} | {row['ours']:.3f} | {row['pyvalues']:.3f} | {row['all_ones']:.3f} |")
    lines += ["", "## FULCRA direction accuracy per value", "", "| Value | accuracy |", "|---|---|"]
    lines += [f"| {v} | {a:.3f} |" for v, a in figures["fulcra_direction_per_value"].items()]
    lines += ["", "## Coverage of the value space", ""]
    lines += [f"- `{d}`: {how}" for d, how in figures.get("coverage", {}).items()]
    return "\n".join(lines) + "\n"


def write_report(figures: dict[str, Any], meta: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_touche(figures, out / "evaluator_touche23_f1.png")
    report = out / "evaluator_report.md"
    report.write_text(markdown(figures, meta, plot.name), encoding="utf-8")
    return report, plot
