"""A large import as a resumable job: checked first, sanitised a committed chunk at a time with progress,
invisible to annotators until complete, resumed after a kill with the same result, and leaving nothing
behind when it fails or is cancelled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.annotate_factories import Clock, EmailOnlySanitiser, annotate_for, annotator, posts, project, write_jsonl
from valueprint.annotate.jobs import AnnotateJobs, JobRequest
from valueprint.annotate.readers import Fields
from valueprint.errors import InputFileError, LabelError
from valueprint.store.models import (
    AnnotationDocument,
    AnnotationImport,
    AnnotationImportDocument,
    AnnotationImportUnit,
    AnnotationPrelabel,
    AnnotationUnit,
)

ROOT = Path(__file__).resolve().parents[1]
WHO = ["my sister", "a neighbour", "the new teacher", "our landlord", "my oldest friend", "a stranger on the bus"]
DID = ["lied to me about money", "helped me carry boxes upstairs", "shouted at the children", "kept my secret"]
TEXTS = [f"Post {i}: {WHO[i % 6]} {DID[i // 6]}, so I mailed p{i}@example.org about it." for i in range(24)]
CORPUS = [*TEXTS[:12], TEXTS[1], TEXTS[10].upper(), *TEXTS[12:], TEXTS[3], TEXTS[20]]  # 28, 4 repeats


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


@pytest.fixture
def jobs(services, tmp_path):
    jobs = AnnotateJobs(
        tmp_path / "jobs",
        services.settings.resolved_database_url,
        sanitiser_factory=EmailOnlySanitiser,
        sealer=services.accounts.sealer,
    )
    services.annotate_jobs = jobs
    yield jobs
    jobs.close()


def count(services, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    with services.db.session() as session:
        return session.scalar(query)


def stored_units(services, pid: str) -> list[tuple]:
    """What annotators get of a project, comparable across projects: text, offsets, entities, gold, source."""
    with services.db.session() as session:
        rows = session.execute(
            select(AnnotationUnit, AnnotationDocument)
            .join(AnnotationDocument, AnnotationDocument.id == AnnotationUnit.document_id)
            .where(AnnotationUnit.project_id == pid)
            .order_by(AnnotationUnit.id)
        ).all()
    return [(u.text, u.position, u.start, u.end, u.entities, d.source, d.licence) for u, d in rows]


def test_an_import_job_reports_progress_by_chunk_and_stores_what_a_synchronous_import_stores(
    services, annotate, jobs
) -> None:
    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")
    final = jobs.wait(jobs.import_(pid, import_id, batch=5)["job_id"], timeout=60)
    assert final["state"] == "done" and final["done"] == final["total"] == 28, final
    expected = annotate.import_items(reference, posts(CORPUS), Fields(), "corpus")
    assert (
        final["imported"]
        == expected.model_dump()
        == {
            "documents": 24,
            "units": 24,
            "duplicates": 4,
            "prelabels": 0,
            "entities": 24,
        }
    )
    assert stored_units(services, pid) == stored_units(services, reference)
    assert count(services, AnnotationImportUnit) == count(services, AnnotationImportDocument) == 0
    assert count(services, AnnotationDocument, project_id=pid) == 24  # the repeated posts' documents are gone
    [summary] = annotate.imports(pid)
    assert (summary.state, summary.done, summary.total, summary.counts) == ("done", 28, 28, expected)


def test_its_units_reach_nobody_until_the_last_chunk_is_done(services, annotate, jobs) -> None:
    pid = project(annotate)
    person = annotator(services)
    seen_mid_way: list[tuple] = []

    class Watching(EmailOnlySanitiser):
        def sanitise(self, text):
            if "Post 20" in text:  # in the fifth chunk of four documents: four chunks are committed
                staged = count(services, AnnotationImportUnit)
                seen_mid_way.append((staged, count(services, AnnotationUnit), annotate.next_unit(pid, person)))
            return super().sanitise(text)

    import_id = annotate.stage_items(pid, posts(TEXTS), Fields(), "corpus")
    final = jobs.wait(jobs.import_(pid, import_id, batch=4, sanitiser_factory=Watching)["job_id"], timeout=60)
    assert final["state"] == "done"
    assert seen_mid_way == [(20, 0, None)]
    assert annotate.next_unit(pid, person) is not None and count(services, AnnotationUnit) == 24


def test_a_bad_row_is_refused_before_anything_is_stored(services, annotate, tmp_path) -> None:
    pid = project(annotate, segmentation="sentences")
    rows = [*posts(TEXTS[:5]), {"body": "no text field", "licence": "MIT"}]
    with pytest.raises(InputFileError, match=r"a.jsonl: line 6: the field 'text' is missing"):
        annotate.stage_file(pid, write_jsonl(tmp_path / "a.jsonl", rows))
    too_long = posts([TEXTS[0], "word " * 1200])  # one sentence of 6000 characters: no unit may be that long
    with pytest.raises(InputFileError, match="document 2"):
        annotate.stage_items(pid, too_long, Fields(), "api")
    tasks = [{"data": {"text": "One. Two."}, "predictions": [{"result": []}]}]
    with pytest.raises(LabelError, match="task 1: its pre-labels are for the whole task"):
        annotate.stage_labelstudio(pid, tasks, Fields(licence="MIT"), "ls.json")
    for table in (AnnotationImport, AnnotationDocument, AnnotationImportDocument):
        assert count(services, table) == 0


def test_label_studio_predictions_are_published_with_their_units(services, annotate, jobs) -> None:
    pid = project(annotate, label_schema={"dimensions": ["care"]})
    result = [{"from_name": "acceptability", "to_name": "text", "type": "choices", "value": {"choices": ["neutral"]}}]
    tasks = [
        {"data": {"text": t}, "predictions": [{"model_version": "m1", "score": 0.7, "result": result}]}
        for t in TEXTS[:3]
    ]
    import_id = annotate.stage_labelstudio(pid, tasks, Fields(licence="MIT"), "ls.json")
    final = jobs.wait(jobs.import_(pid, import_id, batch=2)["job_id"], timeout=60)
    assert final["imported"]["prelabels"] == 3, final
    with services.db.session() as session:
        prelabels = session.scalars(select(AnnotationPrelabel).order_by(AnnotationPrelabel.unit_id)).all()
        units = session.scalars(select(AnnotationUnit.id).order_by(AnnotationUnit.id)).all()
    assert [p.unit_id for p in prelabels] == list(units) and {p.confidence for p in prelabels} == {0.7}


def test_cancelling_mid_way_deletes_everything_the_import_stored(services, annotate, jobs) -> None:
    pid = project(annotate)
    job: dict = {}

    class CancelsInTheThirdChunk(EmailOnlySanitiser):
        def sanitise(self, text):
            if "Post 9:" in text:
                jobs.cancel(job["id"])
            return super().sanitise(text)

    import_id = annotate.stage_items(pid, posts(TEXTS), Fields(), "corpus")
    job["id"] = jobs.import_(pid, import_id, batch=4, sanitiser_factory=CancelsInTheThirdChunk)["job_id"]
    assert jobs.wait(job["id"], timeout=60)["state"] == "cancelled"
    for table in (AnnotationImport, AnnotationDocument, AnnotationImportDocument, AnnotationImportUnit, AnnotationUnit):
        assert count(services, table) == 0, table
    assert annotate.imports(pid) == []


def test_a_failing_import_deletes_what_it_stored_and_says_why(services, annotate, jobs) -> None:
    pid = project(annotate)

    class BreaksOnPostSeven(EmailOnlySanitiser):
        def sanitise(self, text):
            if "Post 7:" in text:
                raise RuntimeError("the recogniser crashed")
            return super().sanitise(text)

    import_id = annotate.stage_items(pid, posts(TEXTS), Fields(), "corpus")
    final = jobs.wait(jobs.import_(pid, import_id, batch=3, sanitiser_factory=BreaksOnPostSeven)["job_id"], 60)
    assert final["state"] == "failed" and "log" in final["error"]
    for table in (AnnotationImport, AnnotationDocument, AnnotationImportUnit, AnnotationUnit):
        assert count(services, table) == 0, table


def killed_mid_way(services, jobs, pid: str, import_id: str) -> str:
    """Runs the import in a process of its own (`tests.annotate_import_worker`), killed once three chunks of
    three documents are committed; the job's id. Its status stays "running", as a dead server leaves it."""
    job_id = f"import-{import_id}"
    jobs.statuses.start(job_id, "r1", kind="import", project_id=pid, import_id=import_id, batch=3, state="queued")
    request = JobRequest(job_id, "import", pid, services.settings.resolved_database_url, batch=3, run_id="r1")
    env = os.environ | {
        "VALUEPRINT_DATA_DIR": str(services.settings.data_dir),  # the same data key as the server's
        "VALUEPRINT_ENVIRONMENT": "test",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.annotate_import_worker", json.dumps(asdict(request) | {"import_id": import_id})],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while (jobs.statuses.read(job_id) or {}).get("done", 0) < 9:  # three chunks of three committed
            assert worker.poll() is None and time.monotonic() < deadline, jobs.statuses.read(job_id)
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(30)
    killed_at = jobs.statuses.read(job_id)
    assert killed_at["state"] == "running" and 9 <= killed_at["done"] < 28
    assert count(services, AnnotationUnit) == 0 and count(services, AnnotationImportUnit) >= 8
    assert count(services, AnnotationImportDocument) == 28 - killed_at["done"]
    return job_id


def assert_same_as_one_import(services, annotate, pid: str, reference: str, status: dict) -> None:
    """The import into `pid` that ended with `status` stored what one uninterrupted import of the corpus into
    `reference` stores, each unit once."""
    expected = annotate.import_items(reference, posts(CORPUS), Fields(), "corpus")
    assert status["imported"] == expected.model_dump()
    assert stored_units(services, pid) == stored_units(services, reference)
    with services.db.session() as session:
        pairs = session.execute(
            select(AnnotationUnit.document_id, AnnotationUnit.position).where(AnnotationUnit.project_id == pid)
        ).all()
    assert len(pairs) == len(set(pairs)) == 24


def test_a_killed_import_resumes_where_it_stopped_with_the_same_result_and_no_duplicates(
    services, annotate, jobs, tmp_path
) -> None:
    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")
    job_id = killed_mid_way(services, jobs, pid, import_id)

    resumed = jobs.wait(jobs.resume(job_id)["job_id"], timeout=60)
    assert resumed["state"] == "done" and resumed["done"] == 28, resumed
    assert_same_as_one_import(services, annotate, pid, reference, resumed)
    with pytest.raises(Exception, match="nothing to resume"):
        jobs.resume(job_id)


def test_an_import_abandoned_by_a_dead_server_resumes_when_a_new_server_starts_with_no_one_pressing_resume(
    services, annotate, jobs, monkeypatch
) -> None:
    """The killed run's job stays "running" with no process behind it: once it has been quiet for the lease, the
    web app started on the same database (and data key) resumes it by itself and it ends as one run would."""
    from fastapi.testclient import TestClient

    from valueprint.settings import Settings
    from valueprint.web.app import create_app

    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")
    job_id = killed_mid_way(services, jobs, pid, import_id)
    killed_run = jobs.statuses.read(job_id)["run_id"]

    monkeypatch.setattr("valueprint.annotate.service.load_sanitiser", EmailOnlySanitiser)  # the killed run's
    restarted = create_app(Settings(data_dir=services.settings.data_dir, environment="test", job_lease_s=1))
    assert restarted.state.services.db.url == services.db.url
    with TestClient(restarted):  # startup: the app looks for abandoned jobs now and every lease/4 seconds
        deadline = time.monotonic() + 60
        while (status := jobs.statuses.read(job_id))["state"] != "done":
            assert status["state"] in ("queued", "running") and time.monotonic() < deadline, status
            time.sleep(0.05)
    assert status["run_id"] != killed_run and status["done"] == status["total"] == 28, status
    assert status["restarts"] == 1
    assert_same_as_one_import(services, annotate, pid, reference, status)
    assert count(services, AnnotationImportUnit) == count(services, AnnotationImportDocument) == 0


def test_a_running_import_whose_server_lives_is_not_resumed_by_another_worker(services, annotate, monkeypatch) -> None:
    """The process running an import beats for it (every lease/4 seconds), so another web worker looking for
    abandoned jobs leaves it alone however long one of its chunks takes."""
    release, started = threading.Event(), threading.Event()

    class SlowChunk(EmailOnlySanitiser):
        def sanitise(self, text):
            started.set()
            release.wait(30)
            return super().sanitise(text)

    url, lease = services.settings.resolved_database_url, 0.4
    running = AnnotateJobs(
        Path("exports"), url, sanitiser_factory=SlowChunk, sealer=services.accounts.sealer, lease_s=lease
    )
    other = AnnotateJobs(Path("exports"), url, sanitiser_factory=EmailOnlySanitiser, lease_s=lease)
    try:
        pid = project(annotate)
        import_id = annotate.stage_items(pid, posts(TEXTS[:4]), Fields(), "corpus")
        job_id = running.import_(pid, import_id, batch=4)["job_id"]
        assert started.wait(30)
        time.sleep(3 * lease)  # no report for longer than the lease: only the heartbeat says it lives
        assert other.recover(lease) == {"resumed": [], "failed": []}
        release.set()
        assert running.wait(job_id, timeout=30)["state"] == "done"
    finally:
        release.set()
        running.close()
        other.close()


def test_curators_import_as_a_job_over_http_and_follow_it(services, annotate, jobs, web_app) -> None:
    from fastapi.testclient import TestClient

    from valueprint.accounts.roles import Role

    pid = project(annotate)
    created = services.accounts.create(role=Role.CURATOR)
    with TestClient(web_app) as curator:
        session = curator.post("/v1/session", json={"resume_code": created.resume_code}).json()
        curator.headers["X-CSRF-Token"] = session["csrf_token"]
        bad = curator.post(f"/v1/annotate/projects/{pid}/imports", json={"items": [{"text": "x"}]})
        assert bad.status_code == 400 and "document 1: no licence" in bad.json()["error"]["message"]
        started = curator.post(f"/v1/annotate/projects/{pid}/imports", json={"items": posts(TEXTS), "batch": 5})
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        jobs.wait(job_id, timeout=60)
        status = curator.get(f"/v1/annotate/jobs/{job_id}").json()
        assert status["state"] == "done" and status["done"] == status["total"] == 24
        assert status["imported"]["units"] == 24 and status["import_id"]
        [listed] = curator.get(f"/v1/annotate/projects/{pid}/imports").json()
        assert listed["state"] == "done" and listed["counts"]["units"] == 24
        again = curator.post(f"/v1/annotate/jobs/{job_id}/resume")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_the_cli_imports_a_large_file_as_a_job_with_a_progress_bar(tmp_path, monkeypatch) -> None:
    from valueprint.cli import app

    monkeypatch.setenv("VALUEPRINT_ENVIRONMENT", "test")
    monkeypatch.setattr("valueprint.annotate.service.load_sanitiser", EmailOnlySanitiser)
    runner = CliRunner()
    assert runner.invoke(app, ["annotate", "create", "job project", "--segmentation", "posts"]).exit_code == 0
    path = write_jsonl(tmp_path / "corpus.jsonl", posts(CORPUS))
    result = runner.invoke(app, ["annotate", "import", "job project", str(path), "--job", "--batch", "4"])
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout.strip().splitlines()[-1])  # the bar goes to standard error
    assert final["state"] == "done" and (final["units"], final["duplicates"]) == (24, 4)
    assert "28/28" in result.stderr
    [listed] = runner.invoke(app, ["annotate", "imports", "job project"]).stdout.strip().splitlines()
    assert json.loads(listed)["state"] == "done"


