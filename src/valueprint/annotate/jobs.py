"""Pre-labelling, large imports and exports as background jobs: in-process by default, on Dask when configured.

The same pattern as adapter training (`personalize.jobs`; both use `valueprint.jobs`): a picklable
`run_job(request)` reports to the job's row in the database (queue "annotation-jobs"), so the
status reads the same whichever engine ran it and whichever web worker is asked (Dask workers must
reach the database, and, for exports, share `DATA_DIR/annotate/exports`). A job is queued → running
(done, total, eta_s) → done, or failed, or cancelled; cancelling (from any worker) marks the row and
the job stops at its next batch.

Resuming: pre-labelling commits a batch of units at a time and only ever picks units that have no
machine pre-label yet, so a job killed half-way (its process gone) is simply submitted again and
carries on where it stopped. A status left "running" by a dead process does not block the new run
(only a run this process still holds does); the new run takes a new run id, so a stale run, should
it still be alive somewhere, loses its licence and stops. An export writes `<file>.partial` and
renames it when complete, so a half-written export is never mistaken for a finished one. An import
(`import_job`) stages its units and publishes them when the last chunk is done; after a kill `resume`
submits it again and it carries on; cancelled or failed, it deletes everything it stored.

After a restart (`recover`, called by the web app, see `valueprint.jobs`): a job abandoned for longer
than the lease (its process died; no heartbeat) is an import, and is resumed as `resume` would, with no
one pressing anything; or a pre-label job or an export, and is marked failed ("the server restarted
while this job ran; start it again": a pre-label job started again carries on where it stopped; an
abandoned export's half-written file is deleted). An import abandoned again after `AUTO_RESUMES`
automatic resumes in a row is failed and discarded instead (`GAVE_UP`): something in it may be what
brings its process down, and resuming it for ever would bring every restarted server down with it.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from valueprint.annotate.units import load_sanitiser
from valueprint.errors import ConflictError, NotFoundError
from valueprint.jobs import (
    DEFAULT_LEASE_S,
    RESTARTED,
    JobCancelled,
    JobEngine,
    JobStatuses,
    beating,
    failed,
    failure_text,
    forget_jobs,
    now,
    public_error,
    wait_for,
)
from valueprint.store.db import Database, shared_database

QUEUE = "annotation-jobs"
ACTIVE = ("queued", "running")
EXPORT_FORMATS = ("jsonl", "labelstudio", "dpo", "hf")
SUFFIXES = {"jsonl": ".jsonl", "labelstudio": ".labelstudio.json", "dpo": ".dpo.jsonl", "hf": ".hf"}
PUBLIC_FIELDS = ("job_id", "kind", "project_id", "format", "state", "engine", "done", "total", "eta_s", "error")
PUBLIC_FIELDS += ("submitted_at", "started_at", "finished_at", "updated_at", "written", "note", "import_id", "imported")
PUBLIC_FIELDS += ("restarts",)
IMPORT_BATCH = 200  # documents sanitised per committed chunk
AUTO_RESUMES = 3  # automatic resumes of an abandoned import in a row before it is given up
GAVE_UP = (
    "the import stopped with its server again after 3 automatic resumes, so it was discarded; "
    "the server's log may say why; import the file again, perhaps in smaller parts"
)


@dataclass(frozen=True)
class JobRequest:
    """Everything a worker needs, as plain data (it may run in another process)."""

    job_id: str
    kind: Literal["prelabel", "export", "import"]
    project_id: str
    database_url: str
    out: str | None = None  # exports: the file (or, for `hf`, the folder) written
    format: str = "jsonl"
    evaluator_dir: str | None = None
    precision: str = "auto"
    batch: int = 64
    run_id: str = ""
    import_id: str | None = None
    heartbeat_s: float = DEFAULT_LEASE_S / 4  # how often the run shows it lives (`valueprint.jobs.beating`)


def statuses(db: Database) -> JobStatuses:
    return JobStatuses(db, QUEUE, ACTIVE)


class Licence:
    """A running job's right to report: its row is active and names this run."""

    def __init__(self, request: JobRequest, db: Database) -> None:
        self.statuses, self.job_id, self.run_id = statuses(db), request.job_id, request.run_id
        self.started = time.monotonic()

    def report(self, **fields: Any) -> None:
        """Write the status; JobCancelled (nothing written) once the job was cancelled, deleted or taken over."""
        if not self.statuses.report(self.job_id, self.run_id, **fields):
            raise JobCancelled(self.run_id)

    def progress(self, done: int, total: int, first: int = 0) -> None:
        """Running: `done` of `total`, with an ETA from the pace since this run began at `first`."""
        elapsed, gained = time.monotonic() - self.started, done - first
        eta = round(elapsed / gained * (total - done), 1) if gained > 0 else None
        self.report(state="running", done=done, total=total, eta_s=eta)


