"""The personalisation domain's data duties: blind picks (rows, sealed), a person's training job records
(rows of `job_status`) and their adapter and its checkpoints (files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from valueprint.personalize.adapters import AdapterStore, adapters_root
from valueprint.store.duties import DataDuty, DutyContext, register
from valueprint.store.models import BlindPick, JobStatusRecord


def _erase_adapter(data_dir: Path, participant_id: str) -> None:
    AdapterStore(adapters_root(data_dir)).delete_person(participant_id)


def _blind_picks(context: DutyContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(
        select(BlindPick).where(BlindPick.participant_id == context.participant_id).order_by(BlindPick.id)
    )
    return [
        {
            **context.sealer.open(row.sealed, context.participant_id),
            "strategy": row.strategy,
            "model": row.model,
            "personal_side": row.personal_side,
            "choice": row.choice,
            "created_at": row.created_at.isoformat(),
            "chosen_at": row.chosen_at.isoformat() if row.chosen_at else None,
        }
        for row in rows
    ]


def _jobs(context: DutyContext) -> list[dict[str, Any]]:
    """Every job status that names the person (their adapter's training runs), as the API shows it."""
    rows = context.session.scalars(
        select(JobStatusRecord.status)
        .where(JobStatusRecord.participant_id == context.participant_id)
        .order_by(JobStatusRecord.queue, JobStatusRecord.job_id)
    )
    return [dict(status) for status in rows]


register(DataDuty("blind_picks", tables=(BlindPick,), export=_blind_picks))
register(DataDuty("jobs", tables=(JobStatusRecord,), export=_jobs))
register(DataDuty("adapter", erase_files=_erase_adapter))
