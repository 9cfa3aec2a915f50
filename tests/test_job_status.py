"""Job status lives in the database: any worker answers a job's status, and a cancellation or a person's
deletion made by one worker stops a job that another worker runs (valueprint.jobs.JobStatuses).

The two-worker tests run the job in a separate process (worker A, its own engine and in-process job
thread) and ask, cancel and delete from this one (worker B, the web app), both on one PostgreSQL
database from tests/pg.py (never skipped: they fail with the reason if it cannot start).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_up
from tests.pg import PostgresCluster
from valueprint.jobs import JobStatuses
from valueprint.settings import Settings
from valueprint.web.app import create_app

WAIT_S = 60

# Worker A: trains "an adapter" for a person in its own process, on the same database, in-process. The
# trainer writes the adapter, reports step 1 of 2, says so (a file), waits for the go file, writes the
# adapter again and reports step 2: what a deletion or cancellation made meanwhile elsewhere must undo.
WORKER_A = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from valueprint.personalize.jobs import Jobs, TrainingRequest
    from valueprint.store.db import shared_database

    url, participant_id, out, signals = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])

    def write_adapter():
        out.mkdir(parents=True, exist_ok=True)
        (out / "adapter_config.json").write_text("{}")
        (out / "valueprint.json").write_text('{"steps": 2}')

    def train(request, progress):
        write_adapter()
        progress(1, 2)
        (signals / "started").touch()
        while not (signals / "go").exists():
            time.sleep(0.02)
        write_adapter()
        progress(2, 2)
        return {"train_seconds": 0.1}

    jobs = Jobs(shared_database(url), train=train)
    jobs.submit(TrainingRequest(participant_id, "person", participant_id, "{}", str(out), "", ""))
    print(json.dumps(jobs._futures[participant_id].result(timeout=120)), flush=True)
    """
)


@pytest.fixture
def worker_b(pg_cluster: PostgresCluster, tmp_path: Path):
    """The web app on a new PostgreSQL database (worker B): its client, services and database URL."""
    url = pg_cluster.create_database("vp_" + secrets.token_hex(6))
    app = create_app(Settings(data_dir=tmp_path / "data", environment="test", database_url=url))
    with TestClient(app) as client:
        client.participant = sign_up(client)
        yield client, app.state.services, url
    app.state.services.db.engine.dispose()


def start_worker_a(url: str, participant_id: str, out: Path, signals: Path) -> subprocess.Popen[str]:
    signals.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", WORKER_A, url, participant_id, str(out), str(signals)]
    worker = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    deadline = time.monotonic() + WAIT_S
    while not (signals / "started").exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"worker A did not start its job:\n{worker.communicate()[0]}")
        time.sleep(0.05)
    return worker


def finish(worker: subprocess.Popen[str], signals: Path) -> dict:
    (signals / "go").touch()
    output, _ = worker.communicate(timeout=WAIT_S)
    assert worker.returncode == 0, output
    return json.loads(output.strip().splitlines()[-1])


def test_another_worker_answers_a_jobs_status_and_a_deletion_there_stops_it(worker_b, tmp_path: Path) -> None:
    client, services, url = worker_b
    participant_id = client.participant["participant_id"]
    out = services.personalizer.adapters.person(participant_id)
    worker = start_worker_a(url, participant_id, out, tmp_path / "signals")
    try:
        reply = client.get("/v1/me/adapter")
        assert reply.status_code == 200, reply.text
        seen = reply.json()["job"]
        assert seen["state"] == "training" and (seen["step"], seen["total"]) == (1, 2), seen
        assert seen["engine"] == "in-process"

        assert client.delete("/v1/me").status_code == 204  # worker B deletes the person

        result = finish(worker, tmp_path / "signals")
    finally:
        worker.kill()
    assert result == {"cancelled": True}, "worker A's job found its licence gone at its next step"
    assert not out.exists() and not out.with_name(f"{out.name}.checkpoints").exists()
    assert services.personalizer.jobs.statuses.read(participant_id) is None, "no record names the person"


