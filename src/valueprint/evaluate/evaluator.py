"""`ValueEvaluator`: score any text on every dimension of the value space, in [-1, 1].

How each dimension is scored (see `coverage()`; the report states it too):

- learned, Schwartz values: presence × direction. Presence is the strongest of the mapped
  Touché23 categories and the FULCRA "not absent" probability; direction is FULCRA's
  P(promoted) - P(violated), normalised (a text can draw on a value to defend or to attack it).
- learned, moral foundations: presence of the Social Chemistry foundation × direction, where
  direction is 2·P(acceptable) - 1 from the Moral Stories head (harming someone engages
  care *negatively*).
- zero-shot: similarity with the two pole descriptions in the original MiniLM space (see
  `calibrate`); no labelled data exists for these, and their scores are rough.

Presence is rescaled so that it is exactly 0.5 at the category's F1-optimal threshold.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valueprint.evaluate import artefact as artefacts
from valueprint.evaluate.backbone import Encoder, Precision, load_tokenizer_and_model, require
from valueprint.evaluate.calibrate import reconstruct, zero_shot_scores
from valueprint.evaluate.datasets import FOUNDATIONS, FULCRA_VALUES, TOUCHE_CATEGORIES
from valueprint.evaluate.heads import HeadOutputs
from valueprint.settings import Settings
from valueprint.values.space import ValueSpace, load_space

MAX_TEXTS = 100_000


@dataclass(frozen=True)
class DimensionSource:
    """Where a dimension's score comes from."""

    dimension: str
    kind: Literal["learned", "zero-shot"]
    touche: tuple[int, ...] = ()
    fulcra: tuple[int, ...] = ()
    foundations: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.kind == "zero-shot":
            return "zero-shot: similarity with the pole descriptions (no labelled data)"
        parts = []
        if self.touche:
            parts.append("Touché23 " + ", ".join(TOUCHE_CATEGORIES[i] for i in self.touche))
        if self.fulcra:
            parts.append("Value FULCRA " + ", ".join(FULCRA_VALUES[i] for i in self.fulcra))
        if self.foundations:
            parts.append("Social Chemistry " + ", ".join(FOUNDATIONS[i] for i in self.foundations))
            parts.append("direction from Moral Stories acceptability")
        return "learned: " + "; ".join(parts)


def dimension_sources(space: ValueSpace) -> tuple[DimensionSource, ...]:
    sources = []
    for dim in space.dimensions:
        touche = tuple(TOUCHE_CATEGORIES.index(c) for c in _labels(dim.maps, "touche23"))
        fulcra = tuple(FULCRA_VALUES.index(v) for v in _labels(dim.maps, "fulcra"))
        foundations = tuple(FOUNDATIONS.index(f) for f in _labels(dim.maps, "social_chemistry"))
        kind: Literal["learned", "zero-shot"] = "learned" if touche or fulcra or foundations else "zero-shot"
        sources.append(DimensionSource(dim.id, kind, touche, fulcra, foundations))
    return tuple(sources)


def _labels(maps: dict[str, object], taxonomy: str) -> list[str]:
    labels = maps.get(taxonomy, [])
    return [str(label) for label in labels] if isinstance(labels, list) else []


