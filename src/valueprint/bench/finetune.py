"""`valueprint bench finetune`: personal adapters, how long they take, what they cost and what they change.

First the local model's candidate replies to training dilemmas are sampled (`replies`: once
per model, timed apart). For each persona (as a stand-in for a person: same pipeline, minus own
scenario answers) an adapter is trained by the same job function the server runs, timed end to
end (preference pairs, DPO, saving); the first includes loading the evaluator and scoring every
option, as a person's first training does in a fresh worker. Then, on DailyDilemmas prompts
held out from the replies (`fit.daily_dilemma_prompts(part="heldout")`):
alignment distance for base, précis, adapter and adapter+précis with bootstrap intervals; the
adapter's preference accuracy on held-out pairs (implicit DPO reward: does the adapter raise
the chosen reply's likelihood more than the rejected one's, relative to the plain model);
perplexity on neutral text with the adapter on; adapter size; and the swap time in the server's
adapter cache, cold (first load) and warm (already loaded).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.bench.personalize import bootstrap_reduction, generate, key
from valueprint.bench.report import save_figure
from valueprint.evaluate.alignment import profile_alignment
from valueprint.evaluate.fit import PERSONA_SD, sample_dilemmas
from valueprint.personalize import heldout
from valueprint.personalize.adapters import cache_for
from valueprint.personalize.finetune import read_meta
from valueprint.personalize.preferences import Pair, read_jsonl
from valueprint.personalize.replies import replies_file, reply_choices
from valueprint.personalize.runtime import LocalModel, Sampling, model_for
from valueprint.personalize.service import Personalizer
from valueprint.personalize.training import train_subject
from valueprint.settings import Settings
from valueprint.values.personas import Persona, load_personas
from valueprint.values.profile import ValueProfile
from valueprint.values.space import load_space

STRATEGIES = ("precis", "adapter", "adapter+precis")
Progress = Callable[[str, int, int], None]


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def sample_replies_once(settings: Settings, progress: Progress) -> dict[str, Any]:
    """The model's candidate replies, sampled before any training (once per model, not per person)."""
    cached = replies_file(settings.data_dir, model_for(settings).name, settings.adapter_reply_prompts).is_file()
    started = time.perf_counter()
    choices = reply_choices(
        settings.data_dir,
        settings.datasets_dir,
        settings.adapter_reply_prompts,
        settings.model_dir,
        lambda done, total: progress("sampling the model's own replies (once per model)", done, total),
    )
    seconds = None if cached else round(time.perf_counter() - started, 1)
    return {"reply_prompts": len(choices), "reply_sampling_seconds": seconds}


def train_personas(
    personalizer: Personalizer, personas: Sequence[Persona], reuse: bool, progress: Progress
) -> dict[str, Any]:
    seconds = []
    for done, persona in enumerate(personas):
        folder = personalizer.adapters.persona(persona.id)
        if reuse and personalizer.adapters.exists(folder):
            continue
        profile = persona.as_profile(personalizer.space, PERSONA_SD)
        request = personalizer.training_request("persona", persona.id, profile)
        label = f"training {persona.id} ({done + 1}/{len(personas)}): DPO step"
        started = time.perf_counter()
        train_subject(request, lambda step, total, label=label: progress(label, step, total))
        seconds.append(time.perf_counter() - started)
    metas = [read_meta(personalizer.adapters.persona(p.id)) for p in personas]
    return {
        "train_seconds": round(seconds[0], 1) if seconds else end_to_end(metas[0]),
        "train_seconds_all": [round(s, 1) for s in seconds],
        "dpo_seconds": [m["train_seconds"] for m in metas],
        "dpo_steps": metas[0]["config"]["steps"],
        "dpo_batch": metas[0]["config"]["batch_size"],
        "preference_pairs": {p.id: m["pairs"] for p, m in zip(personas, metas, strict=True)},
        "adapter_mb": round(
            (personalizer.adapters.persona(personas[0].id) / "adapter_model.safetensors").stat().st_size / 2**20, 2
        ),
    }


def end_to_end(meta: dict[str, Any]) -> float:
    """A reused adapter's training time from its metadata: preparing the pairs plus DPO."""
    return round(meta.get("preparation_seconds", 0.0) + meta["train_seconds"], 1)


