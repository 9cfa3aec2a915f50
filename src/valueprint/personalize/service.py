"""The personalisation service of a running server: model, evaluator, steering vectors and adapters.

Loading is lazy (a server that never serves a chat never loads a model) and happens once
per process, under a lock. Steering vectors are trained on first use if none are saved
for this model and value space (about a minute on the default model), and saved for next
time. Personal adapters live in the adapter store, are swapped per request through the
model's adapter cache, and are trained by background jobs (in-process or on Dask).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import AdapterError, EvaluatorError, StrategyError
from valueprint.personalize import steering
from valueprint.personalize.adapters import AdapterCache, AdapterStore, adapters_root, cache_for
from valueprint.personalize.engine import Engine
from valueprint.personalize.finetune import read_meta
from valueprint.personalize.jobs import Jobs, TrainingRequest
from valueprint.personalize.runtime import LocalModel, model_for, upstream_for
from valueprint.personalize.training import check_trainable
from valueprint.settings import Settings
from valueprint.store.db import Database, shared_database
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
    def __init__(self, settings: Settings, space: ValueSpace, db: Database | None = None) -> None:
        self.settings, self.space = settings, space
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._steering: steering.SteeringSet | None = None
        self._adapters: AdapterCache | None = None
        self.answer_seconds: float | None = None  # how long the last plain + personalised pair of answers took
        self.adapters = AdapterStore(adapters_root(settings.data_dir))
        self._db, self._jobs = db, None

    @property
    def jobs(self) -> Jobs:
        """Adapter training jobs, their status in the database (`db`, else the settings' database on first use)."""
        if self._jobs is None:
            db = self._db or shared_database(self.settings.resolved_database_url)
            self._jobs = Jobs(db, self.settings.dask_scheduler, lease_s=self.settings.job_lease_s)
        return self._jobs

    @jobs.setter
    def jobs(self, jobs: Jobs) -> None:
        self._jobs = jobs

    def delete_adapter(self, participant_id: str) -> None:
        """The person's adapter, its checkpoints and their job records: a job still training for them, on
        any worker, finds its record gone at its next step, stops and removes what it wrote since."""
        with self.jobs.db.session() as session:
            self.jobs.forget_person(session, participant_id)
        self.adapters.delete_person(participant_id)

    @property
    def steering_dir(self) -> Path:
        return self.settings.data_dir / "steering"

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None and self.settings.upstream_url:
                self._engine = Engine(
                    self.space,
                    upstream=upstream_for(self.settings),
                    judge=self._rank,
                    precis_max_sd=self.settings.precis_min_confidence_sd,
                )
            if self._engine is None:
                model = model_for(self.settings)
                self._adapters = cache_for(model, self.settings.adapter_cache_size)
                self._engine = Engine(
                    self.space,
                    model=model,
                    judge=self._rank,
                    steering_hook=self._steering_hook,
                    adapter_hook=self._adapter_hook,
                    precis_max_sd=self.settings.precis_min_confidence_sd,
                )
            return self._engine

    def evaluator(self) -> Any:
        from valueprint.evaluate.evaluator import shared_evaluator

        return shared_evaluator(self.settings)

    def expected_answer_seconds(self) -> int:
        """About how long answering a prompt twice takes here: the last measured time, a guess before it."""
        return max(1, math.ceil(self.answer_seconds if self.answer_seconds is not None else 20.0))

    def judge(self) -> Any:
        """The personal judge (reader `a`, fluency from the local model unless an upstream answers, so that
        workers with an upstream load no language model at all), loaded on first use."""
        from valueprint.judge.service import shared_judge

        return shared_judge(self.settings, fluency=not self.settings.upstream_url)

    def _rank(self, profile: ValueProfile, prompt: str, texts: Sequence[str]) -> Any:
        return self.judge().rank(profile, prompt, list(texts))

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

    def adapter_cache(self) -> AdapterCache:
        self.engine()
        if self._adapters is None:
            raise StrategyError("personal adapters need the local model (this server answers with an upstream)")
        return self._adapters

    def _adapter_hook(self, path: Path) -> AbstractContextManager:
        return self.adapter_cache().activate(path)

    def _steering_hook(self, model: LocalModel, profile: ValueProfile, strength: float) -> AbstractContextManager:
        return self.steering_set(model).hook(model, profile, strength)

    # -- personal adapters ------------------------------------------------------------------

    def check_training_data(self) -> None:
        """Refuse at once, rather than fail in the background, when the labelled data sets that adapters learn
        from (Moral Stories' dev split is the first one read) are not where VALUEPRINT_DATASETS_DIR says."""
        if not (self.settings.datasets_dir / "moral_stories" / "norm_distance_dev.jsonl").is_file():
            raise AdapterError(
                "personal adapters cannot be trained on this server: the labelled data sets they learn from are "
                "not installed (an administrator sets VALUEPRINT_DATASETS_DIR to the folder that holds them)"
            )

    def training_request(
        self, subject: str, subject_id: str, profile: ValueProfile, own: list[tuple[str, str, str]] | None = None
    ) -> TrainingRequest:
        """A job for a person (starting from their nearest persona's adapter, if any) or a persona."""
        check_trainable(profile, self.space)
        self.check_training_data()
        person = subject == "person"
        out = self.adapters.person(subject_id) if person else self.adapters.persona(subject_id)
        nearest = self.adapters.nearest_persona_adapter(profile, self.space) if person else None
        job_id = self.job_id(subject, subject_id)
        s = self.settings
        return TrainingRequest(
            job_id=job_id,
            subject=subject,
            subject_id=subject_id,
            profile_json=profile.to_json(),
            out=str(out),
            data_dir=str(s.data_dir),
            datasets_dir=str(s.datasets_dir),
            model_dir=str(s.model_dir) if s.model_dir else None,
            model=s.model,
            evaluator_dir=str(s.evaluator_dir) if s.evaluator_dir else None,
            init_adapter=str(nearest[1]) if nearest else None,
            init_persona=nearest[0].id if nearest else None,
            steps=s.adapter_steps,
            reply_prompts=s.adapter_reply_prompts,
            own=list(own or []),
        )

    @staticmethod
    def job_id(subject: str, subject_id: str) -> str:
        return subject_id if subject == "person" else f"persona-{subject_id}"

    def adapter_status(self, participant_id: str) -> dict[str, Any]:
        """The person's adapter (its metadata) and their latest training job, either possibly absent."""
        folder = self.adapters.person(participant_id)
        adapter = read_meta(folder) if self.adapters.exists(folder) else None
        return {"adapter": adapter, "job": self.jobs.status(participant_id)}

    def person_adapter(self, participant_id: str) -> Path | None:
        folder = self.adapters.person(participant_id)
        return folder if self.adapters.exists(folder) else None
