"""Re-scoring after one more answer, without starting over.

A questionnaire re-scores a person after every answer, and every answer changes the
posterior only a little. What does not depend on the answers' values is remembered by
the model itself (the covariance per answered set, `ScoringModel.covariance`; the next
item and the questions left per path, `adaptive.plan`). What does depend on them, the
MAP mean, has no closed form once a scenario was answered: Newton's method finds it.
`PosteriorMemo` keeps the MAP means it computed, keyed by the answers they came from, so
the next answer's search starts at the last mean (a step or two away) instead of at the
Gaussian answers' mean, and the same answers scored again (the profile read after the
answer, a retried request) get the very same posterior back. The log-posterior is
strictly concave, so the maximum Newton reaches is the same from any start, to the last
few bits (tests/test_incremental.py checks it against a full recomputation); the memo
only saves work, and a miss (another worker served the last answer, or the entry was
evicted) only costs it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from valueprint.values.answers import Answers
from valueprint.values.scoring import Posterior, ScoringModel

MEANS_KEPT = 20_000  # one 26-float MAP mean each (the covariance comes from the model's own cache): ~8 MB


def answers_key(answers: Answers) -> bytes:
    """What the posterior depends on: the scored answers and their values (skips, boundaries and
    demographics do not move it), as a 128-bit BLAKE2b digest of their exact text (a float's repr
    round-trips), so different answers never share a key. Equal answers in any order give one key."""
    scored = (sorted(answers.likert.items()), sorted(answers.slider.items()), sorted(answers.scenario.items()))
    return hashlib.blake2b(repr(scored).encode(), digest_size=16).digest()


class PosteriorMemo:
    """MAP means by the answers they were computed from (bounded LRU, thread-safe); see the module. Only the
    mean is kept: the rest of a posterior follows from it and from which items were answered."""

    def __init__(self, model: ScoringModel, size: int = MEANS_KEPT) -> None:
        self.model, self.size = model, size
        self.lock = threading.Lock()
        self.means = OrderedDict[bytes, np.ndarray]()

    def _get(self, key: bytes) -> np.ndarray | None:
        with self.lock:
            mean = self.means.get(key)
            if mean is not None:
                self.means.move_to_end(key)
            return mean

    def _put(self, key: bytes, mean: np.ndarray) -> None:
        with self.lock:
            self.means[key] = mean
            self.means.move_to_end(key)
            while len(self.means) > self.size:
                self.means.popitem(last=False)

    def posterior(self, answers: Answers, before: bytes | None = None) -> Posterior:
        """The posterior after `answers` (its mean remembered); `before` is `answers_key` of the answers as they
        were before the latest change, whose MAP mean, if remembered, is where the search starts."""
        key = answers_key(answers)
        if (known := self._get(key)) is not None:  # the very same numbers as when it was computed
            answered = self.model.encode(answers).mask[0]
            return Posterior(mean=np.clip(known, -1.0, 1.0), cov=self.model.covariance(answered), map_mean=known)
        posterior = self.model.posterior(answers, None if before is None else self._get(before))
        assert posterior.map_mean is not None
        self._put(key, posterior.map_mean)
        return posterior
