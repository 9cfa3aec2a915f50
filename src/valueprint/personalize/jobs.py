"""Adapter training as a background job: in-process by default, on a Dask cluster when configured.

Both engines run the same picklable `run_training(request)`; it reports its state to a JSON
status file (`DATA_DIR/adapters/jobs/<job id>.json`), which the API and the web app read, so
the status looks the same whichever engine ran it (a Dask worker must share the data folder,
as workers on the same machine do). A job is queued → preparing → training (step, total,
ETA) → done, or failed, or cancelled. A failed job's message is one the person may read: a
`ClientError`'s own words, anything else a generic line (its text, which may name the server's
folders, goes to the log only).

Cancelling, and deleting a subject while their job runs: the job's status file is its licence.
`Jobs.cancel` marks it cancelled and deleting a person removes it (`AdapterStore.delete_person`),
both under the jobs folder's file lock (`jobs_lock`, shared with Dask workers on the same
machine). The job reports progress, and finally records "done", only under that lock and only
while its status file says it is active; otherwise it stops and removes what it wrote (the
adapter and its checkpoints). So a job that finishes after its person was deleted leaves no
adapter: either it finished before the deletion took the lock (the deletion removes the adapter)
or it sees its licence gone when it does.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from valueprint.errors import ConflictError
from valueprint.jobs import (
    JobCancelled,
    JobEngine,
    StatusFile,
    failed,
    failure_text,
    jobs_lock,
    now,
    public_error,
    wait_for,
)

ACTIVE = ("queued", "preparing", "training")
SERVER_FAILURE = "the training failed on the server (its log says why); try again later"
log = logging.getLogger("valueprint.jobs")

Progress = Callable[[int, int], None]
Trainer = Callable[[Any, Progress], dict[str, Any]]  # (TrainingRequest, progress) -> the adapter's metadata


@dataclass(frozen=True)
class TrainingRequest:
    """Everything a worker needs, as plain data (it may run in another process)."""

    job_id: str
    subject: str  # "person" or "persona"
    subject_id: str
    profile_json: str
    out: str
    status_path: str
    data_dir: str
    datasets_dir: str
    model_dir: str | None = None
    model: str | None = None  # the catalogue model (VALUEPRINT_MODEL) when no model_dir is given
    evaluator_dir: str | None = None
    init_adapter: str | None = None
    init_persona: str | None = None
    steps: int = 80
    reply_prompts: int = 256
    own: list[tuple[str, str, str]] = field(default_factory=list)
    run_id: str = ""  # set by `Jobs.submit`: a run's status file is its own, not a later run's of the same job


class Licence:
    """A running job's right to report and to keep its output: its status file, active (see module doc)."""

    def __init__(self, status: StatusFile, run_id: str) -> None:
        self.status, self.run_id, self.lock = status, run_id, jobs_lock(status.path.parent)

    def report(self, **fields: Any) -> bool:
        """Write the status if the job is still wanted; False (and nothing written) if not."""
        with self.lock:
            current = self.status.read()
            if current is None or current.get("state") not in ACTIVE or current.get("run_id") != self.run_id:
                return False
            self.status.write(**fields)
            return True


def discard_output(out: Path) -> None:
    """A cancelled job's adapter folder and its checkpoints (the same paths `AdapterStore.delete_person` removes)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.parent / f"{out.name}.checkpoints", ignore_errors=True)


def train_subject(request: TrainingRequest, on_progress: Progress) -> dict[str, Any]:
    from valueprint.personalize.training import train_subject as train

    return train(request, on_progress)


def run_training(request: TrainingRequest, train: Trainer = train_subject) -> dict[str, Any]:
    """Build the subject's preference pairs and train their adapter; the status file follows along.
    A cancelled job (or one whose subject was deleted) stops at its next step and removes its output."""
    licence, out = Licence(StatusFile(Path(request.status_path)), request.run_id), Path(request.out)
    origin: dict[str, float] = {}  # when and at which step DPO began: preparing the pairs is not a step

    def progress(step: int, total: int) -> None:
        """Step 0: still preparing the pairs (a heartbeat); from step 1, training. Either way a job that is no
        longer wanted stops here."""
        if step == 0:
            if not licence.report(state="preparing"):
                raise JobCancelled(request.job_id)
            return
        origin.setdefault("time", time.monotonic())
        origin.setdefault("step", step)
        done = step - origin["step"]
        eta = (time.monotonic() - origin["time"]) / done * (total - step) if done else None
        eta_s = round(eta, 1) if eta is not None else None
        if not licence.report(state="training", step=step, total=total, eta_s=eta_s):
            raise JobCancelled(request.job_id)

    try:
        if not licence.report(state="preparing", started_at=now(), step=0, total=request.steps, error=None):
            raise JobCancelled(request.job_id)
        meta = train(request, progress)
        # "done", and the adapter kept, only if the job is still wanted when it has written everything
        if not licence.report(state="done", finished_at=now(), train_seconds=meta["train_seconds"], eta_s=0):
            raise JobCancelled(request.job_id)
    except JobCancelled:
        discard_output(out)
        return {"cancelled": True}
    except BaseException as error:
        if not licence.report(state="failed", error=public_error(error, SERVER_FAILURE), finished_at=now()):
            discard_output(out)
        raise
    return meta


class Jobs:
    """Submit training jobs and read their status; in-process or on Dask (`scheduler` address)."""

    def __init__(self, jobs_dir: Path, scheduler: str | None = None, train: Trainer = train_subject) -> None:
        self.jobs_dir, self.scheduler, self.train = jobs_dir, scheduler, train
        self._engine = JobEngine("adapter-training", scheduler)
        self.engine = self._engine.kind
        self._lock = threading.Lock()
        self._futures: dict[str, Any] = {}  # Dask forgets a task whose future is dropped

    def status_file(self, job_id: str) -> StatusFile:
        return StatusFile(self.jobs_dir / f"{job_id}.json")

    def submit(self, request: TrainingRequest) -> dict[str, Any]:
        with self._lock:
            current = self.status(request.job_id)
            if current and current["state"] in ACTIVE:
                raise ConflictError("an adapter is already being trained for this profile; wait for it to finish")
            request = replace(request, run_id=uuid.uuid4().hex)
            status = self.status_file(request.job_id).write(
                job_id=request.job_id,
                run_id=request.run_id,
                state="queued",
                engine=self.engine,
                submitted_at=now(),
                error=None,
            )
            self._futures[request.job_id] = self._submit(request)
            return status

    def _submit(self, request: TrainingRequest) -> Any:
        return self._engine.submit(request.job_id, run_training, request, self.train)

    def cancel(self, job_id: str) -> None:
        """Stop a queued or running job: it never starts, or stops at its next step, and removes its output."""
        with self._lock, jobs_lock(self.jobs_dir):
            status = self.status_file(job_id)
            if (status.read() or {}).get("state") in ACTIVE:
                status.write(state="cancelled", finished_at=now())
            future = self._futures.pop(job_id, None)
        if future is not None:
            future.cancel()  # a queued job is dropped; a running one sees its status and stops

    def status(self, job_id: str) -> dict[str, Any] | None:
        status = self.status_file(job_id).read()
        future = self._futures.get(job_id)
        if status and status["state"] in ACTIVE and future is not None and failed(future):
            status = self.status_file(job_id).write(
                state="failed", error=failure_text(future, SERVER_FAILURE), finished_at=now()
            )
        return status

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any] | None:
        """Block until the job ends (tests and the CLI)."""
        wait_for(self._futures.get(job_id), timeout)
        return self.status(job_id)

    def close(self) -> None:
        self._engine.close()
