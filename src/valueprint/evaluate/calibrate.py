"""Everything fitted after the network: decision thresholds and the zero-shot dimensions.

- Thresholds: per Touché23 category and per moral foundation, the probability cut that
  maximises F1 on the *validation* split (macro-F1 rewards this; the test split is never used).
- Zero-shot: dimensions without labelled data are scored by comparing a text with the
  dimension's two pole descriptions in the *original* MiniLM embedding space (where
  similarity means what it was trained to mean). Fine-tuning moves the embedding, so a
  ridge regression maps the fine-tuned embedding back to the original one; one forward
  pass then serves both kinds of dimension.
"""

from __future__ import annotations

import numpy as np

from valueprint.values.space import Dimension

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
RIDGE_LAMBDA = 1.0
POLE_SCORE = 0.8  # a text as close to a pole as the pole's own description scores ±0.8


def f1_scores(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per-column F1 of binary matrices (0 where a column has no positives and no predictions)."""
    tp = (truth * predicted).sum(0)
    fp = ((1 - truth) * predicted).sum(0)
    fn = (truth * (1 - predicted)).sum(0)
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def best_thresholds(truth: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """For each column, the grid threshold with the highest F1 (the lowest such, on ties)."""
    scores = np.stack([f1_scores(truth, (probabilities >= t).astype(float)) for t in THRESHOLD_GRID])
    return THRESHOLD_GRID[np.argmax(scores, axis=0)]


def fit_ridge(fine_tuned: np.ndarray, original: np.ndarray, lam: float = RIDGE_LAMBDA) -> np.ndarray:
    """[385, 384] matrix R with [x, 1] @ R ≈ original embedding."""
    x = np.hstack([fine_tuned, np.ones((len(fine_tuned), 1), dtype=fine_tuned.dtype)]).astype(np.float64)
    regulariser = lam * np.eye(x.shape[1])
    regulariser[-1, -1] = 0.0
    return np.linalg.solve(x.T @ x + regulariser, x.T @ original.astype(np.float64)).astype(np.float32)


def reconstruct(fine_tuned: np.ndarray, ridge: np.ndarray) -> np.ndarray:
    return np.hstack([fine_tuned, np.ones((len(fine_tuned), 1), dtype=np.float32)]) @ ridge


def normalise(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9, None)


def pole_texts(dimension: Dimension) -> tuple[str, str]:
    """What the low and high pole of a dimension look like as text, for zero-shot similarity."""
    return f"{dimension.label}: {dimension.low}", f"{dimension.label}: {dimension.high}"


def pole_gap(embeddings: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """[n, d] cos(text, high pole) - cos(text, low pole)."""
    unit = normalise(embeddings)
    return unit @ normalise(high).T - unit @ normalise(low).T


def zero_shot_calibration(reference: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (the median text of the reference corpus is neutral) and scale of each zero-shot dimension."""
    centre = np.median(pole_gap(reference, low, high), axis=0)
    own_high = np.diag(pole_gap(high, low, high))
    own_low = np.diag(pole_gap(low, low, high))
    half_span = np.clip((own_high - own_low) / 2, 1e-3, None)
    scale = np.arctanh(POLE_SCORE) / half_span
    return centre.astype(np.float32), scale.astype(np.float32)


def zero_shot_scores(embeddings: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
    gap = pole_gap(embeddings, arrays["pole_low"], arrays["pole_high"])
    return np.tanh(arrays["zero_shot_scale"] * (gap - arrays["zero_shot_centre"]))
