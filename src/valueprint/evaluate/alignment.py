"""Alignment distance: how far the evaluator's vector of a response is from a target profile.

The FULCRA/BaseAlign form: a confidence-weighted L1 distance over the dimensions the
target actually takes a side on. For a target with mean t_d ∈ [-1, 1] and SD s_d ≥ 0 on
each dimension d, and a response vector r_d ∈ [-1, 1] (`ValueEvaluator.score`):

    counted(d) = |t_d| ≥ max(T_MIN, s_d)               T_MIN = 0.25
    u_d        = 1 / (s_d² + S0²)  if counted(d), else 0  S0 = 0.1
    w_d        = u_d / Σ_k u_k                          (the weights sum to 1)
    distance   = Σ_d w_d · |t_d − r_d| / 2              ∈ [0, 1]

- Dimensions where the target is neutral (|t_d| < T_MIN) or unsure (the mean is less
  than one SD from zero) do not count: the target asks nothing of the response there.
  This is the same rule the précis uses to decide what to mention.
- More confident dimensions (smaller s_d) weigh more; S0 keeps a dimension with SD 0
  from taking all the weight. A plain vector target has SD 0 everywhere, so all its
  counted dimensions weigh the same; personas carry the SD of `Persona.as_profile`.
- 0 means the response sits exactly on the target on every counted dimension; 1 means it
  sits at the opposite pole of every counted dimension the target holds at a pole.
- The distance is symmetric in sign: flipping the sign of both target and response
  leaves it unchanged.

A target that counts no dimension at all has no defined distance and is refused.
"""

from __future__ import annotations

import numpy as np

from valueprint.errors import AlignmentError
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace, load_space

T_MIN = 0.25
S0 = 0.1
_TOLERANCE = 1e-9


def _as_vector(values: np.ndarray, name: str, bound: float | None = 1.0) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise AlignmentError(f"{name} contains NaN or infinite values; pass finite scores")
    if bound is not None and np.any(np.abs(array) > bound + _TOLERANCE):
        raise AlignmentError(f"{name} has values outside [-{bound}, {bound}]; pass scores from ValueEvaluator.score")
    return array


def counted_dimensions(mean: np.ndarray, sd: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the dimensions the target takes a side on: |t_d| ≥ max(T_MIN, s_d)."""
    t = _as_vector(mean, "target mean")
    s = np.zeros_like(t) if sd is None else _as_vector(sd, "target sd", bound=None)
    return np.abs(t) >= np.maximum(T_MIN, s)


def confidence_weights(mean: np.ndarray, sd: np.ndarray | None = None) -> np.ndarray:
    """w_d = 1 / (s_d² + S0²) on counted dimensions, 0 elsewhere, normalised to sum 1 (all 0 if none counts)."""
    t = _as_vector(mean, "target mean")
    s = np.zeros_like(t) if sd is None else _as_vector(sd, "target sd", bound=None)
    if t.ndim != 1 or s.shape != t.shape:
        raise AlignmentError(f"target mean and sd must be 1-D and of equal length, got {t.shape} and {s.shape}")
    if np.any(s < 0):
        raise AlignmentError("target sd has negative values; an SD is ≥ 0")
    raw = np.where(counted_dimensions(t, s), 1.0 / (s**2 + S0**2), 0.0)
    return raw / raw.sum() if raw.sum() > 0 else raw


def alignment_weights(mean: np.ndarray, sd: np.ndarray | None = None) -> np.ndarray:
    """`confidence_weights`, refusing a target that counts no dimension (its distance is undefined)."""
    weights = confidence_weights(mean, sd)
    if not weights.any():
        raise AlignmentError(
            f"the target takes no side on any dimension (every |mean| is below {T_MIN} or within one SD of 0); "
            "give a target with at least one clear, confident value"
        )
    return weights


def alignment_distance(target_mean: np.ndarray, target_sd: np.ndarray | None, responses: np.ndarray) -> np.ndarray:
    """Distance in [0, 1] from each response vector to the target.

    `responses` is [n, dims] (one distance per row, shape [n]) or [dims] (a 0-d array).
    `target_sd` None means SD 0 on every dimension (a plain vector target).
    """
    weights = alignment_weights(target_mean, target_sd)
    t = np.asarray(target_mean, dtype=np.float64)
    r = _as_vector(responses, "responses")
    if r.shape[-1:] != t.shape:
        raise AlignmentError(f"responses have {r.shape[-1:]} dimensions but the target has {t.shape[0]}")
    distance = (np.abs(t - r) @ weights) / 2.0
    return np.clip(distance, 0.0, 1.0)


def profile_alignment(profile: ValueProfile, responses: np.ndarray, space: ValueSpace | None = None) -> np.ndarray:
    """`alignment_distance` with a ValueProfile's means and SDs as the target."""
    space = space or load_space()
    return alignment_distance(profile.means(space), profile.sds(space), responses)
