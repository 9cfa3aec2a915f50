"""Web load: concurrent participants answering the questionnaire against the real server.

Each simulated participant creates an account (POST /v1/participants), asks for the
first question (GET /v1/questionnaire/next), then answers what it is asked (PUT
/v1/answers/{item}, whose reply carries the next question) until it has answered its
quota. Every answer whose PUT returned 2xx is *acknowledged*; after the run the answers
table of the SQLite file is counted directly, and the two must agree. A baseline of
GET /v1/health under the same concurrency is measured in the same run.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
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

# the questionnaire must never stop before a participant's quota
LOAD_ENV = {"VALUEPRINT_STOP_SD": "0.05", "VALUEPRINT_SIGN_UPS_PER_MINUTE": "100000"}
REQUEST_TIMEOUT_S = 30.0
HEALTH_REQUESTS_EACH = 20
OnAnswer = Callable[[], None]


@dataclass
class LoadStats:
    """What the clients saw: answer latencies, acknowledged (participant, item) pairs, errors."""

    latencies_s: list[float] = field(default_factory=list)
    acknowledged: set[tuple[str, str]] = field(default_factory=set)
    participants: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


def answer_for(item: dict[str, Any], rng: random.Random) -> object:
    """A valid answer to a question as the API shows it."""
    if item["kind"] == "likert":
        return rng.randint(1, 5)
    if item["kind"] == "scenario":
        return rng.choice([option["key"] for option in item["options"]])
    return {"x": round(rng.uniform(-1, 1), 3), "y": round(rng.uniform(-1, 1), 3)}


@dataclass(frozen=True)
class Crowd:
    """Who answers: how many people at once, how many answers each, how long each one thinks."""

    participants: int
    answers: int
    seed: int = 0
    think_s: float = 0.0  # mean pause before each answer; 0 = back to back (the stress case)

    @property
    def total(self) -> int:
        return self.participants * self.answers


async def answer_all(
    client: Any,
    participant_id: str,
    crowd: Crowd,
    rng: random.Random,
    stats: LoadStats,
    on_answer: OnAnswer,
    question: dict[str, Any] | None = None,
) -> None:
    """Answer `crowd.answers` questions, each as asked (`question`: the first, else asked for here)."""
    if question is None:
        reply = await client.get("/v1/questionnaire/next")
        reply.raise_for_status()
        question = reply.json()
    for _ in range(crowd.answers):
        if question["done"]:
            stats.error("questionnaire_done_early")
            return
        item_id = question["item"]["id"]
        if crowd.think_s:  # 0.5-1.5 times the mean, so the crowd does not move in step
            await asyncio.sleep(crowd.think_s * rng.uniform(0.5, 1.5))
        began = time.perf_counter()
        reply = await client.put(f"/v1/answers/{item_id}", json={"value": answer_for(question["item"], rng)})
        elapsed = time.perf_counter() - began
        if not reply.is_success:
            stats.error(f"http_{reply.status_code}")
            return
        stats.latencies_s.append(elapsed)
        stats.acknowledged.add((participant_id, item_id))
        on_answer()
        question = reply.json()["next"]


async def sign_up(client: Any, stats: LoadStats) -> str:
    """A new participant in this client's cookie jar (CSRF header set); their id. Raises httpx errors."""
    reply = await client.post("/v1/participants", json={"consent": True})
    reply.raise_for_status()
    started = reply.json()
    client.headers["X-CSRF-Token"] = started["csrf_token"]
    stats.participants += 1
    return str(started["participant_id"])


def person_rng(crowd: Crowd, index: int) -> random.Random:
    """Participant `index`'s own answers, the same in every run with the crowd's seed."""
    return random.Random(crowd.seed * 100_003 + index)


async def participant(base_url: str, crowd: Crowd, index: int, stats: LoadStats, on_answer: OnAnswer) -> None:
    """One person: sign up, then answer. Stops (counting an error) on any failure, e.g. a dead server."""
    httpx = httpx_module()
    rng = person_rng(crowd, index)
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        try:
            participant_id = await sign_up(client, stats)
            await answer_all(client, participant_id, crowd, rng, stats, on_answer)
        except httpx.HTTPStatusError as error:
            stats.error(f"http_{error.response.status_code}")
        except httpx.HTTPError as error:
            stats.error(type(error).__name__)


