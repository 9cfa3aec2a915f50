"""Exports of a project, a page of units at a time (each page read in the caller's session): JSONL, one
line per unit with every annotation and the majority aggregate, and Label Studio task JSON with
`annotations` and `predictions`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate import labelstudio
from valueprint.annotate.schema import LabelSchema
from valueprint.store.models import (
    Annotation,
    AnnotationDocument,
    AnnotationPrelabel,
    AnnotationProject,
    AnnotationUnit,
)

BATCH = 500


def labels_of(annotation: Annotation) -> dict[str, Any]:
    return {
        "values": annotation.values,
        "acceptability": annotation.acceptability,
        "why": annotation.why,
        "custom": annotation.custom,
    }


def aggregate(annotations: Sequence[Annotation]) -> dict[str, Any]:
    """The majority view of a unit's labels: a value is present (with the majority's direction) when more
    than half the annotators marked it; acceptability is the most frequent answer (ties: the lower middle)."""
    n = len(annotations)
    marks: dict[str, list[int]] = {}
    for annotation in annotations:
        for dim, direction in annotation.values.items():
            marks.setdefault(dim, []).append(direction)
    values = {dim: (1 if sum(d) > 0 else -1) for dim, d in sorted(marks.items()) if len(d) * 2 > n and sum(d) != 0}
    scores = Counter(a.acceptability for a in annotations if a.acceptability is not None)
    acceptability = None
    if scores:
        top = max(scores.values())
        tied = sorted(score for score, count in scores.items() if count == top)
        acceptability = tied[(len(tied) - 1) // 2]
    custom = Counter(label for a in annotations for label in a.custom)
    return {
        "n": n,
        "values": values,
        "acceptability": acceptability,
        "custom": sorted(label for label, count in custom.items() if count * 2 > n),
    }


def page(session: Session, project_id: str, after: int) -> list[tuple[AnnotationUnit, AnnotationDocument]]:
    """Up to BATCH visible units after unit id `after`, in order (keyset pagination)."""
    rows = session.execute(
        select(AnnotationUnit, AnnotationDocument)
        .join(AnnotationDocument, AnnotationDocument.id == AnnotationUnit.document_id)
        .where(AnnotationUnit.project_id == project_id, AnnotationUnit.id > after, AnnotationUnit.hidden.is_(False))
        .order_by(AnnotationUnit.id)
        .limit(BATCH)
    ).all()
    return [(unit, document) for unit, document in rows]


def _labelled(session: Session, unit_id: int) -> tuple[list[Annotation], list[AnnotationPrelabel]]:
    annotations = session.scalars(
        select(Annotation).where(Annotation.unit_id == unit_id, Annotation.skipped.is_(False)).order_by(Annotation.id)
    ).all()
    prelabels = session.scalars(select(AnnotationPrelabel).where(AnnotationPrelabel.unit_id == unit_id)).all()
    return list(annotations), list(prelabels)


def prelabel_line(prelabel: AnnotationPrelabel) -> dict[str, Any]:
    """A pre-label in the JSONL export: its labels, `confidence` (the chance that the whole suggestion is
    right; imported ones may have none) and, for machine pre-labels, `component_confidence`
    ({"values": {dimension: P(present)}, "acceptability": the suggested point's probability})."""
    labels = {k: v for k, v in prelabel.labels.items() if k != "confidence"}
    return {
        "origin": prelabel.origin,
        "model_version": prelabel.model_version,
        "confidence": prelabel.confidence,
        **labels,
        "component_confidence": prelabel.labels.get("confidence"),
    }


def jsonl_lines(session: Session, project: AnnotationProject, after: int) -> tuple[list[str], int | None]:
    """The next page of the JSONL export and the last unit id in it (None at the end): one JSON line per
    visible unit with its text and place, every annotation (the annotator's pseudonymous id and profile
    snapshot), the pre-labels and the aggregate."""
    lines, rows = [], page(session, project.id, after)
    for unit, document in rows:
        annotations, prelabels = _labelled(session, unit.id)
        line = {
            "unit_id": unit.id,
            "project": project.name,
            "document": {
                "id": document.id,
                "source": document.source,
                "licence": document.licence,
                "external_id": document.external_id,
            },
            "start": unit.start,
            "end": unit.end,
            "text": unit.text,
            "gold": unit.gold,
            "annotations": [
                {
                    "annotator": a.participant_id,
                    **labels_of(a),
                    "created_at": a.created_at.isoformat(),
                    "profile": json.loads(a.profile_json) if a.profile_json else None,
                }
                for a in annotations
            ],
            "prelabels": [prelabel_line(p) for p in prelabels],
            "aggregate": aggregate(annotations),
        }
        lines.append(json.dumps(line, ensure_ascii=False) + "\n")
    return lines, rows[-1][0].id if rows else None


def labelstudio_tasks(session: Session, project: AnnotationProject, after: int) -> tuple[list[str], int | None]:
    """The next page of Label Studio tasks (each as JSON text) and the last unit id in it (None at the end):
    one task per visible unit with its text, source and licence in `data`, our annotations as `annotations`
    and pre-labels as `predictions`."""
    schema = LabelSchema.model_validate(project.label_schema)
    tasks, rows = [], page(session, project.id, after)
    for unit, document in rows:
        annotations, prelabels = _labelled(session, unit.id)
        task = {
            "id": unit.id,
            "data": {"text": unit.text, "source": document.source, "licence": document.licence},
            "annotations": [{"result": labelstudio.to_results(labels_of(a), schema)} for a in annotations],
            "predictions": [
                {
                    "model_version": p.model_version,
                    "score": p.confidence,
                    "result": labelstudio.to_results(p.labels, schema),
                }
                for p in prelabels
                if ":annotations:" not in p.origin
            ],
        }
        tasks.append(json.dumps(task, ensure_ascii=False))
    return tasks, rows[-1][0].id if rows else None
