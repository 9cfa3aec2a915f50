"""A per-key sliding-window counter, thread-safe, in process memory.

Written here rather than taken from a library because the limits are per app and per
outcome (look-ups vs misses of unknown handles) inside the service, not per route or
client IP as the ASGI rate-limit middlewares do. With several web workers each keeps
its own window, so the effective limit is workers × limit; a shared store (the
database or Redis) is the step up when that matters.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from valueprint.errors import RateLimitedError

WINDOW_S = 60.0
SWEEP_EVERY = 1024  # events between sweeps of keys whose window has emptied


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._since_sweep = 0

    def _sweep(self) -> None:
        """Forget keys with no event in the window, so memory follows active keys, not every key ever seen."""
        horizon = self.clock() - WINDOW_S
        for key in [k for k, events in self._events.items() if not events or events[-1] <= horizon]:
            del self._events[key]

    def tracked_keys(self) -> int:
        with self._lock:
            return len(self._events)

    def _open_window(self, key: str, what: str) -> deque[float]:
        """`key`'s events within the window; RateLimitedError if it is full. Call with the lock held."""
        now = self.clock()
        events = self._events[key]
        while events and events[0] <= now - WINDOW_S:
            events.popleft()
        if len(events) >= self.per_minute:
            retry = events[0] + WINDOW_S - now
            raise RateLimitedError(f"too many {what}; retry in {retry:.0f} s", retry_after=retry)
        return events

    def check(self, key: str, what: str) -> None:
        """Raise RateLimitedError if `key` used up its window; does not count an event."""
        with self._lock:
            if key in self._events:
                self._open_window(key, what)

    def hit(self, key: str, what: str) -> None:
        """Count one event for `key`, refusing it if the window is full."""
        with self._lock:
            self._open_window(key, what).append(self.clock())
            self._since_sweep += 1
            if self._since_sweep >= SWEEP_EVERY:
                self._since_sweep = 0
                self._sweep()