def test_cancelling_on_one_worker_stops_the_job_on_another(worker_b, tmp_path: Path) -> None:
    client, services, url = worker_b
    participant_id = client.participant["participant_id"]
    out = services.personalizer.adapters.person(participant_id)
    worker = start_worker_a(url, participant_id, out, tmp_path / "signals")
    try:
        services.personalizer.jobs.cancel(participant_id)  # worker B never held this job
        assert client.get("/v1/me/adapter").json()["job"]["state"] == "cancelled"
        result = finish(worker, tmp_path / "signals")
    finally:
        worker.kill()
    assert result == {"cancelled": True} and not out.exists()
    assert client.get("/v1/me/adapter").json() == {
        "adapter": None,
        "job": services.personalizer.jobs.status(participant_id),
    }
    assert services.personalizer.jobs.status(participant_id)["state"] == "cancelled", "the step it reported is not kept"


def test_a_job_another_worker_runs_blocks_a_second_run_here(worker_b, tmp_path: Path) -> None:
    from valueprint.errors import ConflictError
    from valueprint.personalize.jobs import TrainingRequest

    client, services, url = worker_b
    participant_id = client.participant["participant_id"]
    out = services.personalizer.adapters.person(participant_id)
    worker = start_worker_a(url, participant_id, out, tmp_path / "signals")
    try:
        with pytest.raises(ConflictError):
            services.personalizer.jobs.submit(
                TrainingRequest(participant_id, "person", participant_id, "{}", str(out), "", "")
            )
        result = finish(worker, tmp_path / "signals")
    finally:
        worker.kill()
    assert result == {"train_seconds": 0.1}
    assert client.get("/v1/me/adapter").json()["job"]["state"] == "done"


# -- the status rows themselves (SQLite) ------------------------------------------------------------


def test_a_run_reports_only_while_it_holds_the_licence(jobs_db) -> None:
    statuses = JobStatuses(jobs_db, "test-queue", ("queued", "running"))
    assert statuses.start("j1", "run-1", state="queued")["run_id"] == "run-1"
    assert statuses.start("j1", "run-2", state="queued") is None, "an active run keeps its licence"
    assert statuses.report("j1", "run-1", state="running", done=1)
    assert statuses.read("j1")["done"] == 1

    assert statuses.start("j1", "run-2", take_over=True, state="queued")["run_id"] == "run-2"
    assert not statuses.report("j1", "run-1", done=2), "the run taken over loses its licence"
    assert statuses.read("j1") == {**statuses.read("j1"), "run_id": "run-2", "state": "queued"}
    assert "done" not in statuses.read("j1"), "a new run starts a new status"

    assert statuses.cancel("j1")["state"] == "cancelled"
    assert not statuses.report("j1", "run-2", state="running")
    assert statuses.cancel("j1")["state"] == "cancelled" and statuses.cancel("unknown") is None


def test_forgetting_by_prefix_matches_literally(jobs_db) -> None:
    statuses = JobStatuses(jobs_db, "test-queue", ("queued",))
    for job_id in ("export-ab-jsonl-1", "export-a_-jsonl-2", "export-abc-dpo-3"):
        statuses.start(job_id, "r", state="queued")
    other = JobStatuses(jobs_db, "other-queue", ("queued",))
    other.start("export-ab-jsonl-1", "r", state="queued")
    with jobs_db.session() as session:
        statuses.forget(session, prefix="export-a_-")  # "_" is not a wildcard here
        statuses.forget(session, prefix="export-ab-")
    assert [statuses.read(j) is None for j in ("export-ab-jsonl-1", "export-a_-jsonl-2", "export-abc-dpo-3")] == [
        True,
        True,
        False,
    ]
    assert other.read("export-ab-jsonl-1") is not None, "another queue's job of the same id stays"
