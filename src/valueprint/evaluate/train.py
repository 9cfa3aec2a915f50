"""`valueprint evaluator train`: fine-tune MiniLM with LoRA on the real training splits, multi-task.

One pass over the data set mixture per epoch, batches of one task at a time in a seeded
random order: Touché23 training arguments (value categories), the training part of Value
FULCRA (value directions), the training part of Social Chemistry 101 (moral foundations;
a fresh random slice of `foundations_per_epoch` rules each epoch, so it does not swamp the
rest) and Moral Stories dev actions (acceptability). No test split is read here.

LoRA keeps the artefact small (a few MB, shipped in the package) while every layer of the
encoder adapts; at load time the adapter is merged, so inference costs the same as the
base model. Training uses bf16 autocast where the CPU supports it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.evaluate import datasets
from valueprint.evaluate.backbone import (
    EMBEDDING_SIZE,
    Precision,
    load_tokenizer_and_model,
    mean_pool,
    require,
    resolve_precision,
)
from valueprint.evaluate.datasets import Labelled
from valueprint.evaluate.heads import HEAD_SLICES, OUTPUTS

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 4
    batch_size: int = 32
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    learning_rate: float = 1e-3
    head_learning_rate: float = 3e-3
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    foundations_per_epoch: int = 3000
    max_tokens: int = 128  # covers every Touché23 argument; long FULCRA dialogues are cut
    seed: int = 13
    limit: int | None = field(default=None, metadata={"help": "Use only this many examples per task (smoke runs)."})
    precision: Precision = "auto"


@dataclass(frozen=True)
class TrainingData:
    touche: Labelled
    fulcra: Labelled
    foundations: Labelled
    acceptable: Labelled

    @classmethod
    def load(cls, root: Path, limit: int | None = None) -> TrainingData:
        parts = (
            datasets.touche23(root, "training"),
            datasets.fulcra(root, "train"),
            datasets.social_chemistry(root, "train"),
            datasets.moral_stories_actions(root, "dev"),
        )
        if limit is not None:
            parts = tuple(p.subset(np.arange(min(limit, len(p)))) for p in parts)
        return cls(*parts)

    def by_task(self) -> dict[str, Labelled]:
        return {
            "touche": self.touche,
            "fulcra": self.fulcra,
            "foundations": self.foundations,
            "acceptable": self.acceptable,
        }


def seed_everything(seed: int) -> None:
    torch = require("torch")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def epoch_batches(data: TrainingData, config: TrainConfig, rng: random.Random) -> list[tuple[str, list[int]]]:
    """(task, row indices) for one epoch, shuffled across tasks."""
    batches: list[tuple[str, list[int]]] = []
    for task, part in data.by_task().items():
        rows = list(range(len(part)))
        rng.shuffle(rows)
        if task == "foundations":
            rows = rows[: config.foundations_per_epoch]
        batches += [(task, rows[i : i + config.batch_size]) for i in range(0, len(rows), config.batch_size)]
    rng.shuffle(batches)
    return batches


def positive_weights(labels: np.ndarray) -> np.ndarray:
    """BCE weights for rare positives: sqrt(negatives / positives), within [1, 10]."""
    positives = labels.sum(0)
    return np.clip(np.sqrt((len(labels) - positives) / np.maximum(positives, 1)), 1.0, 10.0)


class Network:
    """The trainable model: MiniLM with LoRA adapters plus one linear layer for all heads."""

    def __init__(self, config: TrainConfig) -> None:
        torch = require("torch")
        peft = require("peft")
        self.tokenizer, base = load_tokenizer_and_model()
        lora = peft.LoraConfig(
            r=config.lora_rank,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=["query", "key", "value", "dense"],
        )
        self.encoder = peft.get_peft_model(base, lora)
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(EMBEDDING_SIZE, OUTPUTS)
        self.max_tokens = config.max_tokens

    def logits(self, texts: list[str]) -> Any:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, batch["attention_mask"]).float()))

    def train(self, mode: bool = True) -> None:
        self.encoder.train(mode)
        self.dropout.train(mode)


class Losses:
    """The loss of each task, on its slice of the head."""

    def __init__(self, data: TrainingData) -> None:
        self.torch = require("torch")
        functional = self.torch.nn.functional
        self.functional = functional
        self.pos_weight = {
            task: self.torch.tensor(positive_weights(data.by_task()[task].labels), dtype=self.torch.float32)
            for task in ("touche", "foundations")
        }

    def __call__(self, task: str, logits: Any, labels: np.ndarray) -> Any:
        torch, functional = self.torch, self.functional
        own = logits[:, HEAD_SLICES[task]]
        target = torch.tensor(labels, dtype=torch.float32)
        if task == "fulcra":
            classes = (target + 1).long().reshape(-1)
            return functional.cross_entropy(own.reshape(-1, 3), classes)
        return functional.binary_cross_entropy_with_logits(own, target, pos_weight=self.pos_weight.get(task))


def fit(
    network: Network, data: TrainingData, config: TrainConfig, on_progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Train in place; returns the loss history."""
    torch = require("torch")
    transformers = require("transformers")
    rng = random.Random(config.seed)
    losses = Losses(data)
    lora_params = [p for p in network.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": config.learning_rate},
            {"params": network.head.parameters(), "lr": config.head_learning_rate},
        ],
        weight_decay=config.weight_decay,
    )
    plan = [epoch_batches(data, config, rng) for _ in range(config.epochs)]
    steps = sum(len(p) for p in plan)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_fraction), steps)
    bf16 = resolve_precision(config.precision) == "bf16"
    history: list[float] = []
    step = 0
    started = time.perf_counter()
    network.train()
    for epoch, batches in enumerate(plan, start=1):
        for task, rows in batches:
            part = data.by_task()[task]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = network.logits([part.texts[i] for i in rows])
            loss = losses(task, logits.float(), part.labels[rows])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            history.append(float(loss.detach()))
            step += 1
            if on_progress:
                on_progress(f"epoch {epoch}/{config.epochs}", step, steps)
    network.train(False)
    return {
        "steps": steps,
        "seconds": round(time.perf_counter() - started, 1),
        "final_loss": float(np.mean(history[-50:])),
    }
