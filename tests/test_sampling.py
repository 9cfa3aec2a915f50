"""Sampling settings: a temperature too cold to sample is greedy decoding, never an overflow."""

from __future__ import annotations

import pytest

from valueprint.personalize.runtime import Sampling


@pytest.mark.parametrize("temperature", [0.0, 5e-324, 1e-300, 1e-7])
def test_a_temperature_too_cold_to_sample_decodes_greedily(temperature) -> None:
    assert Sampling(temperature=temperature).generate_kwargs()["do_sample"] is False


def test_a_real_temperature_samples() -> None:
    kwargs = Sampling(temperature=0.7, top_p=0.9).generate_kwargs()
    assert (kwargs["do_sample"], kwargs["temperature"], kwargs["top_p"]) == (True, 0.7, 0.9)
