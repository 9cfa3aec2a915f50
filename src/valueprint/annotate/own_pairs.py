"""A person's own annotations as preference pairs for their personal adapter.

The same rule as the DPO export (`export_file.dpo_pairs`), applied to one annotator's labels instead of
the crowd's aggregate: two units of one document that the person judged differently acceptable make a
pair, the one they found more acceptable `chosen`; the prompt is the document's text before the earlier
unit. Only visible units count (a unit hidden for leaked personal data is not trained on).
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate.export_file import dpo_pairs
from valueprint.store.models import Annotation, AnnotationDocument, AnnotationUnit

Triple = tuple[str, str, str]  # (prompt, chosen, rejected), as the adapter's own pairs


def own_preference_pairs(session: Session, participant_id: str) -> list[Triple]:
    """(prompt, chosen unit text, rejected unit text) from every document where the person judged two units'
    acceptability differently; oldest documents first."""
    judged = session.execute(
        select(AnnotationUnit.document_id, AnnotationUnit.id, Annotation.acceptability)
        .join(Annotation, Annotation.unit_id == AnnotationUnit.id)
        .where(
            Annotation.participant_id == participant_id,
            Annotation.acceptability.is_not(None),
            AnnotationUnit.hidden.is_(False),
        )
        .order_by(AnnotationUnit.document_id)
    ).all()
    triples: list[Triple] = []
    for document_id, rows in groupby(judged, key=lambda row: row.document_id):
        scores = {row.id: row.acceptability for row in rows}
        if len(set(scores.values())) < 2:
            continue
        units = session.scalars(
            select(AnnotationUnit).where(AnnotationUnit.document_id == document_id).order_by(AnnotationUnit.position)
        ).all()
        document = session.get(AnnotationDocument, document_id)
        pairs = dpo_pairs([(unit, scores.get(unit.id) if not unit.hidden else None) for unit in units], document)
        triples.extend((pair["prompt"], pair["chosen"], pair["rejected"]) for pair in pairs)
    return triples
