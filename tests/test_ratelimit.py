"""Rate limits: shared through the database by every worker, keyed by the real client address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from valueprint.errors import RateLimitedError
from valueprint.registry.ratelimit import SWEEP_EVERY, RateLimiter
from valueprint.settings import Settings
from valueprint.store.db import Database, migrate
from valueprint.store.models import RateCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'limits.db'}")
    migrate(database.engine)
    return database


def test_a_full_window_refuses_until_it_ends(db) -> None:
    clock = Clock()
    limiter = RateLimiter(db, "look-ups", 2, clock)
    limiter.hit("app", "look-ups")
    clock.now += 30
    limiter.hit("app", "look-ups")
    with pytest.raises(RateLimitedError) as refused:
        limiter.hit("app", "look-ups")
    assert refused.value.retry_after == pytest.approx(30.0)
    clock.now += 30.1
    limiter.hit("app", "look-ups")


def test_two_workers_on_one_database_share_one_limit(db) -> None:
    """N workers used to give N × the limit: each kept its own count in memory."""
    clock = Clock()
    first, second = RateLimiter(db, "sign-ups", 3, clock), RateLimiter(db, "sign-ups", 3, clock)
    first.hit("203.0.113.9", "sign-ups")
    second.hit("203.0.113.9", "sign-ups")
    first.hit("203.0.113.9", "sign-ups")
    with pytest.raises(RateLimitedError):
        second.hit("203.0.113.9", "sign-ups")


def test_concurrent_hits_never_pass_more_than_the_limit(db) -> None:
    limiter = RateLimiter(db, "look-ups", 10)

    def try_once(_: int) -> bool:
        try:
            limiter.hit("app", "look-ups")
        except RateLimitedError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        passed = sum(pool.map(try_once, range(40)))
    assert passed == 10


def test_limits_of_different_names_do_not_mix(db) -> None:
    clock = Clock()
    RateLimiter(db, "sign-ins", 1, clock).hit("198.51.100.7", "sign-ins")
    RateLimiter(db, "sign-ups", 1, clock).hit("198.51.100.7", "sign-ups")


def test_checking_counts_nothing_and_stores_nothing(db) -> None:
    limiter = RateLimiter(db, "misses", 5)
    for i in range(100):
        limiter.check(f"client-{i}", "misses")
    assert limiter.tracked_keys() == 0


def test_client_addresses_are_not_stored_readably(db) -> None:
    RateLimiter(db, "sign-ups", 5).hit("192.0.2.44", "sign-ups")
    with db.session() as session:
        stored = session.scalars(select(RateCounter.key_hash)).all()
    assert len(stored) == 1 and "192.0.2.44" not in stored[0]


def test_windows_that_ended_are_swept(db) -> None:
    clock = Clock()
    limiter = RateLimiter(db, "sign-ups", 5, clock)
    for i in range(SWEEP_EVERY - 1):
        limiter.hit(f"early-{i}", "sign-ups")
    clock.now += 61
    limiter.hit("late", "sign-ups")  # the sweep's turn
    assert limiter.tracked_keys() == 1


# -- the client address -----------------------------------------------------------------------


def sign_ups_from(app, peer: str, forwarded: list[str]) -> list[int]:
    """Statuses of one sign-up per X-Forwarded-For value, all sent from `peer`."""
    with TestClient(app, client=(peer, 40000)) as client:
        return [
            client.post("/v1/participants", json={"consent": True}, headers={"X-Forwarded-For": hop}).status_code
            for hop in forwarded
        ]


def limited_app(tmp_path: Path, trusted: str = ""):
    from valueprint.web.app import create_app

    return create_app(
        Settings(data_dir=tmp_path / "web", environment="test", sign_ups_per_minute=2, trusted_proxies=trusted)
    )


def test_a_changing_forwarded_header_does_not_escape_the_limit(tmp_path) -> None:
    statuses = sign_ups_from(limited_app(tmp_path), "127.0.0.1", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    assert statuses == [201, 201, 429], "no proxy is trusted by default: the peer is the client"


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(tmp_path) -> None:
    app = limited_app(tmp_path, trusted="127.0.0.1, 10.1.0.0/16")
    statuses = sign_ups_from(app, "127.0.0.1", ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert statuses == [201, 201, 201]


def test_a_hop_forged_by_the_client_before_the_trusted_proxy_is_ignored(tmp_path) -> None:
    app = limited_app(tmp_path, trusted="127.0.0.1")
    forged = [f"10.9.9.{i}, 198.51.100.1" for i in range(3)]  # the proxy appended the real address last
    assert sign_ups_from(app, "127.0.0.1", forged) == [201, 201, 429]


def test_an_untrusted_peer_is_the_client_whatever_it_forwards(tmp_path) -> None:
    app = limited_app(tmp_path, trusted="10.1.0.0/16")
    assert sign_ups_from(app, "203.0.113.5", ["10.1.0.1", "10.1.0.2", "10.1.0.3"]) == [201, 201, 429]


def test_a_trusted_proxy_setting_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies="proxy.example")