def _prelabeller(request: JobRequest) -> Any:
    from valueprint.annotate.prelabel import evaluator_prelabeller

    return evaluator_prelabeller(request.evaluator_dir, request.precision)


def settings_sealer() -> Any:
    """The sealer of this process's settings (a Dask worker: the data key is read where the job runs, never
    sent to it)."""
    from valueprint.settings import Settings
    from valueprint.store.crypto import Sealer
    from valueprint.store.secret_files import data_key

    return Sealer(data_key(Settings()))


def run_job(
    request: JobRequest,
    prelabeller_factory: Callable[[JobRequest], Any] = _prelabeller,
    sanitiser_factory: Callable[[], Any] = load_sanitiser,
    sealer_factory: Callable[[], Any] = settings_sealer,
) -> dict[str, Any]:
    """Runs one job to its end, reporting to its row (see the module doc), beating while it runs."""
    db = shared_database(request.database_url)  # in-process: the web app's own
    licence = Licence(request, db)
    with beating(licence.statuses, request.job_id, request.run_id, request.heartbeat_s):
        return _run(request, db, licence, prelabeller_factory, sanitiser_factory, sealer_factory)


def _run(
    request: JobRequest,
    db: Database,
    licence: Licence,
    prelabeller_factory: Callable[[JobRequest], Any],
    sanitiser_factory: Callable[[], Any],
    sealer_factory: Callable[[], Any],
) -> dict[str, Any]:
    """`run_job`'s body: the job run to its end, its status reported."""
    from valueprint.annotate import export_file, import_job, prelabel_run

    try:
        licence.report(state="running", started_at=now(), error=None)
        if request.kind == "prelabel":
            result = prelabel_run.prelabel_project(
                db, request.project_id, prelabeller_factory(request), licence.progress, request.batch
            )
        elif request.kind == "import":
            result = import_job.run(
                db, str(request.import_id), sanitiser_factory(), sealer_factory(), licence.progress, request.batch
            )
        else:
            out = Path(str(request.out))
            result = export_file.export_to(db, request.project_id, request.format, out, licence.progress)
        licence.report(state="done", finished_at=now(), eta_s=0, **result)
        return result
    except JobCancelled:
        if request.kind == "import":
            return _import_stopped(db, request, licence)
        if request.kind == "export" and request.out:
            finished = (licence.statuses.read(request.job_id) or {}).get("state") == "done"
            if finished:  # a recomputed run (Dask lost the worker that held the result): the file stays
                return {"superseded": True}
            for path in (Path(request.out), Path(request.out + ".partial")):  # cancelled, or exports deleted
                _remove(path)
        return {"cancelled": True}
    except BaseException as error:
        with contextlib.suppress(JobCancelled):
            licence.report(state="failed", error=public_error(error), finished_at=now())
        if request.kind == "import":
            if not isinstance(error, Exception):  # the interpreter going down: like a kill, it resumes
                raise
            with contextlib.suppress(Exception):
                import_job.discard(db, str(request.import_id))
        raise


def _import_stopped(db: Database, request: JobRequest, licence: Licence) -> dict[str, Any]:
    """An import's run lost its licence: a newer run of it carries on (nothing to do), or it was cancelled
    (delete what it stored, unless its units were published before the cancel arrived: then it is done)."""
    from valueprint.annotate import import_job

    status = licence.statuses.read(request.job_id)
    if status is not None and status.get("state") in ACTIVE and status.get("run_id") != licence.run_id:
        return {"superseded": True}
    if import_job.discard(db, str(request.import_id)) == "done":
        licence.statuses.update(
            request.job_id,
            state="done",
            note="the import had finished before it was cancelled",
            **import_job.report(db, str(request.import_id)),
        )
    return {"cancelled": True}


def remove_exports(session: Session, exports_dir: Path, project_ids: list[str] | set[str]) -> None:
    """Delete every export of these projects: the files (finished or half-written) under `exports_dir` and,
    in `session`'s unit of work, their jobs' records (so they are no longer known: their download is a 404).
    An export still running finds its record gone at its next report, stops and removes what it wrote."""
    for project_id in sorted(project_ids):
        if not project_id.isalnum():  # project ids are hex; never a pattern
            continue
        forget_jobs(session, QUEUE, prefix=f"export-{project_id}-")
        for path in exports_dir.glob(f"export-{project_id}-*"):
            _remove(path)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