def adapter_specificity(profiles: Sequence[ValueProfile], vectors: Sequence[np.ndarray]) -> dict[str, Any]:
    """Does each persona's own adapter fit them better than the other personas' adapters do?

    Row i, column j: the mean distance of persona j's adapter replies to persona i's profile.
    An adapter that only made replies generally more agreeable would score the same off the
    diagonal as on it.
    """
    matrix = np.array([[profile_alignment(p, v).mean() for v in vectors] for p in profiles])
    others = matrix[~np.eye(len(profiles), dtype=bool)]
    return {
        "adapter_distance_own": round(float(np.diag(matrix).mean()), 4),
        "adapter_distance_others": round(float(others.mean()), 4) if others.size else None,
        "adapter_cross_distance": np.round(matrix, 4).tolist(),
    }


def swap_times(model: LocalModel, folders: Sequence[Path], repeats: int = 20) -> dict[str, float]:
    cache = cache_for(model, capacity=max(2, len(folders)))
    cold = []
    for folder in folders:
        started = time.perf_counter()
        with model.lock, cache.activate(folder):
            pass
        cold.append(time.perf_counter() - started)
    warm = []
    for i in range(repeats):
        started = time.perf_counter()
        with model.lock, cache.activate(folders[i % len(folders)]):
            pass
        warm.append(time.perf_counter() - started)
    return {
        "swap_ms": round(statistics.median(warm) * 1000, 2),
        "swap_ms_cold": round(statistics.median(cold) * 1000, 1),
    }


def log_likelihood(model: LocalModel, prompt: str, reply: str) -> float:
    """log p(reply | prompt) under the model as it stands (adapter on or off)."""
    torch = model.torch
    prefix = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
    )
    full = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}], tokenize=False
    )
    start = len(model.tokenizer(prefix)["input_ids"])
    ids = torch.tensor([model.tokenizer(full)["input_ids"]])
    with torch.inference_mode():
        logits = model.model(input_ids=ids).logits[0, :-1]
    logp = torch.log_softmax(logits.float(), dim=-1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logp[start - 1 :].sum())


def preference_wins(model: LocalModel, folder: Path, pairs: Sequence[Pair]) -> list[bool]:
    """Per pair: does the adapter's implicit DPO reward prefer the chosen reply to the rejected one?"""

    def margins() -> list[float]:
        return [log_likelihood(model, p.prompt, p.chosen) - log_likelihood(model, p.prompt, p.rejected) for p in pairs]

    with model.lock:
        plain = margins()
        with cache_for(model).activate(folder):
            tuned = margins()
    return [t - p > 0 for p, t in zip(plain, tuned, strict=True)]


