"""Soak: a crowd answering with think time for minutes on PostgreSQL and several workers, while one
worker is SIGKILLed and PostgreSQL is restarted as if it had crashed.

People arrive over the first quarter of the run, sign up, and answer each question as it is asked
after a pause (`think_s` on average) until the run ends. They behave as the API asks a client to:
a 503 with Retry-After is retried after that long; a connection that drops with no answer (the
request was in a worker that was killed) is retried after a moment, which is safe because
every request they repeat is idempotent (an answer to the same item, a read). Anything else (a
500, a 503 without Retry-After, an error page) is *unclear*, and that person stops.

PostgreSQL runs with fsync on, so an acknowledged answer is on disk; it is stopped with
`pg_ctl -m immediate` (no shutdown checkpoint: it recovers from its write-ahead log), left down
for `postgres_down_s` seconds, and started again. Afterwards the answers table is read directly:
every acknowledged (participant, item) must be there (`acknowledged_lost` must be 0), and the
errors the clients saw are counted by kind.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valueprint.bench.postgres import PostgresCluster
from valueprint.bench.server import (
    OnProgress,
    Server,
    host_load,
    httpx_module,
    ms_each,
    no_progress,
    percentile_ms,
)
from valueprint.bench.web_load import LOAD_ENV, REQUEST_TIMEOUT_S, answer_for

CONNECTION_RETRY_S = 0.5
GIVE_UP_AFTER_S = 60.0  # past the end of the run: a person still failing then gives up (counted)


@dataclass(frozen=True)
class SoakPlan:
    participants: int = 200
    duration_s: float = 600.0
    think_s: float = 5.0  # mean pause before each answer (0.5 to 1.5 times it)
    workers: int = 2
    kill_worker_at: float = 0.4  # shares of the duration
    restart_postgres_at: float = 0.7
    postgres_down_s: float = 5.0  # how long PostgreSQL stays stopped before it starts again
    arrive_within: float = 0.25
    seed: int = 0


@dataclass
class Seen:
    """What the clients saw."""

    acknowledged: set[tuple[str, str]] = field(default_factory=set)
    latencies_s: list[float] = field(default_factory=list)
    retried: Counter[str] = field(default_factory=Counter)  # clear, retryable errors, by kind
    unclear: Counter[str] = field(default_factory=Counter)  # anything else, by kind
    participants: int = 0
    finished: int = 0  # reached the end of the questionnaire
    gave_up: int = 0


class Unclear(Exception):
    """An error a client cannot act on: the person stops."""


async def call(client: Any, method: str, url: str, seen: Seen, give_up_at: float, **kwargs: Any) -> Any:
    """The JSON answer to one request, retried as a client should (see the module doc); Unclear otherwise."""
    httpx = httpx_module()
    while True:
        began = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TransportError as error:  # no HTTP answer at all: the worker died with the request
            seen.retried[f"connection dropped ({type(error).__name__})"] += 1
            wait = CONNECTION_RETRY_S
        else:
            if response.is_success:
                if method == "PUT":
                    seen.latencies_s.append(time.perf_counter() - began)
                return response.json()
            code = _error_code(response)
            retry_after = response.headers.get("retry-after")
            if response.status_code != 503 or not retry_after:
                seen.unclear[f"{response.status_code} {code}"] += 1
                raise Unclear(f"{method} {url}: {response.status_code} {code}")
            seen.retried[f"503 {code} (Retry-After {retry_after} s)"] += 1
            wait = float(retry_after)
        if time.monotonic() > give_up_at:
            raise Unclear(f"{method} {url}: still failing at the end of the run")
        await asyncio.sleep(wait * random.uniform(1.0, 1.5))  # spread the retries out


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "(not the API's error format)"


async def person(base_url: str, plan: SoakPlan, index: int, ends_at: float, seen: Seen) -> None:
    """Arrive, sign up, answer with pauses until the run ends (or the questionnaire does)."""
    httpx = httpx_module()
    rng = random.Random(plan.seed * 100_003 + index)
    await asyncio.sleep(rng.uniform(0, plan.duration_s * plan.arrive_within))
    give_up_at = ends_at + GIVE_UP_AFTER_S
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        try:
            started = await call(client, "POST", "/v1/participants", seen, give_up_at, json={"consent": True})
            client.headers["X-CSRF-Token"] = started["csrf_token"]
            seen.participants += 1
            question = await call(client, "GET", "/v1/questionnaire/next", seen, give_up_at)
            while time.monotonic() < ends_at:
                if question["done"]:
                    seen.finished += 1
                    return
                await asyncio.sleep(plan.think_s * rng.uniform(0.5, 1.5))
                item = question["item"]
                body = {"value": answer_for(item, rng)}
                reply = await call(client, "PUT", f"/v1/answers/{item['id']}", seen, give_up_at, json=body)
                seen.acknowledged.add((started["participant_id"], item["id"]))
                question = reply["next"]
        except Unclear:
            seen.gave_up += 1


async def _troubles(server: Server, cluster: PostgresCluster, plan: SoakPlan, events: dict[str, Any]) -> None:
    """SIGKILL one worker, then restart PostgreSQL, at their planned moments; what happened goes to `events`."""
    began = time.monotonic()
    await asyncio.sleep(plan.duration_s * plan.kill_worker_at)
    workers = server.worker_pids()
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    events["worker_killed_at_s"] = round(time.monotonic() - began, 1)
    killed = time.monotonic()
    while len(set(server.worker_pids()) - {victim}) < plan.workers and time.monotonic() - killed < 60:
        await asyncio.sleep(0.1)
    events["worker_replaced_after_s"] = round(time.monotonic() - killed, 1)  # a new process, not yet serving
    await asyncio.sleep(max(0.0, began + plan.duration_s * plan.restart_postgres_at - time.monotonic()))
    events["postgres_restarted_at_s"] = round(time.monotonic() - began, 1)
    away = await asyncio.to_thread(cluster.restart, "immediate", plan.postgres_down_s)
    events["postgres_away_s"] = round(away, 2)


async def _soak(server: Server, cluster: PostgresCluster, plan: SoakPlan, on_progress: OnProgress) -> tuple[Seen, dict]:
    seen, events = Seen(), {}
    began = time.monotonic()
    ends_at = began + plan.duration_s

    async def clock() -> None:
        while time.monotonic() < ends_at:
            on_progress("soaking (s)", round(time.monotonic() - began), plan.duration_s)
            await asyncio.sleep(1)

    troubles = asyncio.create_task(_troubles(server, cluster, plan, events))
    ticking = asyncio.create_task(clock())
    await asyncio.gather(*(person(server.base_url, plan, i, ends_at, seen) for i in range(plan.participants)))
    await troubles
    ticking.cancel()
    events["wall_s"] = round(time.monotonic() - began, 1)
    return seen, events


def run(plan: SoakPlan | None = None, on_progress: OnProgress = no_progress, work_dir: Path | None = None) -> dict:
    """The soak on a fresh cluster and database; figures for soak.json (`passed` says whether it held)."""
    plan = plan or SoakPlan()
    if plan.workers < 2:
        raise ValueError("the soak kills one worker and needs the others to carry on: use at least 2 workers")
    load_before = host_load()
    with tempfile.TemporaryDirectory(prefix="valueprint-soak-", dir=work_dir) as tmp:
        cluster = PostgresCluster(fsync=True)
        try:
            on_progress("starting PostgreSQL and the workers", 0, 1)
            cluster.start()
            name = "vp_soak_" + secrets.token_hex(4)
            env = {**LOAD_ENV, "VALUEPRINT_DATABASE_URL": cluster.create_database(name)}
            server = Server(Path(tmp) / "data", env, workers=plan.workers)
            server.start()
            on_progress("starting PostgreSQL and the workers", 1, 1)
            cpu_before = server.cpu_seconds()
            try:
                seen, events = asyncio.run(_soak(server, cluster, plan, on_progress))
                cpu_used = (server.cpu_seconds() or 0.0) - (cpu_before or 0.0)
            finally:
                server.stop()
            log = server.log_tail(10_000_000)
            stored = {(str(p), str(i)) for p, i in cluster.rows(name, "SELECT participant_id, item_id FROM answers")}
        finally:
            cluster.stop()
    return figures(plan, seen, events, stored, cpu_used, log, load_before)


def figures(
    plan: SoakPlan, seen: Seen, events: dict, stored: set[tuple[str, str]], cpu_s: float, log: str, load: float | None
) -> dict[str, Any]:
    lost = len(seen.acknowledged - stored)
    unclear = sum(seen.unclear.values())
    answers = len(seen.acknowledged)
    return {
        "passed": lost == 0 and unclear == 0 and seen.gave_up == 0,
        "participants_planned": plan.participants,
        "participants": seen.participants,
        "duration_s": plan.duration_s,
        "think_time_ms": round(plan.think_s * 1000),
        "workers": plan.workers,
        "answers_acknowledged": answers,
        "answers_stored": len(stored),
        "acknowledged_lost": lost,
        "stored_not_acknowledged": len(stored - seen.acknowledged),
        "answers_per_s": round(answers / events["wall_s"], 1) if events.get("wall_s") else None,
        "answer_p50_ms": percentile_ms(seen.latencies_s, 50),
        "answer_p95_ms": percentile_ms(seen.latencies_s, 95),
        "answer_p99_ms": percentile_ms(seen.latencies_s, 99),
        "retried_errors": sum(seen.retried.values()),
        "retried_error_kinds": dict(seen.retried),
        "unclear_errors": unclear,
        "unclear_error_kinds": dict(seen.unclear),
        "gave_up": seen.gave_up,
        "finished_questionnaire": seen.finished,
        "server_cpu_ms_per_answer_incl_sign_ups": ms_each(cpu_s, answers),
        "server_log_tracebacks": log.count("Traceback (most recent call last)"),
        "events": events,
        "postgres": f"15, fsync on; pg_ctl stop -m immediate, {plan.postgres_down_s:g} s down, then start",
        "host_load_1min_before": load,
    }
