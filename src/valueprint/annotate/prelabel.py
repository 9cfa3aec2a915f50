"""Machine pre-labels: the evaluator's reading of a unit as suggestions an annotator accepts or corrects.

A pre-label is a unit's labels (`{"values": {dim: +1 | -1}, "acceptability": index, "why": None,
"custom": []}`) plus `confidence`, per component:

- values: only dimensions the evaluator *learned* from labelled data are suggested (the zero-shot
  ones have no labelled data to calibrate against, so they are never suggested). A dimension is
  suggested when its calibrated probability of being present is at least 0.5, with the direction of
  the evaluator's score. `confidence["values"][dim]` is P(present) for every learned dimension of
  the schema (the direction is not calibrated: the labelled sets say whether a value is at stake).
- acceptability: the five-point scale "clearly wrong" .. "clearly good". The evaluator's P(acceptable)
  (its Moral Stories head) splits wrong from not wrong; the not-wrong mass is spread over neutral /
  somewhat good / clearly good by a multinomial logistic regression fitted on Social Chemistry
  validation actions. The wrong side's share is the head's own probability, split evenly between its
  two points: no labelled data with wrong actions is available outside test splits (the Social
  Chemistry snapshot has no "bad" rules; Moral Stories dev trained the head; ETHICS is test only), so
  that side is not fitted, and the report's acceptability ECE covers acceptable actions only. A
  project scale of another length takes each of the five points' probability at its nearest point.
  `confidence["acceptability"]` is the suggested point's probability.
- the row's confidence (`Prelabel.confidence`): the chance that the whole suggestion is right, the
  components' probabilities multiplied (they are treated as independent).

The calibration (`Calibration`, shipped as `prelabel_calibration.json`) is fitted by
`fit_calibration` on validation splits the evaluator never trained on (never a test split), and
states its expected calibration error on a half it was not fitted on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from valueprint.annotate.schema import ACCEPTABILITY_SCALE, LabelSchema
from valueprint.errors import EvaluatorError

ORIGIN = "valueprint"  # annotate_prelabels.origin of machine pre-labels (imported ones: "import...")
CALIBRATION_FILE = "prelabel_calibration.json"
FIVE_POINTS = len(ACCEPTABILITY_SCALE)
ECE_BINS = 10


@dataclass(frozen=True)
class Prelabel:
    """One unit's suggestion: labels (with per-component `confidence`), the whole's confidence, the model."""

    labels: dict[str, Any]
    confidence: float
    model_version: str


class Prelabeller(Protocol):
    """Anything that suggests labels for texts under a project's schema (the evaluator; doubles in tests)."""

    model_version: str

    def predict(self, texts: Sequence[str], schema: LabelSchema) -> list[Prelabel]: ...


# -- calibration maps (pure numpy) ------------------------------------------------------------------


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit_platt(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """(a, b) with P(y=1) = sigmoid(a·x + b), by Newton's method on the log-loss (lightly regularised)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.zeros(2)
    for _ in range(iterations):
        p = sigmoid(design @ w)
        gradient = design.T @ (p - y) + 1e-3 * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-3 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1])


def fit_softmax(x: np.ndarray, y: np.ndarray, classes: int, iterations: int = 3000) -> list[list[float]]:
    """[[a_k, b_k]] with P(class k) ∝ exp(a_k·x + b_k) (multinomial logistic regression, gradient descent)."""
    x = np.asarray(x, dtype=np.float64)
    mean, sd = float(x.mean()), float(x.std() or 1.0)
    design = np.stack([(x - mean) / sd, np.ones_like(x)], axis=1)
    onehot = np.eye(classes)[np.asarray(y, dtype=int)]
    w = np.zeros((2, classes))
    for _ in range(iterations):
        p = softmax_rows(design @ w)
        w -= 0.5 * (design.T @ (p - onehot) / len(x) + 1e-4 * w)
    # back to the unstandardised feature: a·(x-m)/s + b = (a/s)·x + (b - a·m/s)
    return [[float(w[0, k] / sd), float(w[1, k] - w[0, k] * mean / sd)] for k in range(classes)]


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Σ_bins (share of rows) · |accuracy − mean confidence|, over equal-width confidence bins."""
    confidence, correct = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=np.float64)
    if not len(confidence):
        return 0.0
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            error += rows.mean() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(error)


