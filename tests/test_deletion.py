"""Deleting a person leaves nothing readable: not in the database file, not in its write-ahead log,
and not as an adapter written by a training job that was still running."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.test_data_duties import ALL_SCOPES
from valueprint.personalize.adapters import AdapterStore
from valueprint.personalize.jobs import Jobs, TrainingRequest
from valueprint.store.models import JobStatusRecord

DISTINCTIVE_COUNTRY = "Zyxwvutopia"  # a demographic answer nobody else gives


def database_bytes(services) -> dict[str, bytes]:
    """The raw bytes of the SQLite database and of its -wal and -shm files, as an attacker copying them reads them."""
    path = Path(services.db.engine.url.database)
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return {file.name: file.read_bytes() for file in files if file.exists()}


def person_with_rows_everywhere(client, services) -> tuple[str, dict]:
    """Answers, profile, sealed personal data, instructions, a token, a consent and an app's read."""
    participant_id = client.participant["participant_id"]
    step = client.get("/v1/questionnaire/next").json()
    client.put(f"/v1/answers/{step['item']['id']}", json={"value": None})
    client.put("/v1/me/demographics", json={"demographics": {"country": DISTINCTIVE_COUNTRY}})
    assert client.put("/v1/me/instructions", json={"text": "Be blunt with me."}).status_code == 200
    token = client.post("/v1/me/token").json()
    app = services.registry.register_app("Reader", ALL_SCOPES)
    client.put(f"/v1/me/consents/{app.id}", json={"scopes": ["moral"]})
    client.get(f"/v1/tokens/{token['handle']}", headers={"Authorization": f"Bearer {app.api_key}"})
    return participant_id, token


def found_in(files: dict[str, bytes], secrets: dict[str, str]) -> list[str]:
    return [
        f"{what} in {name}" for what, text in secrets.items() for name, data in files.items() if text.encode() in data
    ]


def test_the_database_and_its_wal_hold_none_of_a_deleted_persons_identifiers(participant_client, services) -> None:
    participant_id, token = person_with_rows_everywhere(participant_client, services)
    secrets = {
        "id": participant_id,
        "handle": token["handle"],
        "token": token["token"],
        "resume code": participant_client.participant["resume_code"],
        "demographic answer": DISTINCTIVE_COUNTRY,
    }
    files = database_bytes(services)
    before, wal_before = found_in(files, secrets), len(files.get("valueprint.db-wal", b""))
    assert any(line.startswith("id in") for line in before), "the test reads the files the rows are written to"

    assert participant_client.delete("/v1/me").status_code == 204

    files = database_bytes(services)
    assert found_in(files, secrets) == []
    assert len(files.get("valueprint.db-wal", b"")) < wal_before, "the write-ahead log was checkpointed and truncated"
    everything = {str(f): f.read_bytes() for f in services.settings.data_dir.rglob("*") if f.is_file()}
    assert found_in(everything, secrets) == [], "nor in any other file of the data folder"


def test_secure_delete_is_on_for_every_sqlite_connection(services) -> None:
    with services.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


# -- a training job during deletion ---------------------------------------------------------------------


class BlockingTrainer:
    """A stand-in for DPO training: writes an adapter, then waits for the test's go before its last step.

    `final_step` False: the job never reports again and simply finishes (the last chance to stop it is
    recording "done")."""

    def __init__(self, final_step: bool) -> None:
        self.final_step = final_step
        self.started, self.go = threading.Event(), threading.Event()

    def __call__(self, request: TrainingRequest, progress: Any) -> dict[str, Any]:
        out = Path(request.out)
        write_adapter(out)
        progress(1, 2)
        self.started.set()
        assert self.go.wait(30)
        write_adapter(out)  # written after the deletion: must not survive it
        (out.parent / f"{out.name}.checkpoints" / "checkpoint-2").mkdir(parents=True, exist_ok=True)
        if self.final_step:
            progress(2, 2)
        return {"train_seconds": 0.1}


def write_adapter(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "adapter_config.json").write_text("{}")


def job_for(services, participant_id: str) -> TrainingRequest:
    return TrainingRequest(
        job_id=participant_id,
        subject="person",
        subject_id=participant_id,
        profile_json="{}",
        out=str(services.personalizer.adapters.person(participant_id)),
        data_dir=str(services.settings.data_dir),
        datasets_dir=str(services.settings.datasets_dir),
    )


@pytest.mark.parametrize("final_step", [True, False], ids=["stops-at-its-next-step", "finishes-after-deletion"])
def test_deleting_a_person_while_their_adapter_trains_leaves_no_adapter(participant_client, services, final_step):
    participant_id = participant_client.participant["participant_id"]
    trainer = BlockingTrainer(final_step)
    jobs = services.personalizer.jobs = Jobs(services.db, train=trainer)
    jobs.submit(job_for(services, participant_id))
    assert trainer.started.wait(30) and jobs.status(participant_id)["state"] == "training"
    future = jobs._futures[participant_id]

    assert participant_client.delete("/v1/me").status_code == 204
    trainer.go.set()

    assert future.result(timeout=30) == {"cancelled": True}
    folder = services.personalizer.adapters.person(participant_id)
    assert not folder.exists() and not folder.with_name(f"{folder.name}.checkpoints").exists()
    assert jobs.status(participant_id) is None, "no job record names the deleted person"
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(JobStatusRecord)) == 0


