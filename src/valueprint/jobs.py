"""The job machinery the domains share: status rows in the database, cancellation, a one-at-a-time worker thread.

A job reports its state to its row of the `job_status` table (`JobStatuses`), which every web worker
and every job worker reaches, on any machine: any of them answers a job's status, and a cancellation
or a person's deletion, made by any of them, reaches the job wherever it runs. Each change is one
transaction that locks the job's row first (SELECT … FOR UPDATE on PostgreSQL; on SQLite this
process's writer queue, see `store.db.shared_database`), so a check and the write that depends on it
never interleave with another writer's. A run holds the job's licence while the row is active and
names its run id; it reports only under that licence and stops (removing what it wrote) when it is
gone. Each domain keeps its own jobs (`personalize.jobs`: adapter training; `annotate.jobs`:
pre-labels and exports) on top of this.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valueprint.errors import ValueprintError
from valueprint.store.db import Database
from valueprint.store.models import JobStatusRecord

SERVER_FAILURE = "the job failed on the server (its log says why); try again later"
log = logging.getLogger("valueprint.jobs")


class JobCancelled(Exception):
    """The job was cancelled or its subject deleted: stop, and leave nothing behind."""


def public_error(error: BaseException | None, generic: str = SERVER_FAILURE) -> str:
    """What a failed job's status may say: the message of an error the person can act on, else `generic`
    (the error itself, whose text may name the server's folders, goes to the log only)."""
    if isinstance(error, ValueprintError) and error.exposed:
        return str(error)
    log.error("job failed: %s: %s", type(error).__name__, error)
    return generic


class JobStatuses:
    """One queue's job statuses (`queue`: the job engine's name), rows of `job_status`; see the module.

    A status is the dict the job reported (state, progress, times, error), merged field by field as
    reports arrive, with `updated_at`; `active` names the states in which a run holds its licence."""

    def __init__(self, db: Database, queue: str, active: tuple[str, ...]) -> None:
        self.db, self.queue, self.active = db, queue, active

    @contextlib.contextmanager
    def _row(self, job_id: str) -> Iterator[tuple[Session, JobStatusRecord | None]]:
        """The job's row, locked until the unit of work commits (None when the job is unknown)."""
        with self.db.session() as session:
            row = session.scalars(
                select(JobStatusRecord)
                .where(JobStatusRecord.queue == self.queue, JobStatusRecord.job_id == job_id)
                .with_for_update()
            ).first()
            yield session, row

    def read(self, job_id: str) -> dict[str, Any] | None:
        with self.db.session() as session:
            status = session.scalar(
                select(JobStatusRecord.status).where(
                    JobStatusRecord.queue == self.queue, JobStatusRecord.job_id == job_id
                )
            )
        return dict(status) if status is not None else None

    @staticmethod
    def _write(row: JobStatusRecord, fields: dict[str, Any]) -> dict[str, Any]:
        status = {**(row.status or {}), **fields, "updated_at": now()}
        row.status, row.state, row.run_id = status, status.get("state", ""), status.get("run_id") or ""
        row.updated_at = datetime.now(UTC)
        return status

    def start(
        self, job_id: str, run_id: str, *, participant_id: str | None = None, take_over: bool = False, **fields: Any
    ) -> dict[str, Any] | None:
        """Record a new run (its status replaces the last run's): the job's licence is now `run_id`'s.
        None, and nothing written, while another run holds it, unless `take_over`; then that run finds
        its licence gone at its next report and stops. `participant_id`: the person the job is for."""
        try:
            with self._row(job_id) as (session, row):
                if row is not None and row.state in self.active and not take_over:
                    return None
                if row is None:
                    row = JobStatusRecord(queue=self.queue, job_id=job_id)
                    session.add(row)
                row.participant_id, row.status = participant_id, {}
                return self._write(row, {**fields, "job_id": job_id, "run_id": run_id})
        except IntegrityError:
            if self.read(job_id) is None:  # not a row made by another worker in the same moment
                raise
            return None  # another worker created the row in the same moment: its run holds the licence

    def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        """Merge `fields` into a known job's status (None, and nothing written, for an unknown job)."""
        with self._row(job_id) as (_, row):
            return None if row is None else self._write(row, fields)

    def report(self, job_id: str, run_id: str, **fields: Any) -> bool:
        """A run's report: written only while the job is active and the licence is this run's; False
        (and nothing written) once it was cancelled, deleted, or taken over by a newer run."""
        with self._row(job_id) as (_, row):
            if row is None or row.state not in self.active or row.run_id != run_id:
                return False
            self._write(row, fields)
            return True

    def fail_if_active(self, job_id: str, error: str) -> dict[str, Any] | None:
        """Mark an active job failed (its run died without saying so); the status as it now is."""
        with self._row(job_id) as (_, row):
            if row is None:
                return None
            if row.state not in self.active:
                return dict(row.status)
            return self._write(row, {"state": "failed", "error": error, "finished_at": now()})

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """An active job becomes cancelled (its run stops at its next report); the status as it now is."""
        with self._row(job_id) as (_, row):
            if row is None:
                return None
            if row.state not in self.active:
                return dict(row.status)
            return self._write(row, {"state": "cancelled", "finished_at": now()})

    def forget(self, session: Session, *, participant_id: str | None = None, prefix: str | None = None) -> None:
        """See `forget_jobs`."""
        forget_jobs(session, self.queue, participant_id=participant_id, prefix=prefix)


def forget_jobs(session: Session, queue: str, *, participant_id: str | None = None, prefix: str | None = None) -> None:
    """Delete the rows of `queue`'s jobs for a person, or whose id starts with `prefix`, in `session`'s unit of
    work: a run still going finds its licence gone at its next report, stops and removes what it wrote."""
    statement = delete(JobStatusRecord).where(JobStatusRecord.queue == queue)
    if participant_id is not None:
        statement = statement.where(JobStatusRecord.participant_id == participant_id)
    if prefix is not None:
        statement = statement.where(JobStatusRecord.job_id.startswith(prefix, autoescape=True))
    session.execute(statement)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DaemonWorker:
    """Runs submitted calls one at a time (a training run already uses every core) on a daemon thread.

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so stopping the server
    would wait for a training run to finish. Here the run is abandoned and resumes from its last
    checkpoint when submitted again.
    """

    def __init__(self, name: str = "jobs") -> None:
        self._queue: queue.Queue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, fn, args))
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # kept on the future; the job's status says why
                future.set_exception(error)

    def shutdown(self) -> None:
        self._queue.put(None)


