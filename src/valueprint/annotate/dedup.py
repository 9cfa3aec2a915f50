"""Near-duplicate units: MinHash LSH (datasketch) over character 5-grams of the normalised text."""

from __future__ import annotations

from typing import Any

from valueprint.evaluate.backbone import require

THRESHOLD = 0.85  # estimated Jaccard similarity above which a unit repeats an earlier one
NUM_PERM = 128
SHINGLE = 5


class NearDuplicates:
    """Remembers the texts it has seen; `repeats(text)` says whether one nearly repeats an earlier one
    (and remembers it when it does not)."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self._datasketch = require("datasketch")
        self._lsh = self._datasketch.MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._exact: set[str] = set()
        self._count = 0

    def _signature(self, normal: str) -> Any:
        signature = self._datasketch.MinHash(num_perm=NUM_PERM, seed=1)
        grams = {normal[i : i + SHINGLE] for i in range(max(1, len(normal) - SHINGLE + 1))}
        signature.update_batch([gram.encode() for gram in grams])
        return signature

    def repeats(self, text: str) -> bool:
        normal = " ".join(text.lower().split())
        if normal in self._exact:
            return True
        signature = self._signature(normal)
        if self._lsh.query(signature):
            return True
        self._exact.add(normal)
        self._lsh.insert(str(self._count), signature)
        self._count += 1
        return False