class PreparingTrainer:
    """A stand-in whose preparation (sampling and scoring options) never ends by itself: it only sends heartbeats."""

    def __init__(self) -> None:
        self.started, self.heartbeats = threading.Event(), 0

    def __call__(self, request: TrainingRequest, progress: Any) -> dict[str, Any]:
        self.started.set()
        for _ in range(3000):  # 30 s of preparation at most
            progress(0, 2)
            self.heartbeats += 1
            time.sleep(0.01)
        return {"train_seconds": 0.1}


def test_deleting_a_person_while_their_job_still_prepares_stops_it_at_the_next_heartbeat(
    participant_client, services
) -> None:
    participant_id = participant_client.participant["participant_id"]
    trainer = PreparingTrainer()
    jobs = services.personalizer.jobs = Jobs(services.db, train=trainer)
    jobs.submit(job_for(services, participant_id))
    assert trainer.started.wait(30)
    assert jobs.status(participant_id)["state"] == "preparing"
    future = jobs._futures[participant_id]

    assert participant_client.delete("/v1/me").status_code == 204

    assert future.result(timeout=10) == {"cancelled": True}
    assert trainer.heartbeats < 3000, "it stopped long before its preparation would have ended"


def test_a_queued_job_of_a_deleted_person_never_runs(participant_client, services) -> None:
    first = services.accounts.create().id
    deleted = participant_client.participant["participant_id"]
    trainer = BlockingTrainer(final_step=True)
    jobs = services.personalizer.jobs = Jobs(services.db, train=trainer)
    jobs.submit(job_for(services, first))  # occupies the one worker
    assert trainer.started.wait(30)
    jobs.submit(job_for(services, deleted))
    queued = jobs._futures[deleted]

    assert participant_client.delete("/v1/me").status_code == 204
    trainer.go.set()

    assert queued.cancelled()
    assert jobs.wait(first, timeout=30)["state"] == "done", "another person's job is untouched"
    assert not services.personalizer.adapters.person(deleted).exists()


ON_DASK = BlockingTrainer(final_step=True)  # module-level: Dask pickles it by reference, and the cluster
# runs in this process (processes=False), so the test and the worker share its events


def train_on_dask(request: TrainingRequest, progress: Any) -> dict[str, Any]:
    return ON_DASK(request, progress)


def test_cancelling_a_job_on_a_local_dask_cluster_removes_its_output(tmp_path: Path, jobs_db) -> None:
    distributed = pytest.importorskip("distributed")
    trainer, train = ON_DASK, train_on_dask
    options = {"n_workers": 1, "threads_per_worker": 1, "processes": False, "dashboard_address": None}
    with distributed.LocalCluster(**options) as cluster:
        jobs = Jobs(jobs_db, scheduler=cluster.scheduler_address, train=train)
        out = tmp_path / "adapters" / "people" / "p1"
        request = TrainingRequest(
            job_id="p1",
            subject="person",
            subject_id="p1",
            profile_json="{}",
            out=str(out),
            data_dir=str(tmp_path),
            datasets_dir=str(tmp_path),
        )
        jobs.submit(request)
        assert trainer.started.wait(60)
        jobs.cancel("p1")
        trainer.go.set()
        assert jobs.status("p1")["state"] == "cancelled"
        for _ in range(300):  # the worker's thread runs on until it reports its next step
            if not out.exists():
                break
            time.sleep(0.1)
        jobs.close()
    assert not out.exists() and jobs.status("p1")["state"] == "cancelled"


def test_a_run_stopped_by_deleting_the_adapter_does_not_take_over_the_next_runs_record(tmp_path: Path, jobs_db) -> None:
    trainer = BlockingTrainer(final_step=True)
    jobs = Jobs(jobs_db, train=trainer)
    store = AdapterStore(tmp_path / "adapters")
    request = TrainingRequest(
        job_id="p1",
        subject="person",
        subject_id="p1",
        profile_json="{}",
        out=str(store.person("p1")),
        data_dir=str(tmp_path),
        datasets_dir=str(tmp_path),
    )
    jobs.submit(request)
    assert trainer.started.wait(30)
    first = jobs._futures["p1"]
    with jobs_db.session() as session:  # "delete my adapter" while it trains (Personalizer.delete_adapter)
        jobs.forget_person(session, "p1")
    store.delete_person("p1")
    jobs.submit(request)  # and train again: queued behind the first run
    trainer.go.set()

    assert first.result(timeout=30) == {"cancelled": True}
    assert jobs.wait("p1", timeout=30)["state"] == "done", "the second run keeps its own record"
    assert store.exists(store.person("p1"))
    jobs.close()
