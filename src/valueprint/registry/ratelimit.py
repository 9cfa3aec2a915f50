"""Per-key rate limits kept in the database, so that every web worker and process shares them.

A fixed window per key, anchored at the key's first event: one row holds the window's
start and its count, and `hit` moves both in a single atomic upsert (INSERT … ON CONFLICT
DO UPDATE … RETURNING, on SQLite and PostgreSQL alike), so concurrent workers can neither
lose a count nor both pass the last free slot. A window anchored at the first event, rather
than at the clock's minute, never lets a burst straddle two windows at a minute boundary.

Written here rather than taken from a library because the limits are per app and per
outcome (look-ups vs refused look-ups) inside the services, not per route, and must live
in the database the app already has (no Redis to run). Keys are stored as SHA-256 hashes,
so client addresses are not kept in readable form.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from valueprint.errors import RateLimitedError
from valueprint.store.crypto import lookup_hash
from valueprint.store.db import Database
from valueprint.store.models import RateCounter

WINDOW_S = 60.0
SWEEP_EVERY = 1024  # events (in this process) between sweeps of windows that have ended


_STORED = select(RateCounter.window_start, RateCounter.hits).where(RateCounter.key_hash == bindparam("key"))


def _upsert(insert: Callable[..., Any]) -> Any:
    """Count one event for `:key` at `:now`: a new row, or one more hit, or a new window if the stored one
    started at or before `:ended_before`. Returns (hits, window_start). Built once, with bound parameters."""
    ended = RateCounter.window_start <= bindparam("ended_before")
    now = bindparam("now")
    statement = insert(RateCounter).values(key_hash=bindparam("key"), window_start=now, hits=1)
    return statement.on_conflict_do_update(
        index_elements=[RateCounter.key_hash],
        set_={
            "hits": case((ended, 1), else_=RateCounter.hits + 1),
            "window_start": case((ended, now), else_=RateCounter.window_start),
        },
    ).returning(RateCounter.hits, RateCounter.window_start)


class RateLimiter:
    """At most `per_minute` events per key and window; `name` keeps limits apart in the shared table."""

    def __init__(self, db: Database, name: str, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.db, self.name, self.per_minute, self.clock = db, name, per_minute, clock
        self._since_sweep = 0
        self._lock = threading.Lock()
        self._upsert = _upsert(postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)

    def _key(self, key: str) -> str:
        return lookup_hash(self.name, key)

    def _refuse(self, window_start: float, now: float, what: str) -> RateLimitedError:
        retry = max(window_start + WINDOW_S - now, 1.0)
        return RateLimitedError(f"too many {what}; retry in {retry:.0f} s", retry_after=retry)

    def check(self, key: str, what: str) -> None:
        """Raise RateLimitedError if `key` used up its window; counts nothing and stores nothing."""
        now = self.clock()
        with self.db.session() as session:  # Core statements on the unit's connection: a fraction of the ORM's cost
            row = session.connection().execute(_STORED, {"key": self._key(key)}).one_or_none()
            if row is not None and row.window_start > now - WINDOW_S and row.hits >= self.per_minute:
                raise self._refuse(row.window_start, now, what)

    def hit(self, key: str, what: str) -> None:
        """Count one event for `key`, refusing it if the window is full."""
        now = self.clock()
        with self.db.session() as session:
            counted = {"key": self._key(key), "now": now, "ended_before": now - WINDOW_S}
            hits, window_start = session.connection().execute(self._upsert, counted).one()
            if self._sweep_due():
                session.connection().execute(delete(RateCounter).where(RateCounter.window_start <= now - WINDOW_S))
        if hits > self.per_minute:
            raise self._refuse(window_start, now, what)

    def _sweep_due(self) -> bool:
        with self._lock:
            self._since_sweep += 1
            if self._since_sweep < SWEEP_EVERY:
                return False
            self._since_sweep = 0
            return True

    def tracked_keys(self) -> int:
        """Rows in the shared table (every limit's), for tests and the curious."""
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(RateCounter)) or 0
