"""Quality in the caller's unit of work: storing gold units, checking each new label against a known answer
(karma with its reason, the annotator's gold record, pausing one far below chance), and returned units.

Functions here commit nothing; `crowd.Crowd` and `service.Annotate` call them inside a unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate import gold, karma
from valueprint.annotate.importer import PreparedDocument, store
from valueprint.annotate.schema import LabelSchema
from valueprint.errors import ForbiddenError
from valueprint.store.crypto import Sealer
from valueprint.store.models import (
    Annotation,
    AnnotationGold,
    AnnotationProject,
    AnnotationReturn,
    AnnotationUnit,
    AnnotatorPause,
)


def store_gold(
    session: Session,
    project: AnnotationProject,
    documents: Sequence[PreparedDocument],
    items: dict[str, gold.GoldItem],
    sealer: Sealer,
) -> int:
    """Stores prepared one-unit documents as gold units with their known answers (kept to the project's
    dimensions and placed on its scale); `items` by record row. Returns how many were stored."""
    schema = LabelSchema.model_validate(project.label_schema)
    created: list[AnnotationUnit] = []
    store(session, project, documents, sealer, created)
    units_of = [(d, u) for d in documents for u in d.units]  # the order `store` writes them in
    for (document, _), unit in zip(units_of, created, strict=True):
        item = items[document.record.row]
        set_gold(session, unit, schema, item.values, item.checked, item.acceptability, item.source)
    return len(created)


def set_gold(
    session: Session,
    unit: AnnotationUnit,
    schema: LabelSchema,
    values: dict[str, int],
    checked: Sequence[str],
    acceptability: float | int | None,
    source: str,
    fraction: bool = True,
) -> AnnotationGold:
    """Make the unit gold with this known answer (replacing any earlier one); `acceptability` is a fraction
    of the scale unless `fraction` is False (then an index on the project's scale)."""
    dims = set(schema.dimensions)
    point = gold.on_scale(acceptability, len(schema.scale)) if fraction else acceptability
    row = session.get(AnnotationGold, unit.id) or AnnotationGold(unit_id=unit.id)
    row.values = {d: v for d, v in values.items() if d in dims}
    row.checked = [d for d in checked if d in dims]
    row.acceptability, row.source = point, source
    session.add(row)
    unit.gold = True
    return row


def checks_of(annotation: Annotation, answer: AnnotationGold, scale_points: int) -> list[gold.Check]:
    given = {"values": annotation.values, "acceptability": annotation.acceptability}
    return gold.checks(answer.values, answer.checked, answer.acceptability, given, scale_points)


def record(session: Session, project_id: str, participant_id: str) -> gold.GoldAccuracy:
    """The annotator's record on the project's units with known answers."""
    project = session.get(AnnotationProject, project_id)
    points = len(LabelSchema.model_validate(project.label_schema).scale)
    rows = session.execute(
        select(Annotation, AnnotationGold)
        .join(AnnotationGold, AnnotationGold.unit_id == Annotation.unit_id)
        .where(
            Annotation.project_id == project_id,
            Annotation.participant_id == participant_id,
            Annotation.skipped.is_(False),
        )
    ).all()
    scores = [s for a, g in rows if (s := gold.unit_score(checks_of(a, g, points))) is not None]
    return gold.accuracy(scores)


def paused(session: Session, project_id: str, participant_id: str) -> AnnotatorPause | None:
    pause = session.get(AnnotatorPause, (project_id, participant_id))
    return pause if pause is not None and pause.lifted_at is None else None


def refuse_if_paused(session: Session, project_id: str, participant_id: str) -> None:
    pause = paused(session, project_id, participant_id)
    if pause is not None:
        raise ForbiddenError(f"your labelling in this project is paused: {pause.reason}")


def after_label(session: Session, project: AnnotationProject, annotation: Annotation, now: datetime) -> None:
    """What a new (non-skip) label sets off: a karma event with its reason when the unit has a known answer
    (and a pause when the annotator's record falls far below chance); a returned unit labelled again is
    resolved, and its reviewer gains karma when the label changed."""
    _resolve_return(session, project, annotation, now)
    answer = session.get(AnnotationGold, annotation.unit_id)
    if answer is None:
        return
    points = len(LabelSchema.model_validate(project.label_schema).scale)
    found = checks_of(annotation, answer, points)
    score = gold.unit_score(found)
    if score is None:
        return
    delta = 2 * score[0] - 1
    kind = "gold_agree" if delta >= 0 else "gold_disagree"
    what = "its known answer" if answer.source != "adjudicated" else "a reviewer's answer"
    reason = f"Your label of unit {annotation.unit_id} was compared with {what}: {gold.describe(found)}."
    karma.add(session, annotation.participant_id, kind, delta, reason, project.id, annotation.unit_id)
    session.flush()
    standing = record(session, project.id, annotation.participant_id)
    if standing.far_below_chance and paused(session, project.id, annotation.participant_id) is None:
        pause = session.get(AnnotatorPause, (project.id, annotation.participant_id))
        pause = pause or AnnotatorPause(project_id=project.id, participant_id=annotation.participant_id)
        pause.reason, pause.paused_at, pause.lifted_at = gold.pause_reason(standing), now, None
        session.add(pause)


def _resolve_return(session: Session, project: AnnotationProject, annotation: Annotation, now: datetime) -> None:
    open_return = session.scalars(
        select(AnnotationReturn).where(
            AnnotationReturn.unit_id == annotation.unit_id,
            AnnotationReturn.participant_id == annotation.participant_id,
            AnnotationReturn.resolved_at.is_(None),
        )
    ).first()
    if open_return is None:
        return
    open_return.resolved_at = now
    before = open_return.original
    changed = before.get("values") != annotation.values or before.get("acceptability") != annotation.acceptability
    if changed and open_return.reviewer_id is not None:
        reason = f"Useful review: the annotation of unit {annotation.unit_id} you returned was corrected."
        karma.add(session, open_return.reviewer_id, "review_useful", 2.0, reason, project.id, annotation.unit_id)


def lift_pause(session: Session, project_id: str, participant_id: str, now: datetime) -> bool:
    pause = paused(session, project_id, participant_id)
    if pause is None:
        return False
    pause.lifted_at = now
    return True


def pauses(session: Session, project_id: str | None = None) -> list[dict[str, Any]]:
    query = select(AnnotatorPause).where(AnnotatorPause.lifted_at.is_(None))
    if project_id is not None:
        query = query.where(AnnotatorPause.project_id == project_id)
    return [
        {"project_id": p.project_id, "participant_id": p.participant_id, "reason": p.reason, "paused_at": p.paused_at}
        for p in session.scalars(query.order_by(AnnotatorPause.paused_at))
    ]
