"""Fitting the pre-label calibration on held-out *validation* data (never a test split).

The evaluator trained on Touché23 `training`, Value FULCRA `train`, Social Chemistry `train` and Moral
Stories `dev`; its thresholds were chosen on Touché23 `validation` and Social Chemistry `validation`.
The calibration uses those validation splits only:

- presence of the Schwartz dimensions: Touché23 validation arguments (a dimension is present when
  any Touché23 category mapped to it is labelled);
- presence of the moral foundations, and acceptability: Social Chemistry validation *actions* (the
  part of the hash split that `evaluate.datasets.social_chemistry` calls validation), with their
  rule of thumb's foundations and the action's moral judgement (0 .. 2 → neutral .. clearly good; the
  snapshot holds no wrong actions, see `prelabel`).

Each set is halved by a hash of the text: the maps are fitted on one half and the expected
calibration error (ECE) and accuracy are measured on the other, so the figures shipped in the
calibration's report describe data it was not fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.annotate.prelabel import (
    FIVE_POINTS,
    Calibration,
    expected_calibration_error,
    fit_platt,
    fit_softmax,
    logit,
)
from valueprint.evaluate import datasets
from valueprint.evaluate.datasets import FOUNDATIONS, TOUCHE_CATEGORIES, bucket

SC_VALIDATION_BUCKET = 2  # evaluate.datasets.social_chemistry: bucket 2 of the rule's hash is validation


@dataclass(frozen=True)
class Actions:
    """Social Chemistry actions: text, moral judgement as a scale point (0-4), foundations (or None)."""

    texts: list[str]
    points: np.ndarray
    foundations: list[set[str] | None]


def sc_actions(root: Path, limit: int | None = None, buckets: tuple[int, ...] = (SC_VALIDATION_BUCKET,)) -> Actions:
    """Distinct actions from the Social Chemistry rows whose rule falls in `buckets` (validation by default)."""
    seen: set[str] = set()
    texts, points, foundations = [], [], []
    for name in ("obligatory_sc101.csv", "optional_sc101.csv"):
        for row in datasets._csv(root / "social_chemistry_101" / name):
            rot, action = (row.get("rot") or "").strip(), (row.get("action") or "").strip()
            judgement = (row.get("action-moral-judgment") or "").strip()
            if not rot or not action or not judgement or action in seen or bucket(rot) not in buckets:
                continue
            try:
                point = round(float(judgement)) + 2
            except ValueError:
                continue
            if not 2 <= point < FIVE_POINTS:  # the snapshot has no wrong actions (see the module doc)
                continue
            seen.add(action)
            marked = {f for f in (row.get("rot-moral-foundations") or "").split("|") if f}
            texts.append(action)
            points.append(point)
            foundations.append(marked or None)
            if limit and len(texts) >= limit:
                return Actions(texts, np.array(points), foundations)
    return Actions(texts, np.array(points), foundations)


def schwartz_presence(root: Path, space: Any, limit: int | None = None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Touché23 validation texts and, per Schwartz dimension, 1 where a mapped category is labelled."""
    data = datasets.touche23(root, "validation")
    rows = np.arange(len(data))[:limit] if limit else np.arange(len(data))
    truth = {}
    for dim in space.dimensions:
        mapped = [TOUCHE_CATEGORIES.index(c) for c in dim.maps.get("touche23", [])]
        if mapped:
            truth[dim.id] = data.labels[rows][:, mapped].max(1)
    return [data.texts[i] for i in rows], truth


def _halves(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    half = np.array([bucket(t, 2) for t in texts])
    return half == 0, half == 1


def fit_calibration(evaluator: Any, root: Path, limit: int = 2000) -> Calibration:
    """Fits every map on one half of the validation data and reports ECE and accuracy on the other."""
    space = evaluator.space
    column = {dim.id: i for i, dim in enumerate(space.dimensions)}
    foundation_dims = {
        dim.id: [f for f in dim.maps.get("social_chemistry", []) if f in FOUNDATIONS] for dim in space.dimensions
    }
    foundation_dims = {d: f for d, f in foundation_dims.items() if f}

    touche_texts, touche_truth = schwartz_presence(root, space, limit)
    actions = sc_actions(root, limit)
    touche_scores = evaluator.read(touche_texts).scores
    reading = evaluator.read(actions.texts)

    presence: dict[str, tuple[float, float]] = {}
    held_confidence, held_correct, per_dim = [], [], {}
    for dim, truth in touche_truth.items():
        fit, held = _halves(touche_texts)
        x = logit(np.abs(touche_scores[:, column[dim]]))
        presence[dim] = fit_platt(x[fit], truth[fit])
        per_dim[dim] = _held_out(presence[dim], x[held], truth[held], held_confidence, held_correct)
    annotated = np.array([f is not None for f in actions.foundations])
    fit_a, held_a = _halves(actions.texts)
    for dim, names in foundation_dims.items():
        truth = np.array([float(bool(f and f & set(names))) for f in actions.foundations])
        x = logit(np.abs(reading.scores[:, column[dim]]))
        fit, held = fit_a & annotated, held_a & annotated
        presence[dim] = fit_platt(x[fit], truth[fit])
        per_dim[dim] = _held_out(presence[dim], x[held], truth[held], held_confidence, held_correct)

    z = logit(reading.heads.acceptable)
    acceptability = fit_softmax(z[fit_a], actions.points[fit_a] - 2, FIVE_POINTS - 2)
    calibration = Calibration("pending", presence, acceptability)
    points = calibration.acceptability_points(reading.heads.acceptable[held_a])
    top, truth_points = points.argmax(1), actions.points[held_a]
    report = {
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "touche23_validation_texts": len(touche_texts),
            "social_chemistry_validation_actions": len(actions.texts),
            "halves": "fitted on bucket(text, 2) == 0, measured on == 1",
        },
        "presence_ece": round(expected_calibration_error(np.array(held_confidence), np.array(held_correct)), 4),
        "presence_accuracy": round(float(np.mean(held_correct)), 4),
        "presence_per_dimension": per_dim,
        "acceptability_ece": round(expected_calibration_error(points.max(1), top == truth_points), 4),
        "acceptability_accuracy": round(float(np.mean(top == truth_points)), 4),
        "acceptability_within_one": round(float(np.mean(np.abs(top - truth_points) <= 1)), 4),
        "acceptability_majority_baseline": round(float(np.bincount(truth_points).max() / len(truth_points)), 4),
        "held_out_rows": {"presence_decisions": len(held_correct), "acceptability": int(held_a.sum())},
    }
    version = f"{datetime.now(UTC):%Y%m%d}-{len(touche_texts)}+{len(actions.texts)}"
    return Calibration(version, presence, acceptability, report)


def _held_out(
    platt: tuple[float, float], x: np.ndarray, truth: np.ndarray, confidence: list[float], correct: list[bool]
) -> dict[str, float]:
    from valueprint.annotate.prelabel import sigmoid

    p = sigmoid(platt[0] * x + platt[1])
    decided = p >= 0.5
    confidence.extend(np.maximum(p, 1 - p).tolist())
    correct.extend((decided == (truth == 1)).tolist())
    return {
        "ece": round(expected_calibration_error(np.maximum(p, 1 - p), decided == (truth == 1)), 4),
        "positives": int(truth.sum()),
        "rows": len(truth),
    }