def preference_accuracy(model: LocalModel, folder: Path, per_source: int, seed: int) -> dict[str, float]:
    """Accuracy on up to `per_source` held-out pairs of each source, and on as many training pairs.

    Held-out pairs are grouped by source because they differ in kind: Moral Stories is the
    training distribution, ETHICS and DailyDilemmas are not; the training pairs show whether
    DPO learned at all.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str, list[Pair]] = {"train": read_jsonl(folder / "preferences" / "train.jsonl")}
    for pair in read_jsonl(folder / "preferences" / "heldout.jsonl"):
        groups.setdefault(pair.source, []).append(pair)
    accuracy, heldout_wins = {}, []
    for source, pairs in groups.items():
        picked = [pairs[i] for i in sorted(rng.choice(len(pairs), min(per_source, len(pairs)), replace=False))]
        wins = preference_wins(model, folder, picked)
        accuracy[source] = round(sum(wins) / len(wins), 3)
        heldout_wins += wins if source != "train" else []
    accuracy["heldout"] = round(sum(heldout_wins) / max(len(heldout_wins), 1), 3)
    return accuracy


def run(
    settings: Settings,
    personas_n: int = 4,
    prompts_n: int = 30,
    max_new_tokens: int = 48,
    pairs_per_source: int = 30,
    reuse: bool = False,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    progress = on_progress or _quiet
    space = load_space()
    personalizer = Personalizer(settings, space)
    personas = load_personas()[:personas_n]
    figures: dict[str, Any] = {"personas": [p.id for p in personas]}
    figures |= sample_replies_once(settings, progress)
    figures |= train_personas(personalizer, personas, reuse, progress)
    engine = personalizer.engine()
    model = engine.model
    assert model is not None
    folders = [personalizer.adapters.persona(p.id) for p in personas]
    figures |= swap_times(model, folders)

    prompts = sample_dilemmas(settings.datasets_dir, prompts_n, seed, part="heldout")
    sampling = Sampling(max_new_tokens=max_new_tokens, seed=seed)
    evaluator = personalizer.evaluator()

    def replies(strategy: str, persona: Persona | None, folder: Path | None) -> list[str]:
        context = engine.context(persona.as_profile(space, PERSONA_SD) if persona else None, adapter=folder)
        return generate(engine, prompts, strategy, context, sampling, batch=16).texts

    progress("generating: base", 0, 1)
    base_vectors = evaluator.score(replies("base", None, None))
    distances: dict[str, list[np.ndarray]] = {"base": []}
    accuracy, perplexity, adapter_vectors = {}, [], []
    base_perplexity = model.perplexity(heldout.neutral_passages())
    for done, (persona, folder) in enumerate(zip(personas, folders, strict=True)):
        progress(f"measuring {persona.id}", done, len(personas))
        profile = persona.as_profile(space, PERSONA_SD)
        distances["base"].append(profile_alignment(profile, base_vectors, space))
        for strategy in STRATEGIES:
            vectors = evaluator.score(replies(strategy, persona, folder))
            distances.setdefault(strategy, []).append(profile_alignment(profile, vectors, space))
            adapter_vectors += [vectors] if strategy == "adapter" else []
        accuracy[persona.id] = preference_accuracy(model, folder, pairs_per_source, seed)
        perplexity.append(model.perplexity(heldout.neutral_passages(), hook=cache_for(model).activate(folder)))
    stacked = {s: np.stack(v) for s, v in distances.items()}
    figures["distance_base"] = round(float(stacked["base"].mean()), 4)
    for strategy in STRATEGIES:
        reduction = bootstrap_reduction(stacked["base"], stacked[strategy], 1000, seed)
        figures[f"distance_{key(strategy)}"] = round(float(stacked[strategy].mean()), 4)
        figures[f"reduction_{key(strategy)}"] = reduction["mean"]
        figures[f"reduction_{key(strategy)}_ci95"] = [reduction["ci_low"], reduction["ci_high"]]
    figures |= {
        "prompts": len(prompts),
        "per_persona": {
            p.id: {s: round(float(d[k].mean()), 4) for s, d in stacked.items()} for k, p in enumerate(personas)
        },
        **adapter_specificity([p.as_profile(space, PERSONA_SD) for p in personas], adapter_vectors),
        "preference_accuracy": accuracy,
        "heldout_preference_accuracy": round(float(np.mean([a["heldout"] for a in accuracy.values()])), 3),
        "train_preference_accuracy": round(float(np.mean([a["train"] for a in accuracy.values()])), 3),
        "perplexity_base": round(base_perplexity, 3),
        "perplexity_adapter": round(float(np.mean(perplexity)), 3),
        "perplexity_change": round(float(np.mean(perplexity)) / base_perplexity - 1, 4),
    }
    return figures


def plot(figures: dict[str, Any], path: Path) -> Path:
    """Distance to each persona per condition (lower is better) beside preference accuracy by source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conditions = ["base", *STRATEGIES]
    personas = figures["personas"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [3, 2]})
    x, width = np.arange(len(personas)), 0.8 / len(conditions)
    for i, condition in enumerate(conditions):
        heights = [figures["per_persona"][p][condition] for p in personas]
        left.bar(x + (i - (len(conditions) - 1) / 2) * width, heights, width, label=condition)
    left.set_xticks(x, [p.replace("-", "\n", 1) for p in personas], fontsize=8)
    lowest = min(min(d.values()) for d in figures["per_persona"].values())
    left.set_ylim(bottom=0.8 * lowest)  # the differences are a few hundredths: do not start at zero
    left.set_ylabel("alignment distance (lower = closer)")
    left.legend(fontsize=8)
    left.set_title(f"{figures['prompts']} held-out DailyDilemmas prompts", fontsize=10)
    found = {s for a in figures["preference_accuracy"].values() for s in a} - {"train", "heldout"}
    sources = ["train", *sorted(found), "heldout"]
    means = [np.mean([a[s] for a in figures["preference_accuracy"].values() if s in a]) for s in sources]
    right.barh(sources, means, color="#55a868")
    right.axvline(0.5, ls="--", color="grey")
    right.set_xlim(0, 1)
    right.set_xlabel("preference accuracy (implicit DPO reward; 0.5 = chance)")
    right.invert_yaxis()
    steps = f"{figures['dpo_steps']} DPO steps × {figures['dpo_batch']} pairs"
    fig.suptitle(f"Persona LoRA adapters: {steps}, {figures['train_seconds']:.0f} s to train one")
    return save_figure(fig, path)
