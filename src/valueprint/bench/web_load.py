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

from valueprint.bench.server import OnProgress, Server, httpx_module, no_progress, percentile_ms, sqlite_scalar

# the questionnaire must never stop before a participant's quota
LOAD_ENV = {"VALUEPRINT_STOP_SD": "0.05"}
REQUEST_TIMEOUT_S = 30.0
HEALTH_REQUESTS_EACH = 20


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


def _error_kind(error: Exception) -> str:
    return type(error).__name__


async def _answer_all(
    client: Any,
    participant_id: str,
    quota: int,
    rng: random.Random,
    stats: LoadStats,
    on_answer: Callable[[], None],
    think_s: float,
) -> None:
    reply = await client.get("/v1/questionnaire/next")
    reply.raise_for_status()
    question = reply.json()
    for _ in range(quota):
        if question["done"]:
            stats.error("questionnaire_done_early")
            return
        item_id = question["item"]["id"]
        if think_s:  # reading the question: 0.5-1.5 times the mean, so the crowd does not move in step
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
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


async def participant(
    base_url: str,
    quota: int,
    seed: int,
    stats: LoadStats,
    on_answer: Callable[[], None] = lambda: None,
    think_s: float = 0.0,
) -> None:
    """One person: sign up, then answer `quota` questions. Stops (counting an error) on any failure."""
    httpx = httpx_module()
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        try:
            reply = await client.post("/v1/participants")
            reply.raise_for_status()
            started = reply.json()
            client.headers["X-CSRF-Token"] = started["csrf_token"]
            stats.participants += 1
            await _answer_all(client, started["participant_id"], quota, rng, stats, on_answer, think_s)
        except httpx.HTTPStatusError as error:
            stats.error(f"http_{error.response.status_code}")
        except httpx.HTTPError as error:
            stats.error(_error_kind(error))


async def crowd(
    base_url: str,
    participants: int,
    quota: int,
    seed: int,
    on_answer: Callable[[], None] = lambda: None,
    think_s: float = 0.0,
) -> LoadStats:
    """All participants at once; returns when every one has finished or given up."""
    stats = LoadStats()
    began = time.perf_counter()
    people = (participant(base_url, quota, seed * 100_003 + i, stats, on_answer, think_s) for i in range(participants))
    await asyncio.gather(*people)
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


def measure(
    server: Server, participants: int, answers: int, seed: int, on_progress: OnProgress, think_s: float = 0.0
) -> Measured:
    """On a running server: the health baseline, then the crowd, with the CPU each side spent on the crowd."""
    on_progress("health baseline", 0, 1)
    health = asyncio.run(health_baseline(server.base_url, participants))
    on_progress("health baseline", 1, 1)
    total, done = participants * answers, Counter[str]()

    def on_answer() -> None:
        done["answers"] += 1
        on_progress("answering", done["answers"], total)

    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    stats = asyncio.run(crowd(server.base_url, participants, answers, seed, on_answer, think_s))
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
    """Start a server on a fresh data dir, measure health, then the crowd; figures for web_load.json.

    `think_ms` is a participant's mean pause before each answer (0: back-to-back, the stress case)."""
    with tempfile.TemporaryDirectory(prefix="valueprint-load-", dir=work_dir) as tmp:
        server = Server(Path(tmp) / "data", LOAD_ENV)
        try:
            on_progress("starting the server", 0, 1)
            server.start()
            on_progress("starting the server", 1, 1)
            measured = measure(server, participants, answers, seed, on_progress, think_ms / 1000)
        finally:
            server.stop()
        stored = stored_answers(server.database)
    return {**figures(measured, stored, participants, answers), "think_time_ms": think_ms}


def _per_answer_ms(cpu_s: float | None, answers: int) -> float | None:
    return None if cpu_s is None or not answers else round(cpu_s / answers * 1000, 2)


def figures(measured: Measured, stored: int, participants: int, answers: int) -> dict[str, Any]:
    stats, health = measured.stats, measured.health
    acknowledged = len(stats.acknowledged)
    return {
        "participants": stats.participants,
        "participants_planned": participants,
        "answers_each": answers,
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
        "server_cpu_ms_per_answer": _per_answer_ms(measured.server_cpu_s, acknowledged),
        "client_cpu_ms_per_answer": _per_answer_ms(measured.client_cpu_s, acknowledged),
        "concurrency": participants,
        "database": "sqlite",
        "goal_p95_ms": 100,
    }
