"""Background jobs abandoned by a process that died: a job queued or running whose row no process has shown alive
(its reports, or the heartbeat of the process holding it) for longer than the lease is recovered by the web app,
at startup and periodically after. Imports resume (tests/test_annotate_import_jobs.py); pre-label jobs, exports
and adapter training are marked failed with a message that says what to do, so none stays "running" for ever."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from valueprint.annotate import jobs as annotate_jobs
from valueprint.errors import ConflictError
from valueprint.jobs import RESTARTED, JobEngine, JobStatuses, Reaper, beating
from valueprint.personalize import jobs as training_jobs
from valueprint.personalize.jobs import Jobs, TrainingRequest
from valueprint.settings import Settings
from valueprint.store.models import JobStatusRecord

LEASE = 0.4


def quiet_for(db, queue: str, job_id: str, seconds: float) -> None:
    """As if the job's last sign of life was `seconds` ago (its process died then)."""
    at = datetime.now(UTC) - timedelta(seconds=seconds)
    with db.session() as session:
        session.execute(
            update(JobStatusRecord)
            .where(JobStatusRecord.queue == queue, JobStatusRecord.job_id == job_id)
            .values(heartbeat_at=at, updated_at=at)
        )


@pytest.fixture
def restarted(tmp_path):
    """A fresh app's services with a short lease, on a database of its own (no lifespan: tests call
    `recover_jobs` themselves, as the app's reaper does)."""
    from valueprint.web.app import create_app

    return create_app(Settings(data_dir=tmp_path / "web", environment="test", job_lease_s=LEASE)).state.services


def test_a_job_is_abandoned_only_once_it_has_been_quiet_for_longer_than_the_lease(jobs_db) -> None:
    statuses = JobStatuses(jobs_db, "q", ("queued", "running"))
    for job_id, state in (("fresh", "running"), ("old", "running"), ("old-queued", "queued"), ("ended", "done")):
        statuses.start(job_id, "r1", state=state)
    for job_id in ("old", "old-queued", "ended"):
        quiet_for(jobs_db, "q", job_id, 10)
    assert sorted(s["job_id"] for s in statuses.abandoned(5)) == ["old", "old-queued"]
    assert statuses.report("old", "r1", state="running", done=3)  # a report is a sign of life
    assert [s["job_id"] for s in statuses.abandoned(5)] == ["old-queued"]


def test_the_process_holding_a_job_beats_for_it_until_its_future_ends(jobs_db) -> None:
    statuses = JobStatuses(jobs_db, "q", ("queued", "running"))
    statuses.start("j1", "r1", state="running")
    engine = JobEngine("q", statuses=statuses, heartbeat_s=LEASE / 4)
    release = threading.Event()
    try:
        future = engine.submit("j1", release.wait, 30, run_id="r1")
        time.sleep(3 * LEASE)  # the job reports nothing meanwhile
        assert statuses.abandoned(LEASE) == [], "its process lives"
        release.set()
        future.result(timeout=10)
        time.sleep(2 * LEASE)  # the future ended but the row says running: a run that died without a word
        assert [s["job_id"] for s in statuses.abandoned(LEASE)] == ["j1"]
    finally:
        release.set()
        engine.close()


def test_a_run_beats_for_itself_wherever_it_runs_while_it_lasts(jobs_db) -> None:
    """As a Dask worker does for a job whose web worker (the future's holder) went away."""
    statuses = JobStatuses(jobs_db, "q", ("queued", "running"))
    statuses.start("j1", "r1", state="running")
    with beating(statuses, "j1", "r1", LEASE / 4):
        time.sleep(3 * LEASE)
        assert statuses.abandoned(LEASE) == []
    time.sleep(2 * LEASE)
    assert [s["job_id"] for s in statuses.abandoned(LEASE)] == ["j1"]


def test_abandoned_pre_label_and_export_jobs_are_failed_with_what_to_do_and_the_half_written_file_goes(
    restarted,
) -> None:
    jobs = restarted.annotate_jobs
    partial = Path(restarted.settings.data_dir) / "export-p1-jsonl-1.jsonl.partial"
    partial.write_text("{}\n")
    jobs.statuses.start("prelabel-p1", "dead", kind="prelabel", project_id="p1", state="running", done=40, total=90)
    out = str(partial).removesuffix(".partial")
    jobs.statuses.start("export-p1-jsonl-1", "dead", kind="export", project_id="p1", out=out, state="running")
    jobs.statuses.start("export-p1-jsonl-2", "alive", kind="export", project_id="p1", out=out + "2", state="queued")
    for job_id in ("prelabel-p1", "export-p1-jsonl-1"):
        quiet_for(restarted.db, annotate_jobs.QUEUE, job_id, 10 * LEASE)

    assert restarted.recover_jobs() == {"resumed": [], "failed": ["prelabel-p1", "export-p1-jsonl-1"]}
    for job_id in ("prelabel-p1", "export-p1-jsonl-1"):
        status = jobs.status(job_id)
        assert (status["state"], status["error"]) == ("failed", RESTARTED)
        assert status["finished_at"]
    assert RESTARTED == "the server restarted while this job ran; start it again"
    assert not partial.exists()
    assert jobs.status("export-p1-jsonl-2")["state"] == "queued", "a job with a recent sign of life is left alone"
    assert restarted.recover_jobs() == {"resumed": [], "failed": []}, "failed once"


