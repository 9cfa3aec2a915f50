"""The in-process rate limiter: a sliding minute per key, and memory that follows active keys only."""

from __future__ import annotations

import pytest

from valueprint.errors import RateLimitedError
from valueprint.registry.ratelimit import SWEEP_EVERY, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_until_the_oldest_event_leaves_it() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock)
    limiter.hit("app", "look-ups")
    limiter.hit("app", "look-ups")
    with pytest.raises(RateLimitedError) as refused:
        limiter.hit("app", "look-ups")
    assert refused.value.retry_after == pytest.approx(60.0)
    clock.now += 60.1
    limiter.hit("app", "look-ups")


def test_checking_an_unseen_key_remembers_nothing() -> None:
    limiter = RateLimiter(5)
    for i in range(100):
        limiter.check(f"client-{i}", "sign-ins")
    assert limiter.tracked_keys() == 0


def test_keys_idle_for_a_minute_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(5, clock)
    for i in range(SWEEP_EVERY):
        limiter.hit(f"early-{i}", "sign-ups")
    clock.now += 61
    for i in range(SWEEP_EVERY):
        limiter.hit(f"late-{i}", "sign-ups")
    assert limiter.tracked_keys() == SWEEP_EVERY  # the early keys went at the sweep
