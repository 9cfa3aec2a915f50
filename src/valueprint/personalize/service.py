"""The personalisation service of a running server: model, evaluator and steering vectors, loaded on first use.

Loading is lazy (a server that never serves a chat never loads a model) and happens once
per process, under a lock. Steering vectors are trained on first use if none are saved
for this model and value space (seconds on the default model), and saved for next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import EvaluatorError
from valueprint.personalize import steering
from valueprint.personalize.engine import Engine
from valueprint.personalize.runtime import LocalModel, local_model
from valueprint.settings import Settings
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

log = logging.getLogger("valueprint.personalize")


def scoped_profile(view: dict[str, Any], space: ValueSpace) -> ValueProfile:
    """A profile from a consent-scoped registry view: dimensions not shared are neutral and unknown."""
    dimensions = view.get("dimensions", {})
    means = np.array([dimensions[d]["mean"] if d in dimensions else 0.0 for d in space.ids])
    sds = np.array([dimensions[d]["sd"] if d in dimensions else 1.0 for d in space.ids])
    return ValueProfile.from_arrays(space, means, sds, boundaries=tuple(view.get("boundaries", ())))


class Personalizer:
    def __init__(self, settings: Settings, space: ValueSpace) -> None:
        self.settings, self.space = settings, space
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._steering: steering.SteeringSet | None = None

    @property
    def steering_dir(self) -> Path:
        return self.settings.data_dir / "steering"

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                model = local_model(self.settings.data_dir, self.settings.model_dir)
                self._engine = Engine(
                    self.space,
                    model=model,
                    score=self._score,
                    steering_hook=self._steering_hook,
                    precis_max_sd=self.settings.precis_min_confidence_sd,
                )
            return self._engine

    def evaluator(self) -> Any:
        from valueprint.evaluate.evaluator import shared_evaluator

        return shared_evaluator(self.settings)

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        return self.evaluator().score(list(texts))

    def steering_set(self, model: LocalModel) -> steering.SteeringSet:
        if self._steering is None:
            try:
                self._steering = steering.SteeringSet.load(self.steering_dir / model.name, self.space, model.name)
            except EvaluatorError:
                log.info("training steering vectors for %s (first use)", model.name)
                self._steering = self.train_steering()
        return self._steering

    def train_steering(self, on_progress: Callable[[int, int], None] | None = None) -> steering.SteeringSet:
        """Train one vector per dimension on the local model and save them for every later process."""
        model = self.engine().model
        assert model is not None
        trained = steering.train(model, self.space, on_progress=on_progress)
        trained.save(self.steering_dir / model.name)
        self._steering = trained
        return trained

    def _steering_hook(self, model: LocalModel, profile: ValueProfile, strength: float) -> AbstractContextManager:
        return self.steering_set(model).hook(model, profile, strength)
