"""Re-scoring after one more answer, without starting over.

A questionnaire re-scores a person after every answer, and every answer changes the
posterior only a little. What does not depend on the answers' values is remembered by
the model itself (the covariance per answered set, `ScoringModel.covariance`; the next
item and the questions left per path, `adaptive.plan`). What does depend on them, the
MAP mean, has no closed form once a scenario was answered: Newton's method finds it.
`PosteriorMemo` keeps the posteriors it computed, keyed by the answers they came from, so
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

from valueprint.values.answers import Answers
from valueprint.values.scoring import Posterior, ScoringModel

POSTERIORS_KEPT = 20_000  # two 26-float vectors each (the covariance is shared): about 10 MB with the keys


def answers_key(answers: Answers) -> bytes:
    """What the posterior depends on: the scored answers and their values (skips, boundaries and
    demographics do not move it), as a 128-bit BLAKE2b digest of their exact text (a float's repr
    round-trips), so different answers never share a key. Equal answers in any order give one key."""
    scored = (sorted(answers.likert.items()), sorted(answers.slider.items()), sorted(answers.scenario.items()))
    return hashlib.blake2b(repr(scored).encode(), digest_size=16).digest()


class PosteriorMemo:
    """Posteriors by the answers they were computed from (bounded LRU, thread-safe); see the module."""

    def __init__(self, model: ScoringModel, size: int = POSTERIORS_KEPT) -> None:
        self.model, self.size = model, size
        self.lock = threading.Lock()
        self.posteriors = OrderedDict[bytes, Posterior]()

    def _get(self, key: bytes) -> Posterior | None:
        with self.lock:
            posterior = self.posteriors.get(key)
            if posterior is not None:
                self.posteriors.move_to_end(key)
            return posterior

    def _put(self, key: bytes, posterior: Posterior) -> None:
        with self.lock:
            self.posteriors[key] = posterior
            self.posteriors.move_to_end(key)
            while len(self.posteriors) > self.size:
                self.posteriors.popitem(last=False)

    def posterior(self, answers: Answers, before: bytes | None = None) -> Posterior:
        """The posterior after `answers` (remembered); `before` is `answers_key` of the answers as they were
        before the latest change, whose MAP mean, if remembered, is where the search starts."""
        key = answers_key(answers)
        if (known := self._get(key)) is not None:
            return known
        previous = None if before is None else self._get(before)
        posterior = self.model.posterior(answers, None if previous is None else previous.map_mean)
        self._put(key, posterior)
        return posterior