class AnnotateJobs:
    """Submit pre-label and export jobs, read their status, cancel them; in-process or on Dask.
    Exports are written under `exports_dir`; statuses live in the database at `database_url`."""

    def __init__(
        self,
        exports_dir: Path,
        database_url: str,
        scheduler: str | None = None,
        evaluator_dir: Path | None = None,
        precision: str = "auto",
        prelabeller_factory: Callable[[JobRequest], Any] = _prelabeller,
        sanitiser_factory: Callable[[], Any] = load_sanitiser,
        sealer: Any = None,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        """`sanitiser_factory` builds an import's sanitiser where the job runs; `sealer` opens its documents
        in-process (None: the settings' data key, read where the job runs, as on Dask). The jobs this process
        holds beat every `lease_s / 4` seconds (`valueprint.jobs`)."""
        self.exports_dir, self.database_url, self.scheduler = exports_dir, database_url, scheduler
        self.evaluator_dir, self.precision = (str(evaluator_dir) if evaluator_dir else None), precision
        self.prelabeller_factory, self.sanitiser_factory, self.sealer = prelabeller_factory, sanitiser_factory, sealer
        self.statuses = statuses(shared_database(database_url))
        self._engine = JobEngine(QUEUE, scheduler, self.statuses, heartbeat_s=lease_s / 4)
        self.engine = self._engine.kind
        self._lock = threading.Lock()
        self._futures: dict[str, Any] = {}

    def prelabel(self, project_id: str, batch: int = 64) -> dict[str, Any]:
        """Start (or resume) pre-labelling every visible unit of the project that has no machine pre-label."""
        return self._start(JobRequest(f"prelabel-{project_id}", "prelabel", project_id, "", batch=batch))

    def export(self, project_id: str, fmt: str) -> dict[str, Any]:
        """Start streaming an export of the project to a file under the exports folder."""
        if fmt not in EXPORT_FORMATS:
            raise NotFoundError(f"no export format {fmt!r}; choose one of {EXPORT_FORMATS}")
        job_id = f"export-{project_id}-{fmt}-{uuid.uuid4().hex[:8]}"
        out = self.exports_dir / f"{job_id}{SUFFIXES[fmt]}"
        return self._start(JobRequest(job_id, "export", project_id, "", out=str(out), format=fmt))

    def import_(
        self,
        project_id: str,
        import_id: str,
        batch: int = IMPORT_BATCH,
        sanitiser_factory: Callable[[], Any] | None = None,
    ) -> dict[str, Any]:
        """Start sanitising and publishing a staged import (`import_job.stage`), `batch` documents per chunk;
        in-process, `sanitiser_factory` (e.g. the service's, already loaded) replaces the default."""
        request = JobRequest(import_job_id(import_id), "import", project_id, "", "", batch=batch, import_id=import_id)
        return self._start(request, sanitiser_factory)

    def resume(self, job_id: str, sanitiser_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
        """Submit an import again after its process died: it carries on with the documents still pending.
        ConflictError when it is running here, or finished (done, failed or cancelled: nothing to resume)."""
        status = self._status(job_id)
        if status.get("kind") != "import":
            raise ConflictError(f"job {job_id!r} is not an import; start it again instead")
        if status["state"] not in ACTIVE:
            raise ConflictError(f"import job {job_id!r} is {status['state']}: there is nothing to resume")
        return self._start(_carry_on(job_id, status), sanitiser_factory)

    def recover(self, lease_s: float, sanitiser_factory: Callable[[], Any] | None = None) -> dict[str, list[str]]:
        """Jobs abandoned for longer than `lease_s` seconds (their process died): imports resumed (or given up,
        `GAVE_UP`), pre-label and export jobs failed with `RESTARTED` (see the module doc); the ids of each. A
        job some other worker claimed first, or that came alive meanwhile, is left alone."""
        resumed, failed_ = [], []
        for status in self.statuses.abandoned(lease_s):
            job_id, restarts = status["job_id"], int(status.get("restarts") or 0)
            if status.get("kind") == "import" and status.get("import_id") and restarts < AUTO_RESUMES:
                request = _carry_on(job_id, status)
                with contextlib.suppress(ConflictError):  # this process runs it after all
                    if self._launch(request, sanitiser_factory, lease_s, restarts=restarts + 1) is not None:
                        resumed.append(job_id)
            elif status.get("kind") == "import":
                if self.statuses.fail_abandoned(job_id, lease_s, GAVE_UP) is not None:
                    from valueprint.annotate import import_job

                    import_job.discard(shared_database(self.database_url), str(status.get("import_id")))
                    failed_.append(job_id)
            elif (done := self.statuses.fail_abandoned(job_id, lease_s, RESTARTED)) is not None:
                failed_.append(job_id)
                if done.get("kind") == "export" and done.get("out"):
                    _remove(Path(done["out"] + ".partial"))
        return {"resumed": resumed, "failed": failed_}

    def _start(self, request: JobRequest, sanitiser_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
        started = self._launch(request, sanitiser_factory)
        assert started is not None  # take_over: a new run always starts
        return started

    def _launch(
        self,
        request: JobRequest,
        sanitiser_factory: Callable[[], Any] | None = None,
        abandoned_for: float | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
        """Record (with `fields` in its status) and submit a new run; None (nothing done) when `abandoned_for`
        is given and the job is not, or no longer, abandoned for that long."""
        with self._lock:
            held = self._futures.get(request.job_id)
            if held is not None and not held.done():
                raise ConflictError(f"job {request.job_id} is already running; wait for it or cancel it")
            request = replace(
                request,
                database_url=self.database_url,
                evaluator_dir=self.evaluator_dir,
                precision=self.precision,
                run_id=uuid.uuid4().hex,
                heartbeat_s=self._engine.heartbeat_s,
            )
            status = self.statuses.start(
                request.job_id,
                request.run_id,
                take_over=True,  # a run left "running" by a dead process must not block this one (module doc)
                abandoned_for=abandoned_for,
                kind=request.kind,
                project_id=request.project_id,
                format=request.format if request.kind == "export" else None,
                out=request.out,
                state="queued",
                engine=self.engine,
                submitted_at=now(),
                finished_at=None,
                error=None,
                written=None,
                note=None,
                import_id=request.import_id,
                batch=request.batch,
                **fields,
            )
            if status is None:  # with take_over, only a job no longer abandoned is not started
                return None
            self._futures[request.job_id] = self._submit(request, sanitiser_factory)
            return public(status)

    def _submit(self, request: JobRequest, sanitiser_factory: Callable[[], Any] | None = None) -> Any:
        if self.scheduler is not None:  # a worker process builds its own tools (nothing loaded is sent)
            sanitiser, sealer = self.sanitiser_factory, settings_sealer
        else:
            sanitiser = sanitiser_factory or self.sanitiser_factory
            sealer = (lambda: self.sealer) if self.sealer is not None else settings_sealer
        return self._engine.submit(
            request.job_id, run_job, request, self.prelabeller_factory, sanitiser, sealer, run_id=request.run_id
        )

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's public status (no server paths); NotFoundError for an unknown job."""
        return public(self._status(job_id))

    def _status(self, job_id: str) -> dict[str, Any]:
        if not job_id.replace("-", "").isalnum():
            raise NotFoundError(f"no annotation job {job_id!r}")
        status = self.statuses.read(job_id)
        if status is None:
            raise NotFoundError(f"no annotation job {job_id!r}")
        future = self._futures.get(job_id)
        if status["state"] in ACTIVE and future is not None and failed(future):
            status = self.statuses.fail_if_active(job_id, failure_text(future)) or status
        return status

    def output(self, job_id: str) -> Path:
        """A finished export's file; NotFoundError while it is not finished (or for a pre-label job)."""
        status = self._status(job_id)
        if status.get("kind") != "export" or status.get("state") != "done" or not status.get("out"):
            raise NotFoundError(f"job {job_id!r} has no finished export (state {status.get('state')!r})")
        if not Path(status["out"]).exists():
            raise NotFoundError(f"the file of export {job_id!r} is gone; start the export again")
        return Path(status["out"])

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop the job wherever it runs (it stops at its next batch); a cancelled export's files go."""
        self._status(job_id)  # NotFoundError for an unknown job
        status = self.statuses.cancel(job_id)
        if status is None:
            raise NotFoundError(f"no annotation job {job_id!r}")
        with self._lock:
            future = self._futures.pop(job_id, None)
        if future is not None:
            future.cancel()
        if status.get("kind") == "export" and status.get("out"):
            for path in (Path(status["out"]), Path(status["out"] + ".partial")):
                _remove(path)
        if status.get("kind") == "import" and status.get("state") == "cancelled":
            from valueprint.annotate import import_job

            import_job.discard(shared_database(self.database_url), str(status["import_id"]))  # also with no run left
        return public(status)

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job ends (tests, the CLI, the benchmark)."""
        wait_for(self._futures.get(job_id), timeout)
        return self.status(job_id)

    def close(self) -> None:
        self._engine.close()


def public(status: dict[str, Any]) -> dict[str, Any]:
    return {name: status.get(name) for name in PUBLIC_FIELDS if name in status}


def _carry_on(job_id: str, status: dict[str, Any]) -> JobRequest:
    """The run that carries on with a staged import from its job's last status (`resume` and `recover`)."""
    batch = status.get("batch") or IMPORT_BATCH
    return JobRequest(job_id, "import", status["project_id"], "", batch=batch, import_id=status["import_id"])


def import_job_id(import_id: str) -> str:
    return f"import-{import_id}"
