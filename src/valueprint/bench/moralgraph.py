"""`valueprint bench moralgraph`: the moral graph's aggregation on synthetic crowds, deduplication on real
paraphrases, and how long a large graph takes to build.

**Crowds.** A context has `values` values with a known true ordering (quality 0, 1, …). Each voter judges
`pairs_per_voter` pairs drawn uniformly (not by the product's pair selection, which needs the whole vote
history per draw), each shown in a random direction A → B, and perceives B as wiser with probability
σ(β·(q_B − q_A)) (Bradley-Terry; β = `SHARPNESS`); when the two are within one step of quality they say
"not sure" with probability `UNSURE`. A voter who perceives the move as wiser says yes, otherwise no.
Adversarial voters perceive the reversed ordering. The graph is `aggregate.aggregate` with the product's
default parameters; the recovered ordering is by PageRank; agreement is Kendall's τ with the truth, and
whether the winner is the truly wisest value. Figures are means over `seeds` crowds with 10th-90th
percentiles.

**Coordinated voters.** An honest crowd, then k coordinated accounts that each judge every pair with a
target value, shown as X → target, answering yes: the smallest k that makes the target the winner.
`fresh_accounts_attack` repeats it on the same crowds (the second best, a close winner, and the worst) with
votes weighted by annotation karma as the product stores them: attackers are fresh accounts (weight 0.1),
the honest crowd established annotators (1), or as fresh as the attackers; and, in the same run, unweighted.

**Deduplication.** Paraphrase groups from real text: ValueBench's psychometric items (MIT) each come with
the authors' rephrasing of the item as an advice-seeking question ("It is important to me to be rich …"
→ "Is it important for me to be rich …?"). Four items of one scale make a card (title: the scale; the first
item its description, the other three its policies); the same four items rephrased make its paraphrase.
Cards of the same scale are the hard negatives. Cards are split in two halves by a hash: the merge threshold
is chosen on the dev half (best F1) and precision and recall are reported on the test half, in contexts of
`DEDUP_CONTEXT` cards, with pairwise precision and recall over "merged together".

**Context detection** (with the embedder): the chat's rule for finding a prompt's context, on prompts
labelled by hand, threshold chosen on dev and reported on test (`bench.context_detection`).

**Build time.** 10,000 canonical cards and 100,000 votes stored in SQLite (100 contexts × 100 values), then
every context's graph built from the stored votes (`MoralGraph.export`); and the aggregation alone for one
context holding all 10,000 values and 100,000 votes.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.evaluate.datasets import bucket
from valueprint.moralgraph.aggregate import Vote, aggregate
from valueprint.moralgraph.cards import card_text
from valueprint.moralgraph.dedup import Embed, group

SHARPNESS = 1.0
UNSURE = 0.15
VOTER_COUNTS = (5, 10, 20, 50, 100, 200, 500)
DEDUP_CONTEXT = 40
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.60, 0.995, 0.01))
Progress = Callable[[str, int, int], None]


# -- synthetic crowds -----------------------------------------------------------------------------


def crowd_votes(
    rng: np.random.Generator, values: int, voters: int, pairs_per_voter: int, adversarial: float = 0.0
) -> list[Vote]:
    """The votes of a crowd over values 0 … values-1 (quality = id), a share of them adversarial."""
    pairs = list(itertools.combinations(range(values), 2))
    votes = []
    for voter in range(voters):
        flip = -1.0 if voter < round(adversarial * voters) else 1.0
        for index in rng.choice(len(pairs), size=min(pairs_per_voter, len(pairs)), replace=False):
            a, b = pairs[index]
            if rng.random() < 0.5:
                a, b = b, a
            if abs(a - b) <= 1 and rng.random() < UNSURE:
                votes.append(Vote(a, b, "not_sure"))
                continue
            wiser = rng.random() < 1 / (1 + np.exp(-SHARPNESS * flip * (b - a)))
            votes.append(Vote(a, b, "yes" if wiser else "no"))
    return votes


def kendall(rank: dict[int, float], values: int) -> float:
    """Kendall's τ-b between the PageRank of values 0 … values-1 and their true quality (= their id); ties
    count as ties (values nobody moved between keep 1/N each), and no information at all counts as 0."""
    from scipy.stats import kendalltau

    tau = float(kendalltau(np.arange(values), [rank[v] for v in range(values)]).statistic)
    return 0.0 if np.isnan(tau) else tau


def recovery(values: int, voters: int, pairs_per_voter: int, adversarial: float, seeds: int) -> dict[str, Any]:
    taus, wins, contested, kept = [], [], [], []
    pairs = values * (values - 1) / 2
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        graph = aggregate(range(values), crowd_votes(rng, values, voters, pairs_per_voter, adversarial))
        taus.append(kendall(graph.rank, values))
        wins.append(graph.winner == values - 1)
        contested.append(sum(e.status == "contested" for e in graph.edges) / pairs)
        kept.append(len(graph.kept) / pairs)
    return {
        "voters": voters,
        "pairs_kept": round(float(np.mean(kept)), 3),
        "pairs_contested": round(float(np.mean(contested)), 3),
        "kendall_tau": round(float(np.mean(taus)), 3),
        "tau_p10": round(float(np.percentile(taus, 10)), 3),
        "tau_p90": round(float(np.percentile(taus, 90)), 3),
        "winner_correct": round(float(np.mean(wins)), 3),
    }


def attackers_to_flip(
    values: int,
    honest: int,
    pairs_per_voter: int,
    target: int,
    seed: int,
    most: int = 500,
    attacker_weight: float = 1.0,
    honest_weight: float = 1.0,
) -> int | None:
    """The fewest coordinated accounts (each endorsing every move to `target`, one vote per pair) that make it
    the winner; votes weigh `attacker_weight` and `honest_weight` (see `aggregate`: karma weights)."""
    rng = np.random.default_rng(seed)
    base = [
        Vote(v.from_id, v.to_id, v.answer, honest_weight) for v in crowd_votes(rng, values, honest, pairs_per_voter)
    ]
    attack: list[Vote] = []
    for k in range(most + 1):
        if aggregate(range(values), base + attack).winner == target:
            return k
        attack += [Vote(x, target, "yes", attacker_weight, f"attacker{k}") for x in range(values) if x != target]
    return None


def fresh_attack(values: int, honest: int, pairs_per_voter: int, target: int, seeds: int) -> dict[str, Any]:
    """Coordinated fresh accounts (no annotation karma: `karma.FRESH_WEIGHT`) against the same honest crowds,
    counted three ways: every vote weighing 1 (no karma weighting), the honest crowd established annotators
    (weight 1) against fresh attackers, and an honest crowd as fresh as the attackers."""
    from valueprint.annotate.karma import FRESH_WEIGHT

    ways = {
        "unweighted": (1.0, 1.0, 500),
        "weighted_established_crowd": (FRESH_WEIGHT, 1.0, 5000),
        "weighted_fresh_crowd": (FRESH_WEIGHT, FRESH_WEIGHT, 500),
    }
    out: dict[str, Any] = {"target_true_rank": values - target, "fresh_weight": FRESH_WEIGHT}
    for name, (attacker, crowd, most) in ways.items():
        needed = [
            attackers_to_flip(values, honest, pairs_per_voter, target, seed, most, attacker, crowd)
            for seed in range(seeds)
        ]
        found = [k for k in needed if k is not None]
        out[name] = {
            "median_attackers": float(np.median(found)) if found else None,
            "min_attackers": min(found) if found else None,
            f"never_flipped_within_{most}": len(needed) - len(found),
            "per_seed": needed,
        }
    return out


# -- deduplication on paraphrase groups -----------------------------------------------------------


def paraphrase_cards(datasets_dir: Path) -> list[tuple[str, int, str, str]]:
    """(split, group, original card text, paraphrase card text) from ValueBench's items and rephrasings."""
    path = datasets_dir / "valuebench" / "value_orientation.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["item"].strip() and r["question"].strip()]
    scales: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        scales.setdefault((row["questionnaire"], row["value"]), []).append(row)
    cards = []
    for (questionnaire, value), items in sorted(scales.items()):
        for start in range(0, len(items) - 3, 4):
            four = items[start : start + 4]
            split = "dev" if bucket(f"{questionnaire}:{value}:{start}", 2) == 0 else "test"

            def card(field: str, four: list[dict[str, str]] = four, value: str = value) -> str:
                return card_text(value, four[0][field].strip(), [r[field].strip() for r in four[1:]])

            cards.append((split, len(cards), card("item"), card("question")))
    return cards


