"""Activation steering: one vector per value dimension, trained with `steering-vectors`.

For each dimension, contrastive prompt pairs are built from its two pole descriptions
(the same words the précis uses): the same user question answered by an assistant
that holds the high pole versus one that holds the low pole. The library records the
residual stream at the last token in the middle decoder layers and averages the
differences (its mean aggregator). A person's vector is the sum of the dimension
vectors weighted by their profile means (dimensions the profile is unsure of are
damped by their SD), times one global strength.

The vectors are saved with a version stamp (value space, model, layers) and loaded
without retraining; `valueprint steer train` builds them all in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import EvaluatorError
from valueprint.evaluate.backbone import require
from valueprint.personalize.runtime import LocalModel
from valueprint.personalize.strategies import DEFAULT_STEER_STRENGTH
from valueprint.values.profile import ValueProfile
from valueprint.values.space import Dimension, ValueSpace

STEERING_VERSION = "1"
DEFAULT_LAYERS = (10, 11, 12, 13, 14)
QUESTIONS = (
    "What matters most when making a hard decision?",
    "My friend asked me for advice about a difficult choice. What should I tell them?",
    "What do you think about how people should live their lives?",
    "Should I follow the rules or do what I think is right?",
    "How should a community handle a disagreement?",
    "What makes a good life?",
    "Give me your honest view on a controversial topic.",
    "How should I spend my weekend?",
)


def contrastive_pairs(dimension: Dimension, tokenizer: Any) -> list[tuple[str, str]]:
    """(high-pole, low-pole) chat transcripts ending where the assistant starts to answer."""

    def transcript(stance: str, question: str) -> str:
        messages = [
            {"role": "system", "content": f"You are an assistant who {stance}. Let that show in every answer."},
            {"role": "user", "content": question},
        ]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    high, low = _as_stance(dimension.high), _as_stance(dimension.low)
    return [(transcript(high, q), transcript(low, q)) for q in QUESTIONS]


def _as_stance(pole: str) -> str:
    """Poles read after "someone who" (values) or are instructions to the AI (behaviour)."""
    return pole if pole.split(" ", 1)[0].endswith("s") else f"is told to {pole}"


@dataclass
class SteeringSet:
    """Per-dimension vectors: {dimension: {layer: vector}}."""

    vectors: dict[str, dict[int, np.ndarray]]
    meta: dict[str, Any]

    def person_vector(self, profile: ValueProfile, strength: float = DEFAULT_STEER_STRENGTH) -> dict[int, np.ndarray]:
        weights = {d: score.mean * _certainty(score.sd) for d, score in profile.scores.items() if d in self.vectors}
        # A profile with many strong dimensions would add up to a vector that wrecks the model's
        # language (MODELS.md: ~4x one vector gives gibberish), so the weights are capped at unit length.
        norm = float(np.sqrt(sum(w * w for w in weights.values())))
        weights = {d: w / max(1.0, norm) for d, w in weights.items()}
        layers: dict[int, np.ndarray] = {}
        for dimension, per_layer in self.vectors.items():
            weight = weights.get(dimension, 0.0)
            for layer, vector in per_layer.items():
                layers[layer] = layers.get(layer, 0) + strength * weight * vector
        return layers

    def hook(
        self, model: LocalModel, profile: ValueProfile, strength: float = DEFAULT_STEER_STRENGTH
    ) -> AbstractContextManager:
        """A context manager steering `model` towards the profile while generating."""
        torch = require("torch")
        steering_vectors = require("steering_vectors")
        layer_activations = {
            layer: torch.tensor(vector, dtype=torch.float32)
            for layer, vector in self.person_vector(profile, strength).items()
        }
        steering = steering_vectors.SteeringVector(layer_activations, "decoder_block")
        return steering.apply(model.model, min_token_index=0)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        arrays = {f"{d}/{layer}": v for d, per_layer in self.vectors.items() for layer, v in per_layer.items()}
        np.savez(path / "vectors.npz", **arrays)
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path, space: ValueSpace, model_name: str) -> SteeringSet:
        try:
            meta = json.loads((path / "meta.json").read_text())
            arrays = np.load(path / "vectors.npz")
        except (OSError, ValueError) as error:
            raise EvaluatorError(
                f"no usable steering vectors at {path} ({error}): run `valueprint steer train`"
            ) from error
        if (meta.get("version"), meta.get("space_version"), meta.get("model")) != (
            STEERING_VERSION,
            space.version,
            model_name,
        ):
            raise EvaluatorError(f"the steering vectors at {path} are for another model or value space: retrain them")
        vectors: dict[str, dict[int, np.ndarray]] = {}
        for key in arrays.files:
            dimension, layer = key.rsplit("/", 1)
            vectors.setdefault(dimension, {})[int(layer)] = arrays[key]
        return cls(vectors, meta)


def _certainty(sd: float) -> float:
    """1 for a sure dimension, falling towards 0 as the SD reaches the prior's (about 0.5)."""
    return float(np.clip(1.0 - (sd / 0.5) ** 2, 0.0, 1.0))


def train(
    model: LocalModel,
    space: ValueSpace,
    layers: tuple[int, ...] = DEFAULT_LAYERS,
    on_progress: Callable[[int, int], None] | None = None,
) -> SteeringSet:
    steering_vectors = require("steering_vectors")
    vectors: dict[str, dict[int, np.ndarray]] = {}
    for done, dimension in enumerate(space.dimensions, start=1):
        pairs = contrastive_pairs(dimension, model.tokenizer)
        with model.lock:
            trained = steering_vectors.train_steering_vector(
                model.model, model.tokenizer, pairs, layers=list(layers), read_token_index=-1
            )
        vectors[dimension.id] = {layer: v.float().numpy() for layer, v in trained.layer_activations.items()}
        if on_progress:
            on_progress(done, space.size)
    meta = {
        "version": STEERING_VERSION,
        "space_version": space.version,
        "model": model.name,
        "layers": list(layers),
        "pairs_per_dimension": len(QUESTIONS),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return SteeringSet(vectors, meta)
