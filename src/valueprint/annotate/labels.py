"""An annotator's own actions on a unit they hold: label it, skip it, undo their last, flag leaked data.

Each works in the caller's session (one unit of work) and commits nothing; the unit's row is read
`FOR UPDATE` (PostgreSQL) so its count of labels never loses an increment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from valueprint.annotate.queue import has_room, release
from valueprint.annotate.schema import LabelSchema, check_labels
from valueprint.errors import ConflictError, NotFoundError
from valueprint.store.models import (
    Annotation,
    AnnotationFlag,
    AnnotationProject,
    AnnotationReservation,
    AnnotationUnit,
)

MAX_FLAG_REASON = 500


def unit_of(session: Session, project_id: str, unit_id: int, lock: bool = False) -> AnnotationUnit:
    unit = session.get(AnnotationUnit, unit_id, with_for_update=lock)
    if unit is None or unit.project_id != project_id:
        raise NotFoundError(f"no unit {unit_id} in this project")
    return unit


def record(
    session: Session,
    project: AnnotationProject,
    unit_id: int,
    participant_id: str,
    now: datetime,
    profile_json: str | None,
    labels: dict[str, Any] | None,
) -> Annotation:
    """Store the annotator's labels for the unit (None: a skip) and free their reservation. The unit must be
    theirs: reserved now, or reserved earlier with room left; ConflictError otherwise (and on a hidden unit)."""
    unit = unit_of(session, project.id, unit_id, lock=True)
    if unit.hidden:
        raise ConflictError("this unit is hidden while a curator checks it for personal data; take the next one")
    reservation = session.get(AnnotationReservation, (unit.id, participant_id))
    if reservation is None:
        raise ConflictError("this unit is not reserved for you; ask for the next unit")
    if reservation.expires_at <= now and not has_room(session, unit, project.overlap, participant_id, now):
        raise ConflictError("your reservation of this unit expired and others have taken it; ask for the next unit")
    annotation = Annotation(
        unit_id=unit.id, project_id=project.id, participant_id=participant_id, profile_json=profile_json
    )
    if labels is None:
        annotation.skipped = True
    else:
        schema = LabelSchema.model_validate(project.label_schema)
        values, acceptability, custom, why = check_labels(
            schema, labels.get("values", {}), labels.get("acceptability"), labels.get("custom", []), labels.get("why")
        )
        annotation.values, annotation.acceptability, annotation.custom, annotation.why = (
            values,
            acceptability,
            custom,
            why,
        )
        unit.done += 1
    release(session, unit.id, participant_id)
    session.add(annotation)
    return annotation


def undo_last(
    session: Session, project: AnnotationProject, participant_id: str, now: datetime, hold: timedelta
) -> Annotation:
    """Delete the annotator's latest annotation (or skip) in the project and reserve its unit for them
    again, giving back any other unit they hold there (so their next unit is the one undone: "back");
    the deleted annotation (its labels fill the form again). NotFoundError when there is nothing to undo."""
    last = session.scalars(
        select(Annotation)
        .where(Annotation.project_id == project.id, Annotation.participant_id == participant_id)
        .order_by(Annotation.id.desc())
        .limit(1)
    ).first()
    if last is None:
        raise NotFoundError("nothing to undo: you have not labelled or skipped anything in this project")
    unit = unit_of(session, project.id, last.unit_id, lock=True)
    if not last.skipped:
        unit.done -= 1
    session.delete(last)
    others = select(AnnotationUnit.id).where(AnnotationUnit.project_id == project.id, AnnotationUnit.id != unit.id)
    session.execute(
        delete(AnnotationReservation).where(
            AnnotationReservation.participant_id == participant_id, AnnotationReservation.unit_id.in_(others)
        )
    )
    session.merge(AnnotationReservation(unit_id=unit.id, participant_id=participant_id, expires_at=now + hold))
    return last


def flag(session: Session, project_id: str, unit_id: int, participant_id: str, reason: str) -> None:
    """Hide the unit at once (no one is given it, nobody can label it) and record who flagged it and why,
    until a curator fixes its text. Only someone who holds or labelled the unit may flag it."""
    unit = unit_of(session, project_id, unit_id, lock=True)
    holds = session.get(AnnotationReservation, (unit.id, participant_id)) is not None
    labelled = session.scalar(
        select(exists().where(Annotation.unit_id == unit.id, Annotation.participant_id == participant_id))
    )
    if not (holds or labelled):
        raise NotFoundError(f"no unit {unit_id} of yours in this project")
    unit.hidden = True
    release(session, unit.id)
    session.add(AnnotationFlag(unit_id=unit.id, participant_id=participant_id, reason=reason[:MAX_FLAG_REASON]))


def fix(
    session: Session, project_id: str, unit_id: int, text: str, entities: list[dict[str, Any]], now: datetime
) -> None:
    """A curator's corrected (sanitised) text for the unit: it becomes visible again and its flags are resolved."""
    unit = unit_of(session, project_id, unit_id, lock=True)
    unit.text, unit.entities, unit.hidden = text, entities, False
    for open_flag in session.scalars(
        select(AnnotationFlag).where(AnnotationFlag.unit_id == unit.id, AnnotationFlag.resolved_at.is_(None))
    ):
        open_flag.resolved_at = now
