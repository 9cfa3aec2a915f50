"""The alignment distance: range, zero at the target, sign symmetry, confidence weighting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from valueprint.errors import AlignmentError, ValueprintError
from valueprint.evaluate.alignment import (
    S0,
    T_MIN,
    alignment_distance,
    alignment_weights,
    counted_dimensions,
    profile_alignment,
)
from valueprint.values.personas import load_personas
from valueprint.values.profile import ValueProfile

DIMS = 26
unit = st.floats(-1.0, 1.0, allow_nan=False, width=64)
sd_value = st.floats(0.0, 1.0, allow_nan=False, width=64)


@st.composite
def targets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A mean/SD pair with at least one counted dimension."""
    mean = draw(arrays(np.float64, DIMS, elements=unit))
    sd = draw(arrays(np.float64, DIMS, elements=sd_value))
    anchor = draw(st.integers(0, DIMS - 1))
    mean[anchor] = draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.5, 1.0))
    sd[anchor] = min(sd[anchor], 0.4)
    return mean, sd


responses = arrays(np.float64, (5, DIMS), elements=unit)


@settings(max_examples=200, deadline=None)
@given(targets(), responses)
def test_distance_lies_in_unit_interval(target: tuple[np.ndarray, np.ndarray], replies: np.ndarray) -> None:
    distance = alignment_distance(*target, replies)
    assert distance.shape == (5,)
    assert np.all((distance >= 0.0) & (distance <= 1.0))


@settings(max_examples=200, deadline=None)
@given(targets(), responses)
def test_zero_when_the_response_matches_on_every_counted_dimension(
    target: tuple[np.ndarray, np.ndarray], replies: np.ndarray
) -> None:
    mean, sd = target
    counted = counted_dimensions(mean, sd)
    matched = np.where(counted, mean, replies)  # anything at all on the dimensions that do not count
    assert np.allclose(alignment_distance(mean, sd, matched), 0.0)


@settings(max_examples=200, deadline=None)
@given(targets(), responses)
def test_symmetric_in_sign(target: tuple[np.ndarray, np.ndarray], replies: np.ndarray) -> None:
    mean, sd = target
    assert np.allclose(alignment_distance(mean, sd, replies), alignment_distance(-mean, sd, -replies))


@settings(max_examples=200, deadline=None)
@given(targets())
def test_weights_sum_to_one_and_skip_neutral_or_unsure_dimensions(target: tuple[np.ndarray, np.ndarray]) -> None:
    mean, sd = target
    weights = alignment_weights(mean, sd)
    assert weights.sum() == pytest.approx(1.0)
    assert np.all(weights[np.abs(mean) < T_MIN] == 0.0)
    assert np.all(weights[np.abs(mean) < sd] == 0.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 0.3), st.floats(0.01, 0.3), st.floats(0.7, 1.0), st.floats(-1.0, 1.0))
def test_more_confident_dimensions_weigh_more(sd_a: float, gap: float, strength: float, reply: float) -> None:
    sd_b = sd_a + gap  # dimension 0 is the surer one; both stay below |mean|, so both count
    mean = np.zeros(DIMS)
    mean[[0, 1]] = strength
    sd = np.full(DIMS, 0.5)
    sd[[0, 1]] = sd_a, sd_b
    weights = alignment_weights(mean, sd)
    assert weights[0] > weights[1] > 0
    assert weights[0] / weights[1] == pytest.approx((sd_b**2 + S0**2) / (sd_a**2 + S0**2))
    miss_a, miss_b = mean.copy(), mean.copy()  # the same miss costs more on the surer dimension
    miss_a[0], miss_b[1] = reply, reply
    if abs(reply - strength) > 1e-6:
        assert alignment_distance(mean, sd, miss_a) > alignment_distance(mean, sd, miss_b)


def test_worked_example() -> None:
    mean = np.zeros(DIMS)
    mean[:3] = [1.0, -0.5, 0.1]  # the third is neutral
    sd = np.zeros(DIMS)
    sd[1] = 0.3  # weight 1/(0.09+0.01) = 10 against 1/0.01 = 100 for the first
    reply = np.zeros(DIMS)
    reply[:2] = [0.0, 0.5]
    expected = (100 / 110) * 1.0 / 2 + (10 / 110) * 1.0 / 2
    assert float(alignment_distance(mean, sd, reply)) == pytest.approx(expected)
    assert float(alignment_distance(mean, None, reply)) == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


def test_opposite_pole_is_distance_one() -> None:
    mean = np.zeros(DIMS)
    mean[[2, 7]] = [1.0, -1.0]
    assert float(alignment_distance(mean, None, -mean)) == pytest.approx(1.0)


def test_a_target_with_no_side_is_refused() -> None:
    mean = np.full(DIMS, 0.1)
    with pytest.raises(AlignmentError, match="at least one clear"):
        alignment_weights(mean, np.zeros(DIMS))
    assert issubclass(AlignmentError, ValueprintError)


@pytest.mark.parametrize(
    ("responses", "match"),
    [
        (np.full(DIMS, 1.5), "outside"),
        (np.full(DIMS, np.nan), "NaN"),
        (np.zeros(DIMS - 1), "dimensions"),
    ],
)
def test_bad_responses_are_refused(responses: np.ndarray, match: str) -> None:
    mean = np.zeros(DIMS)
    mean[0] = 1.0
    with pytest.raises(AlignmentError, match=match):
        alignment_distance(mean, None, responses)


def test_profile_helper_matches_the_arrays(space) -> None:
    persona = load_personas()[0]
    profile = persona.as_profile(space)
    assert isinstance(profile, ValueProfile)
    replies = np.random.default_rng(0).uniform(-1, 1, size=(4, space.size))
    assert np.allclose(
        profile_alignment(profile, replies, space),
        alignment_distance(profile.means(space), profile.sds(space), replies),
    )
    assert np.allclose(profile_alignment(profile, profile.means(space)[None], space), 0.0)
