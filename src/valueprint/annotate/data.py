"""The annotation domain's data duty: an annotator's annotations, reservations and flags are theirs.

Export: every annotation (unit, project, labels, skip, time, the profile snapshot), reservation and flag.
Deletion REMOVES them (it does not anonymise): a deleted person's labels and the value-profile snapshot
taken with each are gone, and each unit they had labelled counts one label fewer, so it returns to the
queue for someone else. Their flags are removed (who flagged and the reason they wrote), but a unit they
flagged stays hidden until a curator fixes it: the safer side, as it may show someone's personal data.
Export files already written (`DATA_DIR/annotate/exports/`) hold annotators' ids, profile snapshots and
whys, so every export of every project the person annotated in is deleted with its job's status (a curator
exports again). Documents and units belong to the project, not to the person, and stay.

Part 2 adds: karma events (each with its reason), pauses, the reviews a person gave (adjudications) and the
annotations returned to them. Deletion removes all of these; an annotation they returned as a reviewer keeps
the return without naming them, and a unit's known answer taken from their adjudication stays with the unit
(a project's gold answer, no longer linked to anyone).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update

from valueprint.annotate.jobs import remove_exports
from valueprint.store.duties import DataDuty, DutyContext, register
from valueprint.store.models import (
    Adjudication,
    Annotation,
    AnnotationFlag,
    AnnotationReservation,
    AnnotationReturn,
    AnnotationUnit,
    AnnotatorPause,
    KarmaEvent,
    ScenarioCandidate,
)


def _export(context: DutyContext) -> dict[str, Any]:
    mine = context.participant_id
    annotations = context.session.scalars(
        select(Annotation).where(Annotation.participant_id == mine).order_by(Annotation.id)
    )
    flags = context.session.scalars(select(AnnotationFlag).where(AnnotationFlag.participant_id == mine))
    reservations = context.session.scalars(
        select(AnnotationReservation).where(AnnotationReservation.participant_id == mine)
    )
    return {
        "annotations": [
            {
                "project_id": a.project_id,
                "unit_id": a.unit_id,
                "skipped": a.skipped,
                "values": a.values,
                "acceptability": a.acceptability,
                "why": a.why,
                "custom": a.custom,
                "profile": json.loads(a.profile_json) if a.profile_json else None,
                "created_at": a.created_at.isoformat(),
            }
            for a in annotations
        ],
        "flags": [{"unit_id": f.unit_id, "reason": f.reason, "created_at": f.created_at.isoformat()} for f in flags],
        "reservations": [{"unit_id": r.unit_id, "expires_at": r.expires_at.isoformat()} for r in reservations],
        **_quality_export(context),
    }


def _quality_export(context: DutyContext) -> dict[str, Any]:
    session, mine = context.session, context.participant_id

    def rows(table: Any) -> Any:
        return session.scalars(select(table).where(table.participant_id == mine))

    return {
        "karma": [
            {"kind": e.kind, "delta": e.delta, "reason": e.reason, "unit_id": e.unit_id, "at": e.created_at.isoformat()}
            for e in rows(KarmaEvent)
        ],
        "pauses": [
            {"project_id": p.project_id, "reason": p.reason, "at": p.paused_at.isoformat()}
            for p in rows(AnnotatorPause)
        ],
        "reviews": [
            {"unit_id": a.unit_id, "values": a.values, "acceptability": a.acceptability, "comment": a.comment}
            for a in rows(Adjudication)
        ],
        "returned_to_me": [
            {"unit_id": r.unit_id, "comment": r.comment, "original": r.original, "at": r.created_at.isoformat()}
            for r in rows(AnnotationReturn)
        ],
    }


def _delete(context: DutyContext) -> None:
    """Removes the person's annotations (each labelled unit counts one fewer), reservations and flags (the
    flagged unit stays hidden), and every export file of every project they annotated in (found before the
    rows go; those files hold their pseudonymous id, profile snapshots and whys)."""
    session, mine = context.session, context.participant_id
    projects = set(session.scalars(select(Annotation.project_id).where(Annotation.participant_id == mine)))
    remove_exports(session, context.data_dir / "annotate" / "exports", projects)
    labelled = session.scalars(
        select(Annotation.unit_id).where(Annotation.participant_id == mine, Annotation.skipped.is_(False))
    ).all()
    for unit in session.scalars(select(AnnotationUnit).where(AnnotationUnit.id.in_(labelled)).with_for_update()):
        unit.done = max(0, unit.done - 1)
    for table in (Annotation, AnnotationReservation, AnnotationFlag, *QUALITY_TABLES):
        session.execute(delete(table).where(table.participant_id == mine))
    session.execute(update(AnnotationReturn).where(AnnotationReturn.reviewer_id == mine).values(reviewer_id=None))
    session.execute(update(ScenarioCandidate).where(ScenarioCandidate.decided_by == mine).values(decided_by=None))


QUALITY_TABLES = (KarmaEvent, AnnotatorPause, Adjudication, AnnotationReturn)


register(
    DataDuty(
        "annotations",
        tables=(Annotation, AnnotationReservation, AnnotationFlag, *QUALITY_TABLES),
        export=_export,
        delete=_delete,
    )
)