def presence(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Probabilities rescaled in logit space so that each threshold maps to 0.5."""
    p = np.clip(probabilities, 1e-6, 1 - 1e-6)
    t = np.clip(thresholds, 1e-6, 1 - 1e-6)
    shift = np.log(p / (1 - p)) - np.log(t / (1 - t))
    return 1.0 / (1.0 + np.exp(-shift))


@dataclass(frozen=True)
class Reading:
    """Everything one forward pass yields for a batch: head probabilities and dimension scores."""

    heads: HeadOutputs
    scores: np.ndarray  # [n, dims]


class ValueEvaluator:
    """Loads once (about a second); thread-safe; `score` takes any number of texts."""

    def __init__(
        self, path: Path | None = None, precision: Precision = "auto", space: ValueSpace | None = None
    ) -> None:
        self.space = space or load_space()
        self.artefact = artefacts.load(path or artefacts.packaged_artefact_dir(), self.space.version)
        self.sources = dimension_sources(self.space)
        self._lock = threading.Lock()
        self.encoder = Encoder(*self._merged_model(), precision=precision)
        arrays = self.artefact.arrays
        self._weight, self._bias = arrays["head_weight"], arrays["head_bias"]

    def _merged_model(self) -> tuple[Any, Any]:
        peft = require("peft")
        tokenizer, base = load_tokenizer_and_model()
        model = peft.PeftModel.from_pretrained(base, str(self.artefact.adapter_dir))
        return tokenizer, model.merge_and_unload()

    @property
    def meta(self) -> dict[str, Any]:
        return self.artefact.meta

    @cached_property
    def thresholds(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.meta["thresholds"].items()}

    def coverage(self) -> dict[str, str]:
        """Dimension id -> how it is scored, stated plainly."""
        return {s.dimension: s.describe() for s in self.sources}

    def read(self, texts: Sequence[str], batch_size: int = 64) -> Reading:
        if len(texts) > MAX_TEXTS:
            raise ValueError(f"score at most {MAX_TEXTS} texts per call; split the input")
        texts = [str(t) for t in texts]
        with self._lock:  # one forward pass at a time: torch already uses every core
            embeddings = self.encoder.embed(texts, batch_size=batch_size)
        heads = HeadOutputs.from_logits(embeddings @ self._weight.T + self._bias)
        zero_shot = zero_shot_scores(reconstruct(embeddings, self.artefact.arrays["ridge"]), self.artefact.arrays)
        return Reading(heads, self._combine(heads, zero_shot))

    def score(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """[n, dims] in [-1, 1], columns in the value space's order."""
        return self.read(texts, batch_size).scores

    def _combine(self, heads: HeadOutputs, zero_shot: np.ndarray) -> np.ndarray:
        touche = presence(heads.touche, self.thresholds["touche"])
        foundations = presence(heads.foundations, self.thresholds["foundations"])
        fulcra_presence, fulcra_direction = heads.fulcra_presence, heads.fulcra_direction
        acceptability = 2 * heads.acceptable - 1
        scores = np.zeros((len(zero_shot), self.space.size))
        column = 0
        for i, source in enumerate(self.sources):
            if source.kind == "zero-shot":
                scores[:, i] = zero_shot[:, column]
                column += 1
                continue
            strength = np.zeros(len(scores))
            if source.touche:
                strength = np.maximum(strength, touche[:, source.touche].max(1))
            if source.fulcra:
                weights = fulcra_presence[:, source.fulcra]
                strength = np.maximum(strength, weights.max(1))
                direction = (weights * fulcra_direction[:, source.fulcra]).sum(1) / np.clip(weights.sum(1), 1e-6, None)
            else:
                strength = np.maximum(strength, foundations[:, source.foundations].max(1))
                direction = acceptability
            scores[:, i] = strength * direction
        return np.clip(scores, -1.0, 1.0)

    def explain(self, text: str, top: int = 5) -> list[dict[str, Any]]:
        """The dimensions that drive this text's score, strongest first, with the evidence."""
        reading = self.read([text])
        heads, scores = reading.heads, reading.scores[0]
        explained = []
        for i in np.argsort(-np.abs(scores))[:top]:
            source = self.sources[i]
            dim = self.space.dimensions[i]
            explained.append(
                {
                    "dimension": dim.id,
                    "label": dim.label,
                    "score": round(float(scores[i]), 3),
                    "pole": dim.high if scores[i] >= 0 else dim.low,
                    "source": source.kind,
                    "evidence": _evidence(source, heads),
                }
            )
        return explained


def _evidence(source: DimensionSource, heads: HeadOutputs) -> list[str]:
    if source.kind == "zero-shot":
        return ["closer to one pole description than the other (zero-shot)"]
    evidence = [f"Touché23 '{TOUCHE_CATEGORIES[j]}' p={heads.touche[0, j]:.2f}" for j in source.touche]
    directions = ("violated", "absent", "promoted")
    for j in source.fulcra:
        probabilities = heads.fulcra[0, j]
        k = int(np.argmax(probabilities))
        evidence.append(f"FULCRA {FULCRA_VALUES[j]} {directions[k]} p={probabilities[k]:.2f}")
    for j in source.foundations:
        evidence.append(f"Social Chemistry '{FOUNDATIONS[j]}' p={heads.foundations[0, j]:.2f}")
    if source.foundations:
        evidence.append(f"acceptable p={heads.acceptable[0]:.2f}")
    return evidence


_shared: dict[tuple[str, str], ValueEvaluator] = {}
_shared_lock = threading.Lock()


def shared_evaluator(settings: Settings) -> ValueEvaluator:
    """One evaluator per process for these settings (loading takes about a second)."""
    path = settings.evaluator_dir or artefacts.packaged_artefact_dir()
    key = (str(path), settings.evaluator_precision)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = ValueEvaluator(path, settings.evaluator_precision)
        return _shared[key]
