"""The default scoring model for the packaged value space, bank and prior."""

from __future__ import annotations

from functools import lru_cache

from valueprint.values.bank import load_bank
from valueprint.values.prior import default_prior
from valueprint.values.scoring import ScoringModel
from valueprint.values.space import load_space


@lru_cache(maxsize=1)
def default_model() -> ScoringModel:
    space = load_space()
    return ScoringModel(space, load_bank(), default_prior(space))
