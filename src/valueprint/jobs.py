"""The job machinery the domains share: status rows in the database, cancellation, a one-at-a-time worker thread.

A job reports its state to its row of the `job_status` table (`JobStatuses`), which every web worker
and every job worker reaches, on any machine: any of them answers a job's status, and a cancellation
or a person's deletion, made by any of them, reaches the job wherever it runs. Each change is one
transaction that locks the job's row first (SELECT … FOR UPDATE on PostgreSQL; on SQLite this
process's writer queue, see `store.db.shared_database`), so a check and the write that depends on it
never interleave with another writer's. A run holds the job's licence while the row is active and
names its run id; it reports only under that licence and stops (removing what it wrote) when it is
gone. Each domain keeps its own jobs (`personalize.jobs`: adapter training; `annotate.jobs`:
pre-labels, imports and exports) on top of this.

Abandoned jobs. A job's row also says when a process last showed that its run is alive
(`heartbeat_at`): every report of the run, a heartbeat every `lease / 4` seconds from the process
running it (`beating`, wherever it runs: a web worker or a Dask worker), and one from the process that
holds its future while it waits in a queue (`JobEngine`: the web worker that submitted it). A job
queued or running whose row has been quiet for longer than the lease (`Settings.job_lease_s`, two
minutes by default) has no living process behind it: the process that held or ran it died (a
restart, a crash, a kill; a Dask scheduler forgets a task still waiting when the web worker that
submitted it goes). This rule needs no process ids, so it holds with several web workers and Dask
workers on several machines, and a live run is never taken for dead however long one step of it
lasts, as long as its process lives. The web app looks
for such jobs at startup and every `lease / 4` seconds after (`Reaper`, `Services.recover_jobs`):
imports are resumed, other jobs are marked failed with `RESTARTED`. Whatever claims an abandoned job
does so under its row's lock, checking again that it is still quiet, so of several web workers
looking at once only one resumes or fails it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valueprint.errors import ValueprintError
from valueprint.store.db import Database
from valueprint.store.models import JobStatusRecord

SERVER_FAILURE = "the job failed on the server (its log says why); try again later"
RESTARTED = "the server restarted while this job ran; start it again"
DEFAULT_LEASE_S = 120.0  # a queued or running job quiet for longer than this was abandoned (module doc)
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
        row.updated_at = row.heartbeat_at = datetime.now(UTC)
        return status

    def _abandoned(self, row: JobStatusRecord | None, lease_s: float) -> bool:
        """Whether the row is active and has been quiet for longer than `lease_s` (see the module doc)."""
        if row is None or row.state not in self.active:
            return False
        last = row.heartbeat_at or row.updated_at
        return last is None or last < datetime.now(UTC) - timedelta(seconds=lease_s)

    def start(
        self,
        job_id: str,
        run_id: str,
        *,
        participant_id: str | None = None,
        take_over: bool = False,
        abandoned_for: float | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
        """Record a new run (its status replaces the last run's): the job's licence is now `run_id`'s.
        None, and nothing written, while another run holds it, unless `take_over`; then that run finds
        its licence gone at its next report and stops. `participant_id`: the person the job is for.
        `abandoned_for`: start only in place of a run abandoned for that many seconds (else None)."""
        try:
            with self._row(job_id) as (session, row):
                if abandoned_for is not None and not self._abandoned(row, abandoned_for):
                    return None
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

    def beat(self, runs: dict[str, str]) -> None:
        """This process still holds these runs (job id → run id): their rows' heartbeat is now, where the row is
        active and still names that run."""
        if not runs:
            return
        at, record = datetime.now(UTC), JobStatusRecord
        with self.db.session() as session:
            for job_id, run_id in runs.items():
                session.execute(
                    update(record)
                    .where(record.queue == self.queue, record.job_id == job_id, record.run_id == run_id)
                    .where(record.state.in_(self.active))
                    .values(heartbeat_at=at)
                )

    def abandoned(self, lease_s: float) -> list[dict[str, Any]]:
        """The statuses of this queue's active jobs that no process has shown alive for `lease_s` seconds."""
        cutoff, record = datetime.now(UTC) - timedelta(seconds=lease_s), JobStatusRecord
        quiet = or_(record.heartbeat_at < cutoff, and_(record.heartbeat_at.is_(None), record.updated_at < cutoff))
        with self.db.session() as session:
            rows = session.scalars(
                select(record.status)
                .where(record.queue == self.queue, record.state.in_(self.active), quiet)
                .order_by(record.updated_at)
            ).all()
        return [dict(status) for status in rows]

    def fail_abandoned(self, job_id: str, lease_s: float, error: str = RESTARTED) -> dict[str, Any] | None:
        """Mark the job failed with `error` if it is still abandoned (checked under its row's lock: of several
        workers looking at once, one does it); its status then, else None."""
        with self._row(job_id) as (_, row):
            if row is None or not self._abandoned(row, lease_s):
                return None
            return self._write(row, {"state": "failed", "error": error, "finished_at": now()})

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


@contextlib.contextmanager
def beating(statuses: JobStatuses, job_id: str, run_id: str, every_s: float) -> Iterator[None]:
    """While the block runs, a daemon thread of this process beats for the run every `every_s` seconds (the
    run's own sign of life, wherever it runs; see the module doc). Side effect: one write per beat."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                statuses.beat({job_id: run_id})
            except Exception as error:  # the database is away for a moment: the next beat tries again
                log.warning("job heartbeat failed: %s", error)

    threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True).start()
    try:
        yield
    finally:
        stop.set()


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
    scheduler at `scheduler`. Both are started on first use; `kind` is what job statuses record.

    With `statuses`, a daemon thread beats every `heartbeat_s` seconds for the runs whose futures this engine
    still holds and which have not ended (`JobStatuses.beat`): the sign that their process lives (module doc).
    """

    def __init__(
        self,
        name: str,
        scheduler: str | None = None,
        statuses: JobStatuses | None = None,
        heartbeat_s: float = DEFAULT_LEASE_S / 4,
    ) -> None:
        self.name, self.scheduler = name, scheduler
        self.kind = "dask" if scheduler else "in-process"
        self.statuses, self.heartbeat_s = statuses, heartbeat_s
        self._worker: DaemonWorker | None = None
        self._client: Any = None
        self._held: dict[str, tuple[str, Any]] = {}  # job id → (run id, future), for the heartbeat
        self._held_lock = threading.Lock()
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None

    def submit(self, job_id: str, fn: Callable[..., Any], *args: Any, run_id: str = "") -> Any:
        """A future for `fn(*args)` (concurrent.futures in-process, distributed on Dask, keyed by `job_id`);
        with a `run_id`, the heartbeat keeps that run's row alive until the future ends."""
        if self.scheduler is None:
            if self._worker is None:
                self._worker = DaemonWorker(self.name)
            future = self._worker.submit(fn, *args)
        else:
            if self._client is None:
                from valueprint.evaluate.backbone import require

                self._client = require("distributed").Client(self.scheduler, timeout=10)
            future = self._client.submit(fn, *args, key=f"{self.name}-{job_id}-{time.time_ns()}", pure=False)
        if run_id and self.statuses is not None:
            with self._held_lock:
                self._held[job_id] = (run_id, future)
                if self._heart is None:
                    self._heart = threading.Thread(target=self._beat, name=f"{self.name}-heartbeat", daemon=True)
                    self._heart.start()
        return future

    def _beat(self) -> None:
        """Side effect: every `heartbeat_s`, one write to the rows of the runs still held (until `close`)."""
        assert self.statuses is not None
        while not self._stop.wait(self.heartbeat_s):
            with self._held_lock:
                for job_id in [j for j, (_, future) in self._held.items() if future.done()]:
                    del self._held[job_id]
                runs = {job_id: run_id for job_id, (run_id, _) in self._held.items()}
            try:
                self.statuses.beat(runs)
            except Exception as error:  # the database is away for a moment: the next beat tries again
                log.warning("job heartbeat failed: %s", error)

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.shutdown()
        if self._client is not None:
            self._client.close()


class Reaper:
    """Calls `recover` at once and then every `interval_s` seconds on a daemon thread, until `stop` (the web app
    runs `Services.recover_jobs` so; see the module doc). A failing call is logged and tried again later."""

    def __init__(self, recover: Callable[[], Any], interval_s: float) -> None:
        self.recover, self.interval_s = recover, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-reaper", daemon=True)

    def start(self) -> Reaper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                self.recover()
            except Exception:
                log.exception("recovering abandoned jobs failed; trying again in %.0f s", self.interval_s)
            if self._stop.wait(self.interval_s):
                return

    def stop(self, timeout: float | None = 10) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


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
