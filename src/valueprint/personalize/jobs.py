"""Adapter training as a background job: in-process by default, on a Dask cluster when configured.

Both engines run the same picklable `run_training(request)`; it reports its state to the job's
row in the database (`valueprint.jobs.JobStatuses`, queue "adapter-training"), which every web
worker reads, so the status looks the same whichever engine ran it and whichever worker is asked.
A job is queued → preparing → training (step, total, ETA) → done, or failed, or cancelled. A
failed job's message is one the person may read: a `ClientError`'s own words, anything else a
generic line (its text, which may name the server's folders, goes to the log only).

Cancelling, and deleting a subject while their job runs: the job's row is its licence.
`Jobs.cancel` marks it cancelled, and deleting a person (or their adapter) deletes it, from any
worker. The job reports progress, and finally records "done", only with the row locked and only
while it is active and names this run; otherwise it stops and removes what it wrote (the adapter
and its checkpoints). So a job that finishes after its person was deleted leaves no adapter:
either it recorded "done" before the deletion locked the row (the deletion then removes the
adapter) or it finds its licence gone when it reports. The adapter files themselves are written to
`DATA_DIR/adapters`, which the job's worker and the web workers must share.

A job whose process died (a restart, a crash) would otherwise stay "training", and refuse the next run,
for ever: the web app marks a job abandoned for longer than the lease failed ("the server restarted
while this job ran; start it again", `Jobs.fail_abandoned`, see `valueprint.jobs`); started again, the
training resumes from its last checkpoint.
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
    DEFAULT_LEASE_S,
    RESTARTED,
    JobCancelled,
    JobEngine,
    JobStatuses,
    beating,
    failed,
    failure_text,
    now,
    public_error,
    wait_for,
)
from valueprint.store.db import Database, shared_database

QUEUE = "adapter-training"
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
    database_url: str = ""  # set by `Jobs.submit`: where the job's status row is
    run_id: str = ""  # set by `Jobs.submit`: a run's licence is its own, not a later run's of the same job
    heartbeat_s: float = DEFAULT_LEASE_S / 4  # set by `Jobs.submit`: how often the run shows it lives


def statuses(db: Database) -> JobStatuses:
    return JobStatuses(db, QUEUE, ACTIVE)


class Licence:
    """A running job's right to report and to keep its output: its row, active and naming this run."""

    def __init__(self, request: TrainingRequest) -> None:
        self.statuses = statuses(shared_database(request.database_url))
        self.job_id, self.run_id = request.job_id, request.run_id

    def report(self, **fields: Any) -> bool:
        """Write the status if the job is still wanted; False (and nothing written) if not."""
        return self.statuses.report(self.job_id, self.run_id, **fields)


def discard_output(out: Path) -> None:
    """A cancelled job's adapter folder and its checkpoints (the same paths `AdapterStore.delete_person` removes)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.parent / f"{out.name}.checkpoints", ignore_errors=True)


def train_subject(request: TrainingRequest, on_progress: Progress) -> dict[str, Any]:
    from valueprint.personalize.training import train_subject as train

    return train(request, on_progress)


def run_training(request: TrainingRequest, train: Trainer = train_subject) -> dict[str, Any]:
    """Build the subject's preference pairs and train their adapter; the job's status follows along, and the
    run beats while it lasts (`valueprint.jobs.beating`). A cancelled job (or one whose subject was deleted)
    stops at its next step and removes its output."""
    licence = Licence(request)
    with beating(licence.statuses, request.job_id, request.run_id, request.heartbeat_s):
        return _train(request, train, licence)


def _train(request: TrainingRequest, train: Trainer, licence: Licence) -> dict[str, Any]:
    """`run_training`'s body."""
    out = Path(request.out)
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

    def __init__(
        self,
        db: Database,
        scheduler: str | None = None,
        train: Trainer = train_subject,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        """The jobs this process holds beat every `lease_s / 4` seconds (`valueprint.jobs`)."""
        self.db, self.scheduler, self.train = db, scheduler, train
        self.statuses = statuses(db)
        self._engine = JobEngine(QUEUE, scheduler, self.statuses, heartbeat_s=lease_s / 4)
        self.engine = self._engine.kind
        self._lock = threading.Lock()
        self._futures: dict[str, Any] = {}  # Dask forgets a task whose future is dropped

    def submit(self, request: TrainingRequest) -> dict[str, Any]:
        """Queue a run; ConflictError while another run of the job is active (on any worker)."""
        with self._lock:
            request = replace(
                request, run_id=uuid.uuid4().hex, database_url=self.db.url, heartbeat_s=self._engine.heartbeat_s
            )
            status = self.statuses.start(
                request.job_id,
                request.run_id,
                participant_id=request.subject_id if request.subject == "person" else None,
                state="queued",
                engine=self.engine,
                submitted_at=now(),
                error=None,
            )
            if status is None:
                raise ConflictError("an adapter is already being trained for this profile; wait for it to finish")
            self._futures[request.job_id] = self._submit(request)
            return status

    def _submit(self, request: TrainingRequest) -> Any:
        return self._engine.submit(request.job_id, run_training, request, self.train, run_id=request.run_id)

    def cancel(self, job_id: str) -> None:
        """Stop a queued or running job, wherever it runs: it never starts, or stops at its next step,
        and removes its output."""
        self.statuses.cancel(job_id)
        with self._lock:
            future = self._futures.pop(job_id, None)
        if future is not None:
            future.cancel()  # a job queued here is dropped; a running one sees its status and stops

    def fail_abandoned(self, lease_s: float) -> list[str]:
        """Jobs abandoned for longer than `lease_s` seconds (their process died) marked failed with `RESTARTED`;
        their ids. A job another worker claimed first, or that came alive meanwhile, is left alone."""
        return [
            status["job_id"]
            for status in self.statuses.abandoned(lease_s)
            if self.statuses.fail_abandoned(status["job_id"], lease_s, RESTARTED) is not None
        ]

    def forget_person(self, session: Any, participant_id: str) -> None:
        """Delete the person's job records in `session`'s unit of work (their adapter or account is going):
        a run still going stops at its next step and removes what it wrote."""
        self.statuses.forget(session, participant_id=participant_id)

    def status(self, job_id: str) -> dict[str, Any] | None:
        status = self.statuses.read(job_id)
        future = self._futures.get(job_id)
        if status and status["state"] in ACTIVE and future is not None and failed(future):
            status = self.statuses.fail_if_active(job_id, failure_text(future, SERVER_FAILURE))
        return status

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any] | None:
        """Block until the job ends (tests and the CLI)."""
        wait_for(self._futures.get(job_id), timeout)
        return self.status(job_id)

    def close(self) -> None:
        self._engine.close()
