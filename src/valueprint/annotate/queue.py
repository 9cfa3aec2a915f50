"""Next-unit selection, Label Studio style: each unit is reserved for one annotator at a time, for a limited
time, until k annotators (the project's overlap) have labelled it; nobody gets a unit twice.

Gold units (units with a known answer, see `gold`) are mixed in unannounced: they look like any other unit,
are not bound by the overlap (every annotator may get each once), and come at the project's gold share
(drawn per annotator and position with a seeded generator, so nobody can count their way to them). A unit a
reviewer returned to its annotator comes back to them before anything else.

Concurrency: on PostgreSQL the candidate unit's row is locked `FOR UPDATE SKIP LOCKED`, so two annotators
asking at once get different units; on SQLite the Database's unit-of-work lock already serialises every
write in this process. Functions here work in the caller's session and commit nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.orm import Session

from valueprint.store.models import (
    Annotation,
    AnnotationProject,
    AnnotationReservation,
    AnnotationReturn,
    AnnotationUnit,
)


def live_others(unit_id: ColumnElement[int] | int, participant_id: str, now: datetime) -> ColumnElement[int]:
    """How many other annotators hold a live reservation of the unit (a scalar subquery)."""
    return (
        select(func.count())
        .where(
            AnnotationReservation.unit_id == unit_id,
            AnnotationReservation.participant_id != participant_id,
            AnnotationReservation.expires_at > now,
        )
        .scalar_subquery()
    )


def held(session: Session, project_id: str, participant_id: str, now: datetime) -> AnnotationUnit | None:
    """The visible unit this annotator holds a live reservation of in the project, if any."""
    query = (
        select(AnnotationUnit)
        .join(AnnotationReservation, AnnotationReservation.unit_id == AnnotationUnit.id)
        .where(
            AnnotationUnit.project_id == project_id,
            AnnotationUnit.hidden.is_(False),
            AnnotationReservation.participant_id == participant_id,
            AnnotationReservation.expires_at > now,
        )
        .order_by(AnnotationReservation.expires_at)
        .limit(1)
    )
    return session.scalars(query).first()


def reserve_next(
    session: Session, project: AnnotationProject, participant_id: str, now: datetime, hold: timedelta
) -> tuple[AnnotationUnit, datetime] | None:
    """The unit this annotator should label next and until when it is theirs, reserving it (a row in
    `annotate_reservations`); None when nothing is left for them. A unit they already hold comes back
    with its original expiry (asking again does not extend it)."""
    current = held(session, project.id, participant_id, now)
    if current is not None:
        reservation = session.get(AnnotationReservation, (current.id, participant_id))
        return current, reservation.expires_at
    unit = returned(session, project.id, participant_id)
    if unit is None and gold_due(session, project, participant_id):
        unit = _first(session, _gold_for(project.id, participant_id))
    if unit is None:
        unit = _first(session, _regular_for(project, participant_id, now))
    if unit is None:  # nothing else left: the gold units they have not had
        unit = _first(session, _gold_for(project.id, participant_id))
    if unit is None:
        return None
    expires = now + hold
    session.merge(AnnotationReservation(unit_id=unit.id, participant_id=participant_id, expires_at=expires))
    return unit, expires


def _not_mine(participant_id: str) -> ColumnElement[bool]:
    return ~exists().where(Annotation.unit_id == AnnotationUnit.id, Annotation.participant_id == participant_id)


def _regular_for(project: AnnotationProject, participant_id: str, now: datetime) -> Select[tuple[AnnotationUnit]]:
    return (
        select(AnnotationUnit)
        .where(
            AnnotationUnit.project_id == project.id,
            AnnotationUnit.hidden.is_(False),
            AnnotationUnit.gold.is_(False),
            _not_mine(participant_id),
            AnnotationUnit.done + live_others(AnnotationUnit.id, participant_id, now) < project.overlap,
        )
        .order_by(AnnotationUnit.done.desc(), AnnotationUnit.id)  # finish started units first
        .limit(1)
    )


def _gold_for(project_id: str, participant_id: str) -> Select[tuple[AnnotationUnit]]:
    return (
        select(AnnotationUnit)
        .where(
            AnnotationUnit.project_id == project_id,
            AnnotationUnit.hidden.is_(False),
            AnnotationUnit.gold.is_(True),
            _not_mine(participant_id),
        )
        .order_by(AnnotationUnit.done, AnnotationUnit.id)  # the least checked gold first
        .limit(1)
    )


def _first(session: Session, query: Select[tuple[AnnotationUnit]]) -> AnnotationUnit | None:
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=AnnotationUnit)
    return session.scalars(query).first()


def gold_due(session: Session, project: AnnotationProject, participant_id: str) -> bool:
    """Whether this annotator's next unit is a gold one: drawn at the project's gold share, seeded by the
    annotator and how many units they have labelled or skipped in the project."""
    if project.gold_share <= 0:
        return False
    seen = session.scalar(
        select(func.count())
        .select_from(Annotation)
        .where(Annotation.project_id == project.id, Annotation.participant_id == participant_id)
    )
    return random.Random(f"{project.id}:{participant_id}:{seen}").random() < project.gold_share


def returned(session: Session, project_id: str, participant_id: str) -> AnnotationUnit | None:
    """A visible unit of the project a reviewer returned to this annotator and they have not labelled again."""
    query = (
        select(AnnotationUnit)
        .join(AnnotationReturn, AnnotationReturn.unit_id == AnnotationUnit.id)
        .where(
            AnnotationUnit.project_id == project_id,
            AnnotationUnit.hidden.is_(False),
            AnnotationReturn.participant_id == participant_id,
            AnnotationReturn.resolved_at.is_(None),
            _not_mine(participant_id),
        )
        .order_by(AnnotationReturn.id)
        .limit(1)
    )
    return session.scalars(query).first()


def has_room(session: Session, unit: AnnotationUnit, overlap: int, participant_id: str, now: datetime) -> bool:
    """Whether the unit can still take this annotator's label: fewer than k labels and other live holders
    (a gold unit always can; so can a unit returned to this annotator)."""
    if unit.gold or session.scalar(
        select(
            exists().where(
                AnnotationReturn.unit_id == unit.id,
                AnnotationReturn.participant_id == participant_id,
                AnnotationReturn.resolved_at.is_(None),
            )
        )
    ):
        return True
    others = session.scalar(select(live_others(unit.id, participant_id, now))) or 0
    return unit.done + others < overlap


def release(session: Session, unit_id: int, participant_id: str | None = None) -> None:
    """Drop the unit's reservations (only this annotator's, when given)."""
    statement = delete(AnnotationReservation).where(AnnotationReservation.unit_id == unit_id)
    if participant_id is not None:
        statement = statement.where(AnnotationReservation.participant_id == participant_id)
    session.execute(statement)
