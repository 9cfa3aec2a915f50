"""Token look-ups: registered apps reading profiles by handle, against the real server.

Set-up goes straight through the services (no HTTP): N participants, each with a few
answers, an issued token (hence a handle) and consent for one app. Then the server is
started and concurrent clients call GET /v1/tokens/{handle} with the app's API key for a
fixed time; GET /v1/health under the same concurrency is the baseline. Every look-up
is audit-logged, so the audit table is counted afterwards as a cross-check.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valueprint.bench.server import (
    OnProgress,
    Server,
    host_load,
    httpx_module,
    ms_each,
    no_progress,
    percentile_ms,
    sqlite_scalar,
)

SCOPES = ["schwartz", "moral", "politics", "behaviour", "boundaries"]
ANSWERS_EACH = 5
SETUP_THREADS = 4
# far above what the benchmark can reach, so the rate limiter counts but never refuses
LOOKUP_ENV = {"VALUEPRINT_HANDLE_LOOKUPS_PER_MINUTE": "100000000"}
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Timed:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    server_cpu_s: float | None = None

    @property
    def per_s(self) -> float:
        return round(len(self.latencies_s) / self.wall_s, 1) if self.wall_s else 0.0


def _settings(data_dir: Path) -> Any:
    from valueprint.settings import Settings

    # explicit values, so no VALUEPRINT_* of the caller's environment leaks in (the server gets none either)
    return Settings(
        data_dir=data_dir,
        environment="development",
        database_url=None,
        data_key=None,
        data_key_file=None,
        session_secret=None,
    )


def _participant(services: Any, app_id: str, rng: random.Random) -> str:
    """One participant with a few Likert answers, a token and consent for the app; returns the handle."""
    created = services.accounts.create()
    for item in rng.sample(services.model.bank.of_kind("likert"), ANSWERS_EACH):
        services.accounts.record_answer(created.id, item.id, rng.randint(1, 5))
    issued = services.issue_token(created.id)
    services.registry.grant(created.id, app_id, SCOPES)
    return issued.handle


def set_up(
    data_dir: Path, participants: int, seed: int, on_progress: OnProgress = no_progress
) -> tuple[str, list[str]]:
    """Create the app and the participants; returns (api_key, handles)."""
    from valueprint.services import Services

    services = Services.build(_settings(data_dir))
    try:
        app = services.registry.register_app("token-lookup benchmark", SCOPES)
        rngs = [random.Random(seed * 100_003 + i) for i in range(participants)]
        handles: list[str] = []
        with ThreadPoolExecutor(SETUP_THREADS) as pool:  # Argon2 hashing of resume codes dominates
            for handle in pool.map(lambda rng: _participant(services, app.id, rng), rngs):
                handles.append(handle)
                on_progress("setting up participants", len(handles), participants)
    finally:
        services.db.engine.dispose()
    return app.api_key or "", handles


async def hammer(
    base_url: str, paths: list[str], headers: dict[str, str], concurrency: int, seconds: float, on_tick: OnProgress
) -> Timed:
    """`concurrency` clients GET the paths round-robin for `seconds`."""
    httpx = httpx_module()
    timed = Timed()
    began = time.perf_counter()
    deadline = began + seconds

    async def worker(offset: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            i = offset
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    reply = await client.get(paths[i % len(paths)])
                except httpx.HTTPError:
                    timed.errors += 1
                    return  # the server is gone: stop this client
                if reply.status_code == 200:
                    timed.latencies_s.append(time.perf_counter() - start)
                else:
                    timed.errors += 1
                i += concurrency
                if offset == 0:
                    on_tick("", min(time.perf_counter() - began, seconds), seconds)

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    timed.wall_s = time.perf_counter() - began
    return timed


def measure(
    server: Server,
    api_key: str,
    handles: list[str],
    seconds: float,
    health_seconds: float,
    concurrency: int,
    on_progress: OnProgress,
) -> tuple[Timed, Timed]:
    """On a running server: (health baseline, look-ups), the look-ups with the server's CPU time."""
    health = asyncio.run(
        hammer(server.base_url, ["/v1/health"], {}, concurrency, health_seconds, _phase(on_progress, "health"))
    )
    paths = [f"/v1/tokens/{handle}" for handle in handles]
    as_app = {"Authorization": f"Bearer {api_key}"}
    cpu_before = server.cpu_seconds()
    lookups = asyncio.run(hammer(server.base_url, paths, as_app, concurrency, seconds, _phase(on_progress, "look-ups")))
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        lookups.server_cpu_s = cpu_after - cpu_before
    return health, lookups


def run(
    participants: int = 200,
    seconds: float = 15.0,
    health_seconds: float = 5.0,
    concurrency: int = 50,
    seed: int = 0,
    on_progress: OnProgress = no_progress,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Set up, serve, measure health then look-ups; figures for token_lookup.json."""
    load_before = host_load()
    with tempfile.TemporaryDirectory(prefix="valueprint-lookup-", dir=work_dir) as tmp:
        data_dir = Path(tmp) / "data"
        api_key, handles = set_up(data_dir, participants, seed, on_progress)
        server = Server(data_dir, LOOKUP_ENV)
        try:
            on_progress("starting the server", 0, 1)
            server.start()
            on_progress("starting the server", 1, 1)
            health, lookups = measure(server, api_key, handles, seconds, health_seconds, concurrency, on_progress)
        finally:
            server.stop()
        audited = int(sqlite_scalar(server.database, "SELECT COUNT(*) FROM audit_log WHERE action = 'handle_lookup'"))
    return {**figures(lookups, health, audited, participants, concurrency), "host_load_1min_before": load_before}


def _phase(on_progress: OnProgress, name: str) -> OnProgress:
    return lambda _phase, done, total: on_progress(name, done, total)


def figures(lookups: Timed, health: Timed, audited: int, participants: int, concurrency: int) -> dict[str, Any]:
    return {
        "participants": participants,
        "concurrency": concurrency,
        "seconds": round(lookups.wall_s, 2),
        "lookups": len(lookups.latencies_s),
        "lookups_per_s": lookups.per_s,
        "p50_ms": percentile_ms(lookups.latencies_s, 50),
        "p95_ms": percentile_ms(lookups.latencies_s, 95),
        "errors": lookups.errors,
        "audited_lookups": audited,
        "server_cpu_ms_per_lookup": ms_each(lookups.server_cpu_s, len(lookups.latencies_s)),
        "health_per_s": health.per_s,
        "health_p50_ms": percentile_ms(health.latencies_s, 50),
        "health_errors": health.errors,
        "database": "sqlite",
        "goal_lookups_per_s": 300,
    }
