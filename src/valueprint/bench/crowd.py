"""`valueprint bench crowd`: how much the crowd's consensus can be trusted, and whether it helps the judge.

- **Aggregation**: Social Chemistry 101 validation actions (their crowd's moral judgment, on our five-point
  acceptability scale) as truth; simulated crowds (`crowd_sim`) with 0-40% spammers; accuracy on the units
  without known answers of majority vote, plain Dawid–Skene and ours (karma weights, gold clamped), over seeds.
- **Collusion**: on units whose label ours gets right and that a gold-checked annotator (karma ≥ trusted)
  labelled, the fewest fresh colluding accounts answering one wrong class that flip the label.
- **Karma**: Spearman correlation of annotators' karma (from gold labels, the product's rule) with their true
  accuracy.
- **The loop**: the judge's value reader retrained with 0, 500, 2,000 and 8,000 simulated consensus labels
  (a label = one text and one dimension) on Touché23 *validation* arguments (crowds as above on each Schwartz
  dimension's presence), and its accuracy on the judge benchmark's held-out pairs (FULCRA held-out replies,
  Touché23 test arguments), read without the language-model term.
- **Map stability**: the width of a group centroid's 95% bootstrap interval against group size, for profiles
  drawn from the questionnaire's population prior.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.annotate import karma
from valueprint.annotate.gold import gold_items, on_scale
from valueprint.bench import crowd_sim
from valueprint.bench.report import save_figure
from valueprint.settings import Settings
from valueprint.values.space import load_space

SPAM_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4)
SEEDS = (0, 1, 2, 3, 4)
LOOP_SIZES = (0, 500, 2000, 8000)
GROUP_SIZES = (5, 10, 20, 50, 100, 200)
CROWD = {"annotators": 30, "overlap": 3, "gold_share": 0.15}
Progress = Callable[[str], None]


def acceptability_truth(settings: Settings) -> np.ndarray:
    items = gold_items(load_space(), settings.datasets_dir, "social_chemistry")
    return np.array([on_scale(i.acceptability, 5) for i in items])


def aggregation(truth: np.ndarray) -> dict[str, Any]:
    table = {}
    for share in SPAM_SHARES:
        runs = {"majority": [], "dawid_skene": [], "ours": []}
        for seed in SEEDS:
            crowd = crowd_sim.simulate(truth, 5, spam_share=share, seed=seed, **CROWD)
            for method, labels in crowd_sim.aggregate(crowd).items():
                runs[method].append(crowd_sim.accuracy_off_gold(crowd, labels))
        table[f"{share:.1f}"] = {m: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)] for m, v in runs.items()}
    return table


def collusion(truth: np.ndarray, targets: int = 30) -> dict[str, Any]:
    crowd = crowd_sim.simulate(truth, 5, spam_share=0.2, seed=0, **CROWD)
    labels = crowd_sim.aggregate(crowd)
    karmas = crowd.karma()
    trusted = {w for w in range(crowd.n_workers) if karmas[w] >= karma.TRUSTED_KARMA}
    checked = {u for u, w, _ in crowd.rows if w in trusted and u not in crowd.known}
    chosen = [u for u in sorted(checked) if labels["ours"][u] == truth[u] and labels["majority"][u] == truth[u]]
    chosen = chosen[:targets]
    found: dict[str, list[int | None]] = {"majority": [], "ours": []}
    for unit in chosen:
        wrong = int((truth[unit] + 2) % 5)
        for method in found:
            found[method].append(crowd_sim.flips_needed(crowd, unit, wrong, method))
    summary = {}
    for method, needed in found.items():
        flipped = [n for n in needed if n is not None]
        summary[method] = {
            "flipped": len(flipped),
            "median_accounts_to_flip": float(np.median(flipped)) if flipped else None,
            "max_tried": 200,
        }
    return {"targets": len(chosen), "trusted_annotators": len(trusted), **summary}


def karma_ranking(truth: np.ndarray) -> dict[str, Any]:
    from scipy.stats import spearmanr

    rhos = []
    for seed in SEEDS:
        crowd = crowd_sim.simulate(truth, 5, spam_share=0.2, seed=seed, **CROWD)
        rhos.append(float(spearmanr(crowd.karma(), crowd.accuracy).statistic))
    return {"spearman_mean": round(float(np.mean(rhos)), 4), "per_seed": [round(r, 4) for r in rhos]}


def map_stability(rounds: int = 500, groups: int = 20) -> dict[str, float]:
    from valueprint.annotate.moralmap import bootstrap, position
    from valueprint.values.prior import default_prior

    space = load_space()
    prior = default_prior(space)
    rng = np.random.default_rng(0)
    widths = {}
    for n in GROUP_SIZES:
        found = []
        for g in range(groups):
            profiles = prior.sample(n, rng)
            points = np.array([position(dict(zip(space.ids, p, strict=True))) for p in profiles])
            interval = bootstrap(points, rounds, seed=g)
            found.append(np.mean([hi - lo for lo, hi in interval]))
        widths[str(n)] = round(float(np.mean(found)), 4)
    return widths


def run(settings: Settings, out: Path, progress: Progress = lambda _: None, loop: bool = True) -> dict[str, Any]:
    truth = acceptability_truth(settings)
    progress("aggregation")
    table = aggregation(truth)
    progress("collusion")
    colluding = collusion(truth)
    progress("karma")
    ranking = karma_ranking(truth)
    progress("map stability")
    stability = map_stability()
    figures: dict[str, Any] = {
        "truth": f"Social Chemistry 101 validation actions ({len(truth)}), moral judgment on a 5-point scale",
        "crowd": CROWD | {"honest_accuracy": list(crowd_sim.HONEST_ACCURACY), "seeds": len(SEEDS)},
        "accuracy_by_spam_share": table,
        "gain_over_majority_at_20pct_spam": round(table["0.2"]["ours"][0] - table["0.2"]["majority"][0], 4),
        "goal_gain": 0.05,
        "collusion": colluding,
        "karma_vs_true_accuracy": ranking,
        "map_interval_width_by_group_size": stability,
    }
    if loop:
        from valueprint.bench.crowd_loop import loop_curve

        progress("the loop (embedding the judge's training texts)")
        figures["loop"] = loop_curve(settings, LOOP_SIZES, progress)
    plot(figures, out / "crowd.png")
    return figures


def plot(figures: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if "loop" in figures else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    table = figures["accuracy_by_spam_share"]
    shares = [float(s) for s in table]
    for method in ("majority", "dawid_skene", "ours"):
        axes[0].plot(shares, [table[s][method][0] for s in table], marker="o", label=method)
    axes[0].set(xlabel="share of spammers", ylabel="accuracy off gold", title="Consensus accuracy")
    axes[0].legend()
    sizes = [int(n) for n in figures["map_interval_width_by_group_size"]]
    axes[1].plot(sizes, list(figures["map_interval_width_by_group_size"].values()), marker="o")
    axes[1].set(xscale="log", xlabel="group size", ylabel="mean 95% interval width", title="Map centroid stability")
    if "loop" in figures:
        points = figures["loop"]["points"]
        axes[2].errorbar(
            [p["labels"] for p in points],
            [p["accuracy"] for p in points],
            yerr=np.array([[p["accuracy"] - p["interval"][0], p["interval"][1] - p["accuracy"]] for p in points]).T,
            marker="o",
            capsize=3,
        )
        axes[2].set(xscale="symlog", xlabel="consensus labels added", ylabel="held-out pair accuracy", title="The loop")
    return save_figure(fig, path)