@dataclass(frozen=True)
class Calibration:
    """Maps from the evaluator's outputs to calibrated probabilities (see the module doc)."""

    version: str
    presence: dict[str, tuple[float, float]]  # dimension -> Platt (a, b) on logit(|score|)
    acceptability: list[list[float]]  # three [a, b]: P(point 2+k | acceptable) ∝ exp(a·logit(q) + b)
    report: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, and its calibration errors

    def presence_probability(self, dimension: str, scores: np.ndarray) -> np.ndarray:
        a, b = self.presence[dimension]
        return sigmoid(a * logit(np.abs(scores)) + b)

    def acceptability_points(self, p_acceptable: np.ndarray) -> np.ndarray:
        """[n, 5] probabilities of the five scale points: the head's P(not acceptable) shared evenly by the
        two "wrong" points, and P(acceptable) spread over neutral / somewhat good / clearly good by the
        fitted map (see the module doc for why the wrong side has no fitted map)."""
        q = np.asarray(p_acceptable, dtype=np.float64)
        weights = np.asarray(self.acceptability, dtype=np.float64)
        upper = softmax_rows(logit(q)[:, None] * weights[:, 0] + weights[:, 1])
        wrong = (1 - q)[:, None] / 2
        return np.hstack([wrong, wrong, q[:, None] * upper])

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "presence": self.presence,
                "acceptability": self.acceptability,
                "report": self.report,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        raw = json.loads(text)
        presence = {dim: (float(a), float(b)) for dim, (a, b) in raw["presence"].items()}
        return cls(raw["version"], presence, raw["acceptability"], raw.get("report", {}))


def load_calibration(path: Path | None = None) -> Calibration:
    """The shipped calibration (next to this module), or the one at `path`."""
    try:
        if path is None:
            text = resources.files("valueprint.annotate").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise EvaluatorError(
            f"no pre-label calibration at {path or CALIBRATION_FILE}: fit one with `valueprint annotate calibrate`"
        ) from error
    return Calibration.from_json(text)


def on_scale(points: np.ndarray, scale_length: int) -> np.ndarray:
    """[n, scale_length]: each of the five points' probability given to the nearest point of the project's
    scale (ties: the lower one); identity for a five-point scale."""
    if scale_length == FIVE_POINTS:
        return points
    out = np.zeros((len(points), scale_length))
    for k in range(FIVE_POINTS):
        position = k / (FIVE_POINTS - 1) * (scale_length - 1)
        out[:, int(np.ceil(position - 0.5))] += points[:, k]
    return out


def suggest(
    schema: LabelSchema,
    learned: Sequence[str],
    scores: dict[str, np.ndarray],
    presence: dict[str, np.ndarray],
    points: np.ndarray,
    model_version: str,
) -> list[Prelabel]:
    """Pre-labels from calibrated probabilities (pure): `scores`/`presence` per learned dimension, [n] each;
    `points` [n, 5] for the acceptability scale."""
    dims = [d for d in schema.dimensions if d in learned]
    scale = on_scale(points, len(schema.scale))
    out = []
    for i in range(len(points)):
        values, confidence, whole = {}, {}, 1.0
        for dim in dims:
            p = float(presence[dim][i])
            confidence[dim] = round(p, 4)
            if p >= 0.5:
                values[dim] = 1 if scores[dim][i] >= 0 else -1
            whole *= max(p, 1 - p)
        point = int(np.argmax(scale[i]))
        p_point = float(scale[i, point])
        labels = {
            "values": values,
            "acceptability": point,
            "why": None,
            "custom": [],
            "confidence": {"values": confidence, "acceptability": round(p_point, 4)},
        }
        out.append(Prelabel(labels, round(whole * p_point, 4), model_version))
    return out


class EvaluatorPrelabeller:
    """Pre-labels from the value evaluator (MiniLM + heads) through the shipped calibration."""

    def __init__(self, evaluator: Any, calibration: Calibration | None = None) -> None:
        self.evaluator = evaluator
        self.calibration = calibration or load_calibration()
        self.learned = [s.dimension for s in evaluator.sources if s.kind == "learned"]
        missing = [d for d in self.learned if d not in self.calibration.presence]
        if missing:
            raise EvaluatorError(f"the pre-label calibration has no map for {missing}; refit it")
        meta = evaluator.meta
        self.model_version = (
            f"valueprint-evaluator/{meta.get('artefact_version')}@{meta.get('trained_at')}"
            f"+calibration/{self.calibration.version}"
        )[:200]

    def predict(self, texts: Sequence[str], schema: LabelSchema) -> list[Prelabel]:
        if not texts:
            return []
        reading = self.evaluator.read(list(texts))
        column = {dim.id: i for i, dim in enumerate(self.evaluator.space.dimensions)}
        scores = {d: reading.scores[:, column[d]] for d in self.learned}
        presence = {d: self.calibration.presence_probability(d, scores[d]) for d in self.learned}
        points = self.calibration.acceptability_points(reading.heads.acceptable)
        return suggest(schema, self.learned, scores, presence, points, self.model_version)


def evaluator_prelabeller(evaluator_dir: str | None = None, precision: str = "auto") -> EvaluatorPrelabeller:
    """The product pre-labeller (loads the evaluator: about a second); picklable by reference for Dask."""
    from valueprint.evaluate.evaluator import ValueEvaluator

    return EvaluatorPrelabeller(ValueEvaluator(Path(evaluator_dir) if evaluator_dir else None, precision))  # type: ignore[arg-type]