class JobEngine:
    """Where a domain's jobs run: one at a time on a `DaemonWorker` in this process (default), or on the Dask
    scheduler at `scheduler`. Both are started on first use; `kind` is what job statuses record."""

    def __init__(self, name: str, scheduler: str | None = None) -> None:
        self.name, self.scheduler = name, scheduler
        self.kind = "dask" if scheduler else "in-process"
        self._worker: DaemonWorker | None = None
        self._client: Any = None

    def submit(self, job_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        """A future for `fn(*args)` (concurrent.futures in-process, distributed on Dask, keyed by `job_id`)."""
        if self.scheduler is None:
            if self._worker is None:
                self._worker = DaemonWorker(self.name)
            return self._worker.submit(fn, *args)
        if self._client is None:
            from valueprint.evaluate.backbone import require

            self._client = require("distributed").Client(self.scheduler, timeout=10)
        return self._client.submit(fn, *args, key=f"{self.name}-{job_id}-{time.time_ns()}", pure=False)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown()
        if self._client is not None:
            self._client.close()


def failed(future: Any) -> bool:
    """Whether a job's future (either engine's) ended without a result."""
    if isinstance(future, Future):
        return future.done() and future.exception() is not None
    return future.status in ("error", "cancelled", "lost")


def failure_text(future: Any, generic: str = SERVER_FAILURE) -> str:
    """What a failed future's status may say (see `public_error`)."""
    try:
        error = future.exception()
    except Exception as lookup:  # a cancelled or lost Dask future
        error = lookup
    return public_error(error, generic)


def wait_for(future: Any, timeout: float | None) -> None:
    """Block until the future ends; its error is not raised (the job's status carries it)."""
    if future is not None:
        with contextlib.suppress(Exception):
            future.result(timeout=timeout)