def pair_scores(groups: list[int], truth: list[int]) -> tuple[int, int, int]:
    """(true positives, predicted pairs, true pairs) over all pairs of cards."""
    tp = predicted = real = 0
    for i, j in itertools.combinations(range(len(groups)), 2):
        same, should = groups[i] == groups[j], truth[i] == truth[j]
        tp += same and should
        predicted += same
        real += should
    return tp, predicted, real


def dedup_curve(vectors: np.ndarray, truth: list[int], seed: int) -> dict[float, tuple[int, int, int]]:
    """Pairwise counts per threshold, the cards dealt into shuffled contexts of DEDUP_CONTEXT cards."""
    order = np.random.default_rng(seed).permutation(len(truth))
    counts = {t: (0, 0, 0) for t in THRESHOLDS}
    for start in range(0, len(order), DEDUP_CONTEXT):
        rows = order[start : start + DEDUP_CONTEXT]
        for t in THRESHOLDS:
            found = pair_scores(group(vectors[rows], t), [truth[r] for r in rows])
            counts[t] = tuple(a + b for a, b in zip(counts[t], found, strict=True))  # type: ignore[assignment]
    return counts


def precision_recall(tp: int, predicted: int, real: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / real if real else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(precision, 4), round(recall, 4), round(f1, 4)


def dedup(embed: Embed, datasets_dir: Path, product_threshold: float) -> dict[str, Any]:
    cards = paraphrase_cards(datasets_dir)
    result: dict[str, Any] = {"source": "ValueBench value_orientation.csv: items and the authors' rephrasings"}
    curves = {}
    for split in ("dev", "test"):
        mine = [c for c in cards if c[0] == split]
        texts = [t for c in mine for t in (c[2], c[3])]
        truth = [c[1] for c in mine for _ in range(2)]
        curves[split] = dedup_curve(np.asarray(embed(texts)), truth, seed=0)
        result[f"{split}_cards"] = len(texts)
    chosen = max(THRESHOLDS, key=lambda t: (precision_recall(*curves["dev"][t])[2], t))
    for name, threshold in (("chosen_on_dev", chosen), ("product_setting", product_threshold)):
        nearest = min(THRESHOLDS, key=lambda t: abs(t - threshold))
        p, r, f1 = precision_recall(*curves["test"][nearest])
        result[name] = {"threshold": nearest, "test_precision": p, "test_recall": r, "test_f1": f1}
    result["test_curve"] = [
        {"threshold": t, **dict(zip(("precision", "recall", "f1"), precision_recall(*curves["test"][t]), strict=True))}
        for t in THRESHOLDS
    ]
    return result


# -- build time -----------------------------------------------------------------------------------


def synthetic_rows(
    rng: np.random.Generator, contexts: int, values: int, votes: int, voters: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Canonical cards, transitions and votes (one per voter per pair; 75% of them for the higher id)."""
    cards = [
        {"id": c * values + v + 1, "context_id": c + 1, "title": f"v{v}", "description": "d", "policies": []}
        for c in range(contexts)
        for v in range(values)
    ]
    rows: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    ids: dict[tuple[int, int], int] = {}
    judged: set[tuple[int, int, int]] = set()
    for i in range(votes):
        c = int(rng.integers(contexts))
        a, b = (c * values + int(x) + 1 for x in rng.choice(values, size=2, replace=False))
        voter, low, high = i % voters, min(a, b), max(a, b)
        if (voter, low, high) in judged:  # one vote per person per pair, as the product keeps it
            continue
        judged.add((voter, low, high))
        if (a, b) not in ids:
            ids[(a, b)] = len(transitions) + 1
            transitions.append({"id": ids[(a, b)], "context_id": c + 1, "from_id": a, "to_id": b})
        answer = "yes" if (b > a) == (rng.random() < 0.75) else "no"
        rows.append(
            {
                "participant_id": f"p{voter}",
                "context_id": c + 1,
                "transition_id": ids[(a, b)],
                "from_id": a,
                "to_id": b,
                "low_id": low,
                "high_id": high,
                "answer": answer,
            }
        )
    return cards, transitions, rows


def build_time(contexts: int, values: int, votes: int, seed: int = 0) -> dict[str, Any]:
    """Store `contexts` × `values` canonical cards and `votes` votes in a fresh SQLite database, then time
    building every context's graph from the stored votes (the export), and one graph's page."""
    from sqlalchemy import insert

    from valueprint.moralgraph.service import MoralGraph
    from valueprint.settings import Settings
    from valueprint.store.db import Database, migrate
    from valueprint.store.models import CanonicalCard, MoralContext, Participant, Transition, WiserVote

    voters = max(1, votes // 20)
    cards, transitions, rows = synthetic_rows(np.random.default_rng(seed), contexts, values, votes, voters)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), environment="test")
        db = Database(settings.resolved_database_url)
        migrate(db.engine)
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(insert(Participant), [{"id": f"p{i}", "secret_hash": "-"} for i in range(voters)])
            connection.execute(
                insert(MoralContext), [{"id": c + 1, "text": f"when {c}", "source": "bench"} for c in range(contexts)]
            )
            connection.execute(insert(CanonicalCard), cards)
            connection.execute(insert(Transition), transitions)
            connection.execute(insert(WiserVote), rows)
        stored = time.perf_counter() - started
        graph = MoralGraph(db, settings)
        started = time.perf_counter()
        exported = graph.export()
        export_s = time.perf_counter() - started
        started = time.perf_counter()
        graph.graph(1)
        one_s = time.perf_counter() - started
        db.engine.dispose()
    return {
        "contexts": contexts,
        "canonical_cards": len(cards),
        "votes": len(rows),
        "store_s": round(stored, 2),
        "all_graphs_from_stored_votes_s": round(export_s, 2),
        "one_context_graph_s": round(one_s, 4),
        "edges_kept": sum(e["kept"] for c in exported["contexts"] for e in c["edges"]),
    }


def single_context_time(values: int, votes: int, seed: int = 0) -> dict[str, Any]:
    """The aggregation alone (tally, edges, PageRank) for one context of `values` values and `votes` votes
    (networkx imported beforehand: a once-per-process cost, not the graph's)."""
    import networkx  # noqa: F401

    rng = np.random.default_rng(seed)
    pairs = rng.integers(values, size=(votes, 2))
    cast = [Vote(int(a), int(b), "yes" if (b > a) == (rng.random() < 0.75) else "no") for a, b in pairs if a != b]
    started = time.perf_counter()
    graph = aggregate(range(values), cast)
    seconds = round(time.perf_counter() - started, 3)
    return {"values": values, "votes": len(cast), "aggregate_s": seconds, "edges_kept": len(graph.kept)}


# -- the whole benchmark ----------------------------------------------------------------------------


def run(
    embed: Embed | None,
    datasets_dir: Path,
    product_threshold: float,
    product_similarity: float = 0.48,
    seeds: int = 20,
    values: int = 8,
    pairs_per_voter: int = 6,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    show = on_progress or (lambda stage, done, total: None)
    honest, adversarial = [], []
    for i, voters in enumerate(VOTER_COUNTS):
        honest.append(recovery(values, voters, pairs_per_voter, 0.0, seeds))
        adversarial.append(recovery(values, voters, pairs_per_voter, 0.1, seeds))
        show("crowds", i + 1, len(VOTER_COUNTS))
    attacks = {}
    for name, target in (("second_best", values - 2), ("worst", 0)):
        needed = [attackers_to_flip(values, 100, pairs_per_voter, target, seed) for seed in range(min(seeds, 10))]
        found = [k for k in needed if k is not None]
        attacks[name] = {
            "target_true_rank": values - target,
            "median_attackers": float(np.median(found)) if found else None,
            "min_attackers": min(found) if found else None,
            "never_flipped_within_500": len(needed) - len(found),
            "per_seed": needed,
        }
    show("attack", 1, 1)
    figures: dict[str, Any] = {
        "crowd": {
            "values_per_context": values,
            "pairs_per_voter": pairs_per_voter,
            "seeds": seeds,
            "sharpness": SHARPNESS,
            "unsure": UNSURE,
            "honest": honest,
            "adversarial_10pct": adversarial,
        },
        "coordinated_attack": {"honest_voters": 100, **attacks},
        "fresh_accounts_attack": {
            "honest_voters": 100,
            "close_winner": fresh_attack(values, 100, pairs_per_voter, values - 2, min(seeds, 10)),
            "worst": fresh_attack(values, 100, pairs_per_voter, 0, min(seeds, 10)),
        },
    }
    if embed is not None:
        from valueprint.bench import context_detection

        figures["dedup"] = dedup(embed, datasets_dir, product_threshold)
        show("dedup", 1, 1)
        figures["context_detection"] = context_detection.run(embed, datasets_dir, product_similarity)
        show("detection", 1, 1)
    figures["build"] = build_time(100, 100, 100_000)
    figures["single_context"] = single_context_time(10_000, 100_000)
    show("build", 1, 1)
    return figures


def plot(figures: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from valueprint.bench.report import save_figure

    panels = 2 + ("dedup" in figures) + ("context_detection" in figures)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    crowd = figures["crowd"]
    for key, label, style in (("honest", "honest crowd", "-"), ("adversarial_10pct", "10% adversarial", "--")):
        rows = crowd[key]
        xs = [r["voters"] for r in rows]
        axes[0].plot(xs, [r["kendall_tau"] for r in rows], style, marker="o", label=label)
        axes[0].fill_between(xs, [r["tau_p10"] for r in rows], [r["tau_p90"] for r in rows], alpha=0.15)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("voters (6 pairs each)")
    axes[0].set_ylabel("Kendall's τ, PageRank vs true order")
    axes[0].set_title(f"{crowd['values_per_context']} values, {crowd['seeds']} crowds each")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    for key, label, style in (("honest", "honest", "-"), ("adversarial_10pct", "10% adversarial", "--")):
        rows = crowd[key]
        axes[1].plot([r["voters"] for r in rows], [r["winner_correct"] for r in rows], style, marker="o", label=label)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("voters")
    axes[1].set_ylabel("share of crowds whose winner is the truly wisest")
    attack = figures["coordinated_attack"]
    axes[1].set_title(
        f"coordinated accounts to crown the 2nd best: {attack['second_best']['median_attackers']}, "
        f"the worst: {attack['worst']['median_attackers']}",
        fontsize=9,
    )
    axes[1].legend()
    axes[1].grid(alpha=0.3)
    if "dedup" in figures:
        curve = figures["dedup"]["test_curve"]
        axes[2].plot([c["recall"] for c in curve], [c["precision"] for c in curve], marker=".")
        chosen = figures["dedup"]["chosen_on_dev"]
        label = f"threshold {chosen['threshold']} (chosen on dev)"
        axes[2].scatter([chosen["test_recall"]], [chosen["test_precision"]], color="C3", zorder=3, label=label)
        axes[2].set_xlabel("recall (test half)")
        axes[2].set_ylabel("precision (test half)")
        axes[2].set_title("dedup on ValueBench paraphrases")
        axes[2].legend()
        axes[2].grid(alpha=0.3)
    if "context_detection" in figures:
        detection, ax = figures["context_detection"], axes[panels - 1]
        curve = detection["test_curve"]
        xs = [c["threshold"] for c in curve]
        for key, label in (("precision", "precision"), ("recall", "recall"), ("false_match_rate", "false matches")):
            ax.plot(xs, [c[key] for c in curve], label=label)
        ax.axvline(detection["chosen_on_dev"]["threshold"], color="C3", linestyle=":", label="chosen on dev")
        ax.set_xlabel("similarity threshold")
        ax.set_title(f"chat context detection (test half, {detection['test']['prompts']} prompts)", fontsize=9)
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