def test_an_import_abandoned_again_after_three_automatic_resumes_is_given_up_and_discarded(restarted) -> None:
    """Its run may be what brings the server down: resuming it on every restart would bring each one down."""
    from sqlalchemy import func, select

    from tests.annotate_factories import Clock, annotate_for, posts, project
    from valueprint.annotate.readers import Fields
    from valueprint.store.models import AnnotationDocument, AnnotationImport

    annotate = annotate_for(restarted, Clock())
    pid = project(annotate)
    import_id = annotate.stage_items(pid, posts(["One post.", "Another post."]), Fields(), "corpus")
    job_id = f"import-{import_id}"
    statuses = restarted.annotate_jobs.statuses
    statuses.start(job_id, "dead", kind="import", project_id=pid, import_id=import_id, state="running", restarts=3)
    quiet_for(restarted.db, annotate_jobs.QUEUE, job_id, 10 * LEASE)

    assert restarted.recover_jobs() == {"resumed": [], "failed": [job_id]}
    status = restarted.annotate_jobs.status(job_id)
    assert (status["state"], status["error"], status["restarts"]) == ("failed", annotate_jobs.GAVE_UP, 3)
    with restarted.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AnnotationImport)) == 0
        assert session.scalar(select(func.count()).select_from(AnnotationDocument)) == 0


def test_an_abandoned_adapter_training_is_failed_and_no_longer_blocks_the_next_one(restarted) -> None:
    trained = threading.Event()

    def train(request, progress):
        progress(1, 1)
        trained.set()
        return {"train_seconds": 0.0}

    jobs = Jobs(restarted.db, train=train, lease_s=LEASE)
    restarted.personalizer.jobs = jobs
    request = TrainingRequest("p1", "persona", "p1", "{}", str(restarted.settings.data_dir / "a"), "", "")
    jobs.statuses.start("p1", "dead", state="training", step=3, total=80)
    with pytest.raises(ConflictError):
        jobs.submit(request)  # the dead run still holds it
    quiet_for(restarted.db, training_jobs.QUEUE, "p1", 10 * LEASE)

    assert restarted.recover_jobs() == {"resumed": [], "failed": ["p1"]}
    assert (jobs.status("p1")["state"], jobs.status("p1")["error"]) == ("failed", RESTARTED)
    jobs.submit(request)
    assert jobs.wait("p1", timeout=30)["state"] == "done" and trained.is_set()
    jobs.close()


def test_of_two_workers_recovering_at_once_only_one_claims_a_job(restarted) -> None:
    statuses = restarted.annotate_jobs.statuses
    statuses.start("export-p1-jsonl-1", "dead", kind="export", project_id="p1", state="running")
    quiet_for(restarted.db, annotate_jobs.QUEUE, "export-p1-jsonl-1", 10 * LEASE)
    first = statuses.fail_abandoned("export-p1-jsonl-1", LEASE)
    assert first is not None and first["state"] == "failed"
    assert statuses.fail_abandoned("export-p1-jsonl-1", LEASE) is None


def test_the_web_app_recovers_abandoned_jobs_when_it_starts(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "web", environment="test", job_lease_s=600))
    services = app.state.services
    services.annotate_jobs.statuses.start("prelabel-p1", "dead", kind="prelabel", project_id="p1", state="running")
    quiet_for(services.db, annotate_jobs.QUEUE, "prelabel-p1", 700)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while services.annotate_jobs.statuses.read("prelabel-p1")["state"] != "failed":
            assert time.monotonic() < deadline, "recovered at startup, not a lease later"
            time.sleep(0.02)
    assert services.annotate_jobs.status("prelabel-p1")["error"] == RESTARTED


def test_the_reaper_keeps_looking_and_a_failing_look_does_not_stop_it() -> None:
    calls: list[float] = []

    def recover() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("the database is away for a moment")

    reaper = Reaper(recover, 0.05).start()
    deadline = time.monotonic() + 10
    while len(calls) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    reaper.stop()
    settled = len(calls)
    time.sleep(0.2)
    assert len(calls) == settled, "stopped"


def test_on_postgresql_abandoned_jobs_are_found_and_claimed_once(pg_cluster) -> None:
    import secrets

    from valueprint.store.db import migrate, shared_database

    db = shared_database(pg_cluster.create_database("vp_" + secrets.token_hex(6)))
    migrate(db.engine)
    statuses = JobStatuses(db, "q", ("queued", "running"))
    for job_id in ("old", "fresh", "held"):
        statuses.start(job_id, "r1", state="running")
    for job_id in ("old", "held"):
        quiet_for(db, "q", job_id, 10)
    statuses.beat({"held": "r1", "old": "another run"})  # only the run that holds the licence counts
    assert [s["job_id"] for s in statuses.abandoned(5)] == ["old"]
    assert statuses.fail_abandoned("old", 5)["error"] == RESTARTED
    assert statuses.fail_abandoned("old", 5) is None and statuses.fail_abandoned("fresh", 5) is None
    db.engine.dispose()
