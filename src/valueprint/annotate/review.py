"""Peer review in the caller's unit of work: disputed units, adjudication and returning an annotation.

- A unit is **disputed** when its annotators disagree more than `DISPUTE_LEVEL` of chance on some label (see
  `agreement`) and nobody has adjudicated it yet; the reviewer backlog is the list of them.
- **Adjudicating** gives the unit a reviewer's answer: it becomes the unit's known answer (source
  "adjudicated", checked on the dimensions anyone marked), each annotator's label is compared with it (karma
  with the reason, "overturned" when it disagrees), and an earlier adjudication by someone else is confirmed
  (+1) or overturned (-2). A reviewer never adjudicates a unit they labelled themselves.
- **Returning** an annotation takes it out of the counts (its labels are kept with the return), and the unit
  comes back to its annotator first with the reviewer's comment; when they label it again and it changed,
  the reviewer's review was useful (+2, see `quality.after_label`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate import agreement, gold, karma, quality
from valueprint.annotate.export import labels_of
from valueprint.annotate.labels import unit_of
from valueprint.annotate.schema import LabelSchema, check_labels
from valueprint.errors import ConflictError, NotFoundError
from valueprint.store.models import (
    Adjudication,
    Annotation,
    AnnotationGold,
    AnnotationProject,
    AnnotationReturn,
    AnnotationUnit,
)

DISPUTE_LEVEL = 0.5
MAX_COMMENT = 2000


def annotations_of(session: Session, unit_id: int) -> list[Annotation]:
    return list(
        session.scalars(
            select(Annotation)
            .where(Annotation.unit_id == unit_id, Annotation.skipped.is_(False))
            .order_by(Annotation.id)
        )
    )


def disputed(session: Session, project: AnnotationProject, annotations: list[Annotation]) -> list[dict[str, Any]]:
    """Units above the dispute level with no adjudication yet, most disputed first."""
    schema = LabelSchema.model_validate(project.label_schema)
    found = agreement.project_agreement(annotations, schema.dimensions, schema.custom_labels, top=10_000)
    settled = set(
        session.scalars(
            select(Adjudication.unit_id).where(
                Adjudication.unit_id.in_([row["unit_id"] for row in found["most_disagreed"]])
            )
        )
    )
    known = set(session.scalars(select(AnnotationGold.unit_id).where(AnnotationGold.source != "adjudicated")))
    return [
        row
        for row in found["most_disagreed"]
        if row["disagreement"] >= DISPUTE_LEVEL and row["unit_id"] not in settled | known
    ]


def adjudicate(
    session: Session,
    project: AnnotationProject,
    unit_id: int,
    reviewer_id: str,
    labels: dict[str, Any],
    comment: str,
) -> list[dict[str, Any]]:
    """Store the reviewer's answer and settle karma (see the module docstring); what changed for whom."""
    unit = unit_of(session, project.id, unit_id, lock=True)
    schema = LabelSchema.model_validate(project.label_schema)
    values, acceptability, _, _ = check_labels(schema, labels.get("values", {}), labels.get("acceptability"))
    labelled = annotations_of(session, unit.id)
    if any(a.participant_id == reviewer_id for a in labelled):
        raise ConflictError("you labelled this unit yourself; another reviewer must settle it")
    comment = comment.strip()[:MAX_COMMENT]
    changes = _settle_earlier(session, project, unit.id, reviewer_id, values, acceptability)
    session.add(
        Adjudication(
            unit_id=unit.id, participant_id=reviewer_id, values=values, acceptability=acceptability, comment=comment
        )
    )
    checked = sorted({d for a in labelled for d in a.values} | set(values))
    quality.set_gold(session, unit, schema, values, checked, acceptability, "adjudicated", fraction=False)
    points = len(schema.scale)
    said = f" The reviewer wrote: {comment}" if comment else ""
    for a in labelled:
        found = gold.checks(values, checked, acceptability, labels_of(a), points)
        score = gold.unit_score(found)
        if score is None:
            continue
        delta = 2 * score[0] - 1
        if delta >= 0:
            kind, reason = "adjudication_agree", f"A reviewer settled unit {unit.id} and your label agreed: "
        else:
            kind, reason = "overturned", f"A reviewer overturned your label of unit {unit.id}: "
        event = karma.add(
            session, a.participant_id, kind, delta, reason + gold.describe(found) + "." + said, project.id, unit.id
        )
        changes.append({"participant_id": a.participant_id, "delta": event.delta, "reason": event.reason})
    return changes


def _settle_earlier(
    session: Session,
    project: AnnotationProject,
    unit_id: int,
    reviewer_id: str,
    values: dict[str, int],
    acceptability: int | None,
) -> list[dict[str, Any]]:
    earlier = session.scalars(
        select(Adjudication).where(Adjudication.unit_id == unit_id).order_by(Adjudication.id.desc()).limit(1)
    ).first()
    if earlier is None or earlier.participant_id == reviewer_id:
        return []
    same = earlier.values == values and earlier.acceptability == acceptability
    if same:
        kind, delta, reason = "review_confirmed", 1.0, f"Another reviewer confirmed your answer to unit {unit_id}."
    else:
        kind, delta, reason = "review_overturned", -2.0, f"Another reviewer overturned your answer to unit {unit_id}."
    karma.add(session, earlier.participant_id, kind, delta, reason, project.id, unit_id)
    return [{"participant_id": earlier.participant_id, "delta": delta, "reason": reason}]


def return_annotation(
    session: Session,
    project: AnnotationProject,
    unit_id: int,
    annotator_id: str,
    reviewer_id: str,
    comment: str,
    now: datetime,
) -> AnnotationReturn:
    """Send an annotator's label back with a comment: it leaves the counts and the unit comes back to them."""
    unit = unit_of(session, project.id, unit_id, lock=True)
    if not comment.strip():
        raise ConflictError("say why you return the annotation: the annotator sees your comment")
    if annotator_id == reviewer_id:
        raise ConflictError("you cannot return your own annotation; undo it instead")
    annotation = session.scalars(
        select(Annotation).where(
            Annotation.unit_id == unit.id, Annotation.participant_id == annotator_id, Annotation.skipped.is_(False)
        )
    ).first()
    if annotation is None:
        raise NotFoundError(f"no label of that annotator on unit {unit_id}")
    earlier = session.scalars(
        select(AnnotationReturn).where(
            AnnotationReturn.unit_id == unit.id, AnnotationReturn.participant_id == annotator_id
        )
    ).first()
    if earlier is not None:
        session.delete(earlier)
        session.flush()
    returned = AnnotationReturn(
        unit_id=unit.id,
        participant_id=annotator_id,
        reviewer_id=reviewer_id,
        comment=comment.strip()[:MAX_COMMENT],
        original=labels_of(annotation),
    )
    karma.forget_label(session, annotator_id, unit.id)
    session.delete(annotation)
    unit.done = max(0, unit.done - 1)
    session.add(returned)
    return returned


def open_returns(session: Session, participant_id: str, project_id: str | None = None) -> list[dict[str, Any]]:
    """The annotations returned to this person that they have not labelled again, with the comments."""
    query = select(AnnotationReturn).where(
        AnnotationReturn.participant_id == participant_id, AnnotationReturn.resolved_at.is_(None)
    )
    rows = session.scalars(query.order_by(AnnotationReturn.id))
    out = []
    for r in rows:
        unit = session.get(AnnotationUnit, r.unit_id)
        if unit is None or (project_id is not None and unit.project_id != project_id):
            continue
        out.append({"unit_id": r.unit_id, "project_id": unit.project_id, "comment": r.comment, "text": unit.text})
    return out