def test_on_postgresql_an_interrupted_run_resumes_and_publishes_once(pg_cluster, tmp_path) -> None:
    import secrets

    from valueprint.annotate import import_job
    from valueprint.services import Services
    from valueprint.settings import Settings

    url = pg_cluster.create_database("vp_" + secrets.token_hex(6))
    pg = Services.build(Settings(data_dir=tmp_path / "pg", environment="test", database_url=url))
    annotate = annotate_for(pg, Clock())
    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")

    class Stop(BaseException):
        pass

    def stops_after_two_chunks(done, total, first=0):
        if done >= 8:
            raise Stop

    with pytest.raises(Stop):
        import_job.run(pg.db, import_id, EmailOnlySanitiser(), pg.accounts.sealer, stops_after_two_chunks, batch=4)
    assert count(pg, AnnotationUnit) == 0 and count(pg, AnnotationImportDocument) == 20
    finished = import_job.run(pg.db, import_id, EmailOnlySanitiser(), pg.accounts.sealer, batch=4)
    expected = annotate.import_items(reference, posts(CORPUS), Fields(), "corpus")
    assert finished["imported"] == expected.model_dump() and finished["import_state"] == "done"
    assert stored_units(pg, pid) == stored_units(pg, reference)
    pg.db.engine.dispose()


