"""Web crash: the web-load crowd, with the server SIGKILLed half way, then restarted.

Every answer whose PUT returned 2xx before the kill must be in the database after the
restart: `acknowledged_lost` counts the acknowledged (participant, item) pairs that are
not, and must be 0. Answers committed whose reply never reached the client (in flight
at the kill) may be stored without being acknowledged; that is allowed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from valueprint.bench.server import OnProgress, Server, host_load, no_progress, sqlite_rows
from valueprint.bench.web_load import LOAD_ENV, Crowd, LoadStats, run_crowd

KILL_AT_SHARE = 0.5


async def crowd_killed_midway(server: Server, crowd: Crowd, on_progress: OnProgress) -> tuple[LoadStats, float]:
    """Run the crowd; SIGKILL the server once half the answers are acknowledged. Returns stats, kill time."""
    kill_at = max(1, int(crowd.total * KILL_AT_SHARE))
    done = {"answers": 0, "killed_at": 0.0}
    began = time.perf_counter()

    def on_answer() -> None:
        done["answers"] += 1
        on_progress("answering until the kill", min(done["answers"], kill_at), kill_at)
        if done["answers"] == kill_at:
            server.kill()
            done["killed_at"] = time.perf_counter() - began

    stats = await run_crowd(server.base_url, crowd, on_answer)
    return stats, done["killed_at"]


def stored_pairs(database: Path) -> set[tuple[str, str]]:
    return {(pid, item) for pid, item in sqlite_rows(database, "SELECT participant_id, item_id FROM answers")}


def run(
    participants: int = 50,
    answers: int = 40,
    seed: int = 0,
    on_progress: OnProgress = no_progress,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Load, kill -9 in the middle, restart on the same data dir, compare; figures for web_crash.json."""
    crowd = Crowd(participants, answers, seed)
    load_before = host_load()
    with tempfile.TemporaryDirectory(prefix="valueprint-crash-", dir=work_dir) as tmp:
        server = Server(Path(tmp) / "data", LOAD_ENV)
        try:
            on_progress("starting the server", 0, 1)
            server.start()
            on_progress("starting the server", 1, 1)
            stats, killed_at = asyncio.run(crowd_killed_midway(server, crowd, on_progress))
            server.kill()  # no-op, unless client errors kept the crowd below the kill point
            on_progress("restarting", 0, 1)
            restart_s = server.start()
            on_progress("restarting", 1, 1)
            stored = stored_pairs(server.database)
        finally:
            server.stop()
    return {**figures(stats, stored, killed_at, restart_s, crowd), "host_load_1min_before": load_before}


def figures(
    stats: LoadStats, stored: set[tuple[str, str]], killed_at: float, restart_s: float, crowd: Crowd
) -> dict[str, Any]:
    return {
        "participants": stats.participants,
        "participants_planned": crowd.participants,
        "answers_each": crowd.answers,
        "killed_after_s": round(killed_at, 2),
        "acknowledged_before_kill": len(stats.acknowledged),
        "stored_after_restart": len(stored),
        "acknowledged_lost": len(stats.acknowledged - stored),
        "stored_not_acknowledged": len(stored - stats.acknowledged),
        "restart_s": round(restart_s, 2),
        "client_errors": sum(stats.errors.values()),
        "client_error_kinds": dict(stats.errors),
        "signal": "SIGKILL",
        "database": "sqlite (WAL, synchronous=NORMAL)",
    }
