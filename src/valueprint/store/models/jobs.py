"""The jobs' table: one status row per background job (adapter training, pre-labelling, exports).

It lives in the database every web worker and job worker shares, so any of them answers a job's
status, and a cancellation or a person's deletion reaches the job wherever it runs (see
`valueprint.jobs.JobStatuses`). A job run for a person names them (`participant_id`), so their
job records are exported with their data and deleted with their account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class JobStatusRecord(Base):
    __tablename__ = "job_status"
    queue: Mapped[str] = mapped_column(String(40), primary_key=True)  # the job engine's name, e.g. adapter-training
    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    run_id: Mapped[str] = mapped_column(String(64), default="")  # the run that holds the job's licence
    state: Mapped[str] = mapped_column(String(20), index=True)  # queued, running/…, done, failed, cancelled
    status: Mapped[dict[str, Any]] = mapped_column(JSON)  # everything the job reported, as its API shows it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # when a process last showed that the run is alive: its own reports, and the heartbeat of the process that
    # holds its future (`valueprint.jobs.JobEngine`); a queued or running job quiet for longer than the lease
    # was abandoned (its process died) and is recovered (`valueprint.jobs.abandoned`)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now, nullable=True)
