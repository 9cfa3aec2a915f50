"""The evaluator's output heads: one linear layer over the sentence embedding, sliced per task.

touche       20 sigmoid outputs   a Touché23 value category is drawn on (presence)
fulcra       11 × 3 softmax       a FULCRA basic value is violated / absent / promoted (direction)
foundations   5 sigmoid outputs   a Social Chemistry moral foundation is at stake (presence)
acceptable    1 sigmoid output    the action described is morally acceptable (Moral Stories)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valueprint.evaluate.datasets import FOUNDATIONS, FULCRA_VALUES, TOUCHE_CATEGORIES

HEAD_SIZES: dict[str, int] = {
    "touche": len(TOUCHE_CATEGORIES),
    "fulcra": len(FULCRA_VALUES) * 3,
    "foundations": len(FOUNDATIONS),
    "acceptable": 1,
}


def head_slices() -> dict[str, slice]:
    slices: dict[str, slice] = {}
    start = 0
    for name, size in HEAD_SIZES.items():
        slices[name] = slice(start, start + size)
        start += size
    return slices


HEAD_SLICES = head_slices()
OUTPUTS = sum(HEAD_SIZES.values())


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@dataclass(frozen=True)
class HeadOutputs:
    """Probabilities from every head for a batch of texts."""

    touche: np.ndarray  # [n, 20] P(category drawn on)
    fulcra: np.ndarray  # [n, 11, 3] P(violated), P(absent), P(promoted)
    foundations: np.ndarray  # [n, 5] P(foundation at stake)
    acceptable: np.ndarray  # [n] P(acceptable)

    @classmethod
    def from_logits(cls, logits: np.ndarray) -> HeadOutputs:
        return cls(
            touche=sigmoid(logits[:, HEAD_SLICES["touche"]]),
            fulcra=softmax(logits[:, HEAD_SLICES["fulcra"]].reshape(len(logits), len(FULCRA_VALUES), 3)),
            foundations=sigmoid(logits[:, HEAD_SLICES["foundations"]]),
            acceptable=sigmoid(logits[:, HEAD_SLICES["acceptable"]])[:, 0],
        )

    @property
    def fulcra_direction(self) -> np.ndarray:
        """[n, 11] in [-1, 1]: P(promoted) - P(violated), ignoring the chance the value is absent."""
        promoted, violated = self.fulcra[..., 2], self.fulcra[..., 0]
        return (promoted - violated) / np.clip(promoted + violated, 1e-6, None)

    @property
    def fulcra_presence(self) -> np.ndarray:
        return 1.0 - self.fulcra[..., 1]