def test_two_runs_of_one_import_racing_stage_and_publish_each_unit_once(services, annotate) -> None:
    from valueprint.annotate import import_job

    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")
    sealer = services.accounts.sealer

    class StartsARivalRun(EmailOnlySanitiser):
        rival_done = False

        def sanitise(self, text):
            if not StartsARivalRun.rival_done:  # a stale run, still alive, does all of it meanwhile
                StartsARivalRun.rival_done = True
                import_job.run(services.db, import_id, EmailOnlySanitiser(), sealer, batch=5)
            return super().sanitise(text)

    finished = import_job.run(services.db, import_id, StartsARivalRun(), sealer, batch=5)
    expected = annotate.import_items(reference, posts(CORPUS), Fields(), "corpus")
    assert finished["imported"] == expected.model_dump()
    assert stored_units(services, pid) == stored_units(services, reference)


class SanitisesOnADaskWorker(EmailOnlySanitiser):
    """The e-mail double, noting the Dask worker it runs on (`get_worker` fails outside one)."""

    workers: ClassVar[set[str]] = set()

    def sanitise(self, text: str):
        from distributed import get_worker

        SanitisesOnADaskWorker.workers.add(get_worker().address)
        return super().sanitise(text)


def test_an_import_runs_through_a_dask_cluster_with_the_result_of_one_run_in_process(
    services, annotate, tmp_path, monkeypatch
) -> None:
    """With a scheduler configured the import is submitted to Dask, whose worker builds its own sanitiser and
    reads the data key from its own settings (never sent to it): here a cluster in this process, whose
    worker's settings name the server's data folder, as deploy/README asks of real workers."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("VALUEPRINT_ENVIRONMENT", "test")
    pid, reference = project(annotate), project(annotate)
    import_id = annotate.stage_items(pid, posts(CORPUS), Fields(), "corpus")
    options = {"n_workers": 1, "threads_per_worker": 1, "processes": False, "dashboard_address": None}
    with distributed.LocalCluster(**options) as cluster:
        jobs = AnnotateJobs(
            tmp_path / "jobs",
            services.settings.resolved_database_url,
            scheduler=cluster.scheduler_address,
            sanitiser_factory=SanitisesOnADaskWorker,
        )
        try:
            started = jobs.import_(pid, import_id, batch=5)
            assert started["engine"] == "dask" and started["state"] == "queued"
            assert isinstance(jobs._futures[started["job_id"]], distributed.Future)
            final = jobs.wait(started["job_id"], timeout=60)
            workers = set(cluster.scheduler_info["workers"])
        finally:
            jobs.close()
    assert SanitisesOnADaskWorker.workers and SanitisesOnADaskWorker.workers <= workers
    assert final["state"] == "done" and final["engine"] == "dask" and final["done"] == final["total"] == 28, final
    expected = annotate.import_items(reference, posts(CORPUS), Fields(), "corpus")
    assert final["imported"] == expected.model_dump()
    assert stored_units(services, pid) == stored_units(services, reference)
    assert count(services, AnnotationImportUnit) == count(services, AnnotationImportDocument) == 0
