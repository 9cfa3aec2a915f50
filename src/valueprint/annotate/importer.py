"""From checked records to stored documents and units: segment, drop near-duplicates, sanitise, seal.

`prepare` does the work without touching the database (the sanitiser may be slow); `store` writes
one import in the caller's unit of work, so an import is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate import labelstudio
from valueprint.annotate.dedup import NearDuplicates
from valueprint.annotate.readers import Record
from valueprint.annotate.schema import LabelSchema
from valueprint.annotate.segment import Span, segment
from valueprint.annotate.units import Sanitiser, sanitise
from valueprint.errors import LabelError
from valueprint.store.crypto import Sealer
from valueprint.store.models import AnnotationDocument, AnnotationPrelabel, AnnotationProject, AnnotationUnit


@dataclass
class PreparedUnit:
    position: int
    start: int
    end: int
    text: str
    entities: list[dict[str, Any]]


@dataclass
class PreparedDocument:
    record: Record
    units: list[PreparedUnit] = field(default_factory=list)
    prelabels: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    """What one import stored, and how many units it dropped as near-duplicates."""

    documents: int
    units: int
    duplicates: int
    prelabels: int
    entities: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def seal_context(project_id: str) -> str:
    """The associated data of a project's sealed documents: a ciphertext moved to another project fails to open."""
    return f"annotate:{project_id}"


def checked_prelabels(record: Record, schema: LabelSchema) -> list[dict[str, Any]]:
    """The record's imported pre-labels as our labels; LabelError naming the row and entry when one does not fit."""
    checked = []
    for entry in record.prelabels:
        if "labels" in entry:  # copied from a unit of another project (see `Annotate.select_into`): checked there
            checked.append(entry)
            continue
        try:
            labels = labelstudio.from_results(entry["result"], schema)
        except LabelError as error:
            raise LabelError(f"{record.row}: {entry['origin']}: {error}; fix it or import without it") from error
        score = entry.get("score")
        confidence = float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None
        checked.append({**entry, "labels": labels, "confidence": confidence})
    return checked


def checked_spans(record: Record, segmentation: str, prelabels: Sequence[dict[str, Any]]) -> list[Span]:
    """The record's units as spans; InputFileError or LabelError naming the row when it cannot be cut so."""
    spans = segment(record.text, segmentation, record.row)
    if prelabels and len(spans) != 1:
        raise LabelError(
            f"{record.row}: its pre-labels are for the whole task, but it makes {len(spans)} units; "
            "import it into a project with segmentation 'posts'"
        )
    return spans


def prepare_document(
    record: Record,
    spans: Sequence[Span],
    prelabels: list[dict[str, Any]],
    sanitiser: Sanitiser,
    seen: NearDuplicates,
) -> tuple[PreparedDocument, int]:
    """The document with its kept units (sanitised) and the number of near-duplicate units dropped; remembers
    the kept units' raw text in `seen`. Calls the sanitiser once per kept unit."""
    document, duplicates = PreparedDocument(record, prelabels=prelabels), 0
    for span in spans:
        raw = record.text[span.start : span.end]
        if seen.repeats(raw):
            duplicates += 1
            continue
        text, entities = sanitise(sanitiser, raw)
        document.units.append(PreparedUnit(len(document.units), span.start, span.end, text, entities))
    return document, duplicates


def prepare(
    records: Sequence[Record],
    segmentation: str,
    schema: LabelSchema,
    sanitiser: Sanitiser,
    seen: NearDuplicates,
) -> tuple[list[PreparedDocument], int]:
    """Documents with their kept units (sanitised) and checked pre-labels, and the number of near-duplicate
    units dropped. Calls the sanitiser once per kept unit; raises before anything is stored."""
    documents, duplicates = [], 0
    for record in records:
        prelabels = checked_prelabels(record, schema)
        spans = checked_spans(record, segmentation, prelabels)
        document, dropped = prepare_document(record, spans, prelabels, sanitiser, seen)
        duplicates += dropped
        if document.units:
            documents.append(document)
    return documents, duplicates


def known_texts(session: Session, project_id: str) -> list[str]:
    """The project's stored unit texts (sanitised), to seed near-duplicate detection."""
    return list(session.scalars(select(AnnotationUnit.text).where(AnnotationUnit.project_id == project_id)))


def store(
    session: Session,
    project: AnnotationProject,
    documents: Sequence[PreparedDocument],
    sealer: Sealer,
    created: list[AnnotationUnit] | None = None,
) -> ImportReport:
    """Writes the documents (raw text sealed), their units and pre-labels in `session`; nothing is committed
    here (the new unit rows are appended to `created` when given). Imported units are never gold: a gold unit
    has a known answer (see `gold` and `quality.add_gold`)."""
    units = prelabels = entities = 0
    for prepared in documents:
        record = prepared.record
        document = AnnotationDocument(
            project_id=project.id,
            source=record.source,
            licence=record.licence,
            external_id=record.external_id,
            sealed=sealer.seal({"text": record.text}, seal_context(project.id)),
        )
        session.add(document)
        session.flush()
        for unit in prepared.units:
            row = AnnotationUnit(
                project_id=project.id,
                document_id=document.id,
                position=unit.position,
                start=unit.start,
                end=unit.end,
                text=unit.text,
                entities=unit.entities,
            )
            session.add(row)
            session.flush()
            if created is not None:
                created.append(row)
            units, entities = units + 1, entities + len(unit.entities)
            for entry in prepared.prelabels:
                session.add(prelabel_row(row.id, entry))
                prelabels += 1
    return ImportReport(len(documents), units, 0, prelabels, entities)


def prelabel_row(unit_id: int, entry: dict[str, Any]) -> AnnotationPrelabel:
    return AnnotationPrelabel(
        unit_id=unit_id,
        origin=entry["origin"],
        model_version=entry["model_version"][:200],
        labels=entry["labels"],
        confidence=entry["confidence"],
    )
