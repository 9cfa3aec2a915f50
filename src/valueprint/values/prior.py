"""The population prior of the scoring model: a mean vector and a covariance matrix."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from valueprint.errors import CatalogueError
from valueprint.values.catalogue import read_package_toml
from valueprint.values.space import ValueSpace

MIN_EIGENVALUE = 0.05


@dataclass(frozen=True)
class Prior:
    mean: np.ndarray  # (d,)
    cov: np.ndarray  # (d, d), symmetric positive definite

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw `n` profiles in [-1, 1] (draws outside are clipped to the poles)."""
        return np.clip(rng.multivariate_normal(self.mean, self.cov, size=n), -1.0, 1.0)


def nearest_correlation(matrix: np.ndarray, floor: float = MIN_EIGENVALUE) -> np.ndarray:
    """Make a symmetric matrix a valid correlation matrix by clipping its eigenvalues."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    repaired = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    scale = np.sqrt(np.diag(repaired))
    return repaired / np.outer(scale, scale)


def _default_correlation(space: ValueSpace, config: dict) -> np.ndarray:
    corr = np.eye(space.size)
    order = [space.index(dim) for dim in config["circumplex_order"]]
    strength = float(config["circumplex_strength"])
    for a, i in enumerate(order):
        for b, j in enumerate(order):
            if i != j:
                corr[i, j] = strength * math.cos(2 * math.pi * (a - b) / len(order))
    for first, second, value in config["correlations"]:
        i, j = space.index(first), space.index(second)
        corr[i, j] = corr[j, i] = float(value)
    return nearest_correlation(corr)


def default_prior(space: ValueSpace) -> Prior:
    config = read_package_toml("prior.toml")
    try:
        corr = _default_correlation(space, config)
        sd = float(config["sd"])
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogueError(f"data/prior.toml is invalid: {error}") from error
    return Prior(mean=np.zeros(space.size), cov=corr * sd**2)


def fit_prior(means: Sequence[np.ndarray], base: Prior, strength: float = 50.0) -> Prior:
    """Re-fit the prior from the posterior means of real profiles.

    A conjugate-style shrinkage: the sample mean and covariance are blended with
    `base` as if `base` were worth `strength` respondents, so a handful of profiles
    barely moves it and thousands dominate it. The result is kept positive definite.
    """
    data = np.asarray(means, dtype=float)
    n = len(data)
    if n < 2:
        return base
    weight = n / (n + strength)
    mean = (1 - weight) * base.mean + weight * data.mean(axis=0)
    cov = (1 - weight) * base.cov + weight * np.cov(data, rowvar=False)
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    cov = vectors @ np.diag(np.maximum(values, 1e-4)) @ vectors.T
    return Prior(mean=mean, cov=cov)
