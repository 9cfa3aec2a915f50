"""Scale: the same crowd answering on SQLite in one process, and on PostgreSQL with 1, 2 and 4 workers.

For each configuration a fresh server (`valueprint serve [--workers N]`) on a fresh database; the
crowd first signs up (every participant, a few at a time: Argon2 hashing the resume code is the
dearest request there is, and is measured on its own), then everyone answers at once, back to back
(the stress case: no think time), each answer as the server asks it. Measured over the answering
phase: answers per second, latency percentiles, the CPU time the server's processes spent per
answer (all workers, from /proc), PostgreSQL's own CPU per answer (its postmaster and backends),
the client's, and each worker's memory at the end. Every acknowledged answer must be in the
database afterwards (read directly, not through the server).

How capacity is projected (`projection`): an answer costs `web` ms of CPU in a worker and `db` ms
in PostgreSQL, measured here. A machine with C cores running at most a share U of them busy serves
about C·U·1000 / (web + db) answers/s with web and database together, or, on separate machines,
C_web·U·1000 / web and C_db·U·1000 / db, whichever is lower. A worker is one Python process, which
uses at most one core, so it needs at least one worker per core; the curve measured here flattens
at 2 because this machine has 2 cores (shared with other work: see `host_load_1min_before`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valueprint.bench.postgres import PostgresCluster
from valueprint.bench.server import (
    OnProgress,
    Server,
    host_load,
    httpx_module,
    memory_mb,
    ms_each,
    no_progress,
    percentile_ms,
    sqlite_rows,
    tree_cpu_seconds,
)
from valueprint.bench.web_load import LOAD_ENV, REQUEST_TIMEOUT_S, Crowd, LoadStats, answer_all, person_rng, sign_up

CONFIGURATIONS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
SIGN_UPS_AT_ONCE = 4
PROJECTED_CORES = (8, 32)
PROJECTED_UTILISATION = 0.7  # leave headroom: latency grows steeply as the cores fill up


def pg_cpu_seconds(cluster: PostgresCluster | None) -> float | None:
    pid = None if cluster is None else cluster.postmaster_pid()
    return None if pid is None else tree_cpu_seconds(pid)


async def _signed_up(base_url: str, crowd: Crowd, stats: LoadStats, on_progress: OnProgress) -> list[Any]:
    """The crowd signed up, a few at a time: their clients (cookie and CSRF header set) and ids."""
    httpx = httpx_module()
    gate, people = asyncio.Semaphore(SIGN_UPS_AT_ONCE), []

    async def one() -> None:
        client = httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S)
        async with gate:
            participant_id = await sign_up(client, stats)
        question = (await client.get("/v1/questionnaire/next")).json()
        people.append((client, participant_id, question))
        on_progress("signing up", len(people), crowd.participants)

    await asyncio.gather(*(one() for _ in range(crowd.participants)))
    return people


async def _answering(people: list[Any], crowd: Crowd, stats: LoadStats, on_answer: Callable[[], None]) -> None:
    httpx = httpx_module()

    async def one(index: int, client: Any, participant_id: str, question: dict[str, Any]) -> None:
        try:
            await answer_all(client, participant_id, crowd, person_rng(crowd, index), stats, on_answer, question)
        except httpx.HTTPError as error:
            stats.error(type(error).__name__)
        finally:
            await client.aclose()

    began = time.perf_counter()
    await asyncio.gather(*(one(i, *person) for i, person in enumerate(people)))
    stats.wall_s = time.perf_counter() - began


def stored_pairs(database: str, server: Server, cluster: PostgresCluster | None, name: str) -> set[tuple[str, str]]:
    """(participant, item) of every stored answer, read from the database itself."""
    sql = "SELECT participant_id, item_id FROM answers"
    rows = cluster.rows(name, sql) if database == "postgresql" and cluster else sqlite_rows(server.database, sql)
    return {(str(pid), str(item)) for pid, item in rows}


def measure(
    database: str, workers: int, crowd: Crowd, cluster: PostgresCluster | None, work_dir: Path, on_progress: OnProgress
) -> dict[str, Any]:
    """One configuration, on a fresh server and database; its figures."""
    label = f"{database} x{workers}"
    name = "vp_scale_" + secrets.token_hex(4)
    env = dict(LOAD_ENV)
    if database == "postgresql":
        assert cluster is not None
        env["VALUEPRINT_DATABASE_URL"] = cluster.create_database(name)
    server = Server(work_dir / name, env, workers=workers)
    load_before = host_load()
    stats, done = LoadStats(), Counter[str]()

    def labelled(phase: str, count: float, total: float) -> None:
        on_progress(f"{label}: {phase}", count, total)

    def on_answer() -> None:
        done["answers"] += 1
        labelled("answering", done["answers"], crowd.total)

    try:
        labelled("starting", 0, 1)
        server.start()
        labelled("starting", 1, 1)
        marks: list[tuple[float | None, float | None, float]] = []

        def mark() -> None:
            marks.append((server.cpu_seconds(), pg_cpu_seconds(cluster), time.process_time()))

        async def sign_up_then_answer() -> None:  # one event loop: the clients' connections belong to it
            mark()
            people = await _signed_up(server.base_url, crowd, stats, labelled)
            mark()
            await _answering(people, crowd, stats, on_answer)
            mark()

        asyncio.run(sign_up_then_answer())
        (cpu_0, _, _), (cpu_1, pg_1, client_1), (cpu_2, pg_2, client_2) = marks
        memory = [memory_mb(pid) for pid in server.worker_pids()]
    finally:
        server.stop()
    stored = stored_pairs(database, server, cluster, name)
    answers = len(stats.acknowledged)
    return {
        "database": database,
        "workers": workers,
        "answers_acknowledged": answers,
        "answers_stored": len(stored),
        "acknowledged_lost": len(stats.acknowledged - stored),
        "answers_per_s": round(answers / stats.wall_s, 1) if stats.wall_s else None,
        "p50_ms": percentile_ms(stats.latencies_s, 50),
        "p95_ms": percentile_ms(stats.latencies_s, 95),
        "p99_ms": percentile_ms(stats.latencies_s, 99),
        "wall_s": round(stats.wall_s, 2),
        "server_cpu_ms_per_answer": ms_each(_delta(cpu_1, cpu_2), answers),
        "postgres_cpu_ms_per_answer": ms_each(_delta(pg_1, pg_2), answers) if database == "postgresql" else None,
        "client_cpu_ms_per_answer": ms_each(client_2 - client_1, answers),
        "server_cpu_ms_per_sign_up": ms_each(_delta(cpu_0, cpu_1), stats.participants),
        "worker_memory_mb": [m for m in memory if m is not None],
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "host_load_1min_before": load_before,
    }


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def projection(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Capacity of bigger machines from the measured CPU per answer (see the module doc for the method)."""
    reference = next((r for r in runs if r["database"] == "postgresql" and r["workers"] == 1), None)
    if (
        reference is None
        or not reference["server_cpu_ms_per_answer"]
        or reference["postgres_cpu_ms_per_answer"] is None
    ):
        return {"method": "needs the PostgreSQL one-worker run"}
    web, db = reference["server_cpu_ms_per_answer"], reference["postgres_cpu_ms_per_answer"]
    # A short run can spend less than one clock tick in PostgreSQL: count it as one tick, an upper bound.
    db = max(db, round(1000 / os.sysconf("SC_CLK_TCK") / max(reference["answers_stored"], 1), 2))
    u = PROJECTED_UTILISATION
    return {
        "from": "postgresql x1 (least contention on this machine)",
        "web_cpu_ms_per_answer": web,
        "postgres_cpu_ms_per_answer": db,
        "utilisation": u,
        "answers_per_s_per_worker_core": round(1000 / web, 1),
        "same_machine_answers_per_s": {str(c): round(c * u * 1000 / (web + db)) for c in PROJECTED_CORES},
        "separate_machines_answers_per_s": {
            f"{c} web cores + {c // 4} database cores": round(min(c * u * 1000 / web, c // 4 * u * 1000 / db))
            for c in PROJECTED_CORES
        },
        "method": "answers/s = cores x utilisation x 1000 / CPU ms per answer (web + database on one machine; "
        "the lower of the two tiers on separate machines); one worker per core, since a worker is one "
        "Python process; assumes the per-answer CPU stays as measured (no lock contention in PostgreSQL "
        "beyond one row per person, which holds while people answer their own questions).",
    }


def run(
    participants: int = 30,
    answers: int = 40,
    seed: int = 0,
    configurations: tuple[tuple[str, int], ...] = CONFIGURATIONS,
    on_progress: OnProgress = no_progress,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Every configuration with the same crowd, in one run; figures for scale.json."""
    crowd = Crowd(participants, answers, seed)
    cluster = None
    with tempfile.TemporaryDirectory(prefix="valueprint-scale-", dir=work_dir) as tmp:
        try:
            if any(database == "postgresql" for database, _ in configurations):
                on_progress("starting PostgreSQL", 0, 1)
                cluster = PostgresCluster(fsync=True).start()
                on_progress("starting PostgreSQL", 1, 1)
            runs = [measure(db, workers, crowd, cluster, Path(tmp), on_progress) for db, workers in configurations]
        finally:
            if cluster is not None:
                cluster.stop()
    return {
        "participants": participants,
        "answers_each": answers,
        "think_time_ms": 0,
        "runs": runs,
        "acknowledged_lost": sum(r["acknowledged_lost"] for r in runs),
        "projection": projection(runs),
        "cpu_measure": "process CPU time (user + system) from /proc, answering phase only; wall time on this "
        "shared 2-core machine is noisy, CPU time much less so",
    }


def plot(figures: dict[str, Any], path: Path) -> Path:
    """Throughput, p95 latency, CPU per answer and memory per worker for each configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from valueprint.bench.report import save_figure

    runs = figures["runs"]
    labels = [f"{'SQLite' if r['database'] == 'sqlite' else 'PostgreSQL'}\n{r['workers']} worker(s)" for r in runs]
    fig, axes = plt.subplots(1, 4, figsize=(15, 4))
    axes[0].bar(labels, [r["answers_per_s"] or 0 for r in runs], color="C0")
    axes[0].set_title("answers per second")
    axes[1].bar(labels, [r["p95_ms"] or 0 for r in runs], color="C1")
    axes[1].set_title("p95 latency (ms)")
    web = [r["server_cpu_ms_per_answer"] or 0 for r in runs]
    db = [r["postgres_cpu_ms_per_answer"] or 0 for r in runs]
    axes[2].bar(labels, web, color="C2", label="web workers")
    axes[2].bar(labels, db, bottom=web, color="C3", label="PostgreSQL")
    axes[2].set_title("CPU ms per answer")
    axes[2].legend()
    memory = [max((m.get("pss", 0) for m in r["worker_memory_mb"]), default=0) for r in runs]
    axes[3].bar(labels, memory, color="C4")
    axes[3].set_title("memory per worker (PSS MB, largest)")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    loads = ", ".join(str(r["host_load_1min_before"]) for r in runs)
    fig.suptitle(
        f"{figures['participants']} participants x {figures['answers_each']} answers, no think time "
        f"(2 shared cores; host load before each: {loads})",
        fontsize=10,
    )
    return save_figure(fig, path)
