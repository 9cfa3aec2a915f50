"""The job machinery the domains share: status files, their lock, cancellation, a one-at-a-time worker thread.

A job reports its state to a JSON status file, written atomically (a temporary file, then a rename)
and checked or changed under the jobs folder's file lock (`jobs_lock`), so the API, the web app and
Dask worker processes on the same machine all read and write the same status. Each domain keeps its
own jobs (`personalize.jobs`: adapter training; `annotate.jobs`: pre-labels and exports) on top of this.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from valueprint.errors import ValueprintError

LOCK_NAME = ".lock"
SERVER_FAILURE = "the job failed on the server (its log says why); try again later"
log = logging.getLogger("valueprint.jobs")


class JobCancelled(Exception):
    """The job was cancelled or its subject deleted: stop, and leave nothing behind."""


def jobs_lock(jobs_dir: Path) -> FileLock:
    """The lock under which status files are checked and changed; a file lock (the `filelock` library,
    portable and maintained) because Dask workers in other processes write status files too."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(jobs_dir / LOCK_NAME)


def public_error(error: BaseException | None, generic: str = SERVER_FAILURE) -> str:
    """What a failed job's status may say: the message of an error the person can act on, else `generic`
    (the error itself, whose text may name the server's folders, goes to the log only)."""
    if isinstance(error, ValueprintError) and error.exposed:
        return str(error)
    log.error("job failed: %s: %s", type(error).__name__, error)
    return generic


class StatusFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def write(self, **fields: Any) -> dict[str, Any]:
        status = {**(self.read() or {}), **fields, "updated_at": now()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=self.path.parent)
        with os.fdopen(handle, "w") as out:
            json.dump(status, out)
        os.replace(staging, self.path)
        return status


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
            except BaseException as error:  # kept on the future; the status file says why
                future.set_exception(error)

    def shutdown(self) -> None:
        self._queue.put(None)


class JobEngine:
    """Where a domain's jobs run: one at a time on a `DaemonWorker` in this process (default), or on the Dask
    scheduler at `scheduler`. Both are started on first use; `kind` is what status files record."""

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
    """Block until the future ends; its error is not raised (the status file carries it)."""
    if future is not None:
        with contextlib.suppress(Exception):
            future.result(timeout=timeout)