async def run_crowd(base_url: str, crowd: Crowd, on_answer: OnAnswer = lambda: None) -> LoadStats:
    """All participants at once; returns when every one has finished or given up."""
    stats = LoadStats()
    began = time.perf_counter()
    await asyncio.gather(*(participant(base_url, crowd, i, stats, on_answer) for i in range(crowd.participants)))
    stats.wall_s = time.perf_counter() - began
    return stats


async def health_baseline(base_url: str, concurrency: int, each: int = HEALTH_REQUESTS_EACH) -> list[float]:
    """Latencies of GET /v1/health from `concurrency` clients at once."""
    httpx = httpx_module()
    latencies: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            for _ in range(each):
                began = time.perf_counter()
                (await client.get("/v1/health")).raise_for_status()
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def stored_answers(database: Path) -> int:
    return int(sqlite_scalar(database, "SELECT COUNT(*) FROM answers"))


@dataclass
class Measured:
    stats: LoadStats
    health: list[float]
    server_cpu_s: float | None
    client_cpu_s: float


def measure(server: Server, crowd: Crowd, on_progress: OnProgress) -> Measured:
    """On a running server: the health baseline, then the crowd, with the CPU each side spent on the crowd."""
    on_progress("health baseline", 0, 1)
    health = asyncio.run(health_baseline(server.base_url, crowd.participants))
    on_progress("health baseline", 1, 1)
    done = Counter[str]()

    def on_answer() -> None:
        done["answers"] += 1
        on_progress("answering", done["answers"], crowd.total)

    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    stats = asyncio.run(run_crowd(server.base_url, crowd, on_answer))
    server_after = server.cpu_seconds()
    server_used = None if server_cpu is None or server_after is None else server_after - server_cpu
    return Measured(stats, health, server_used, time.process_time() - client_cpu)


def run(
    participants: int = 50,
    answers: int = 40,
    seed: int = 0,
    on_progress: OnProgress = no_progress,
    work_dir: Path | None = None,
    think_ms: float = 0.0,
) -> dict[str, Any]:
    """Start a server on a fresh data dir, measure health, then the crowd; figures for web_load.json."""
    crowd = Crowd(participants, answers, seed, think_ms / 1000)
    load_before = host_load()
    with tempfile.TemporaryDirectory(prefix="valueprint-load-", dir=work_dir) as tmp:
        server = Server(Path(tmp) / "data", LOAD_ENV)
        try:
            on_progress("starting the server", 0, 1)
            server.start()
            on_progress("starting the server", 1, 1)
            measured = measure(server, crowd, on_progress)
        finally:
            server.stop()
        stored = stored_answers(server.database)
    return {**figures(measured, stored, crowd), "host_load_1min_before": load_before}


def figures(measured: Measured, stored: int, crowd: Crowd) -> dict[str, Any]:
    stats, health = measured.stats, measured.health
    acknowledged = len(stats.acknowledged)
    return {
        "participants": stats.participants,
        "participants_planned": crowd.participants,
        "answers_each": crowd.answers,
        "answers_acknowledged": acknowledged,
        "answers_stored": stored,
        "p50_ms": percentile_ms(stats.latencies_s, 50),
        "p95_ms": percentile_ms(stats.latencies_s, 95),
        "p99_ms": percentile_ms(stats.latencies_s, 99),
        "answers_per_s": round(acknowledged / stats.wall_s, 1) if stats.wall_s else None,
        "wall_s": round(stats.wall_s, 2),
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "health_p50_ms": percentile_ms(health, 50),
        "health_p95_ms": percentile_ms(health, 95),
        "server_cpu_ms_per_answer": ms_each(measured.server_cpu_s, acknowledged),
        "client_cpu_ms_per_answer": ms_each(measured.client_cpu_s, acknowledged),
        "concurrency": crowd.participants,
        "think_time_ms": round(crowd.think_s * 1000, 1),
        "database": "sqlite",
        "goal_p95_ms": 100,
    }
