"""A large import as a resumable job: checked and staged first, then sanitised a committed chunk at a time,
then published all at once.

1. `stage` (in the caller, one unit of work) checks every record exactly as a synchronous import does
   (fields, licence, pre-labels against the schema, segmentation), so a bad row fails naming the row and
   nothing is stored; then it stores each document sealed (`annotate_documents`) with a pending entry
   (`annotate_import_documents`: its order, row name, spans and checked pre-labels) under a new import.
2. `run` takes the pending documents in order, `batch` at a time: drops near-duplicate units and
   sanitises the rest outside any transaction, then one unit of work writes their units to
   `annotate_import_units`, deletes documents left without units (all near-duplicates) and their
   pending entries, and adds to the import's counts. Progress is `progress(done, total)` in documents.
3. When no document is pending, `publish` moves the staged units (and their pre-labels) into
   `annotate_units` in one unit of work and marks the import done.

Until step 3 nothing of the import is in `annotate_units`, so no queue, search, pre-label job or export
sees a unit of it: from a person's point of view it is imported whole or not at all.

Resuming after a kill: the committed chunks are staged units and the rest is still pending, so a new run
carries on with the pending documents; it first remembers the raw text of the units staged so far for
near-duplicate detection, exactly as the killed run had, so the result is the one an uninterrupted run
gives (units, duplicates, gold marks). A chunk is written only if its pending entries are still there
(should a stale run still be going, whichever commits a chunk first wins it and the other moves on), and
the import's row is locked while a chunk or the publication is written, so no unit is staged or
published twice.

`discard` deletes an unfinished import and everything it stored (a failed or cancelled job).
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import delete, false, func, insert, literal, select, union
from sqlalchemy.orm import Session

from valueprint.annotate.dedup import NearDuplicates
from valueprint.annotate.importer import (
    ImportReport,
    PreparedDocument,
    checked_prelabels,
    checked_spans,
    known_texts,
    prelabel_row,
    prepare_document,
    seal_context,
)
from valueprint.annotate.readers import Record
from valueprint.annotate.schema import LabelSchema
from valueprint.annotate.segment import Span
from valueprint.annotate.units import Sanitiser
from valueprint.errors import NotFoundError
from valueprint.jobs import JobCancelled
from valueprint.store.crypto import Sealer
from valueprint.store.db import Database
from valueprint.store.models import (
    AnnotationDocument,
    AnnotationImport,
    AnnotationImportDocument,
    AnnotationImportUnit,
    AnnotationProject,
    AnnotationUnit,
    now,
)

SYNCHRONOUS_MAX = 200  # documents the CLI imports at once; more run as a job
STAGE_FLUSH = 2000  # documents added per flush while staging (then let go, so memory stays flat)
PUBLISH_PAGE = 500
Progress = Callable[..., None]  # progress(done, total, first)


def stage(session: Session, project: AnnotationProject, records: Sequence[Record], sealer: Sealer, source: str) -> str:
    """Checks every record (LabelError or InputFileError naming the row, before anything is written), then
    stores the documents sealed with their pending entries under a new import in `session` (not committed
    here); the import's id."""
    schema = LabelSchema.model_validate(project.label_schema)
    checked: list[tuple[Record, list[dict[str, Any]], list[Span]]] = []
    for record in records:
        prelabels = checked_prelabels(record, schema)
        checked.append((record, prelabels, checked_spans(record, project.segmentation, prelabels)))
    import_id = uuid.uuid4().hex
    session.add(AnnotationImport(id=import_id, project_id=project.id, source=source[:500], total=len(checked)))
    session.flush()
    for first in range(0, len(checked), STAGE_FLUSH):
        part = checked[first : first + STAGE_FLUSH]
        documents = [_document(project.id, record, sealer) for record, _, _ in part]
        session.add_all(documents)
        session.flush()
        session.add_all(
            AnnotationImportDocument(
                document_id=document.id,
                import_id=import_id,
                number=first + i,
                row=record.row[:300],
                spans=[[span.start, span.end] for span in spans],
                prelabels=prelabels or None,
            )
            for i, (document, (record, prelabels, spans)) in enumerate(zip(documents, part, strict=True))
        )
        session.flush()
        session.expunge_all()
    return import_id


def _document(project_id: str, record: Record, sealer: Sealer) -> AnnotationDocument:
    return AnnotationDocument(
        project_id=project_id,
        source=record.source,
        licence=record.licence,
        external_id=record.external_id,
        sealed=sealer.seal({"text": record.text}, seal_context(project_id)),
    )


def run(
    db: Database,
    import_id: str,
    sanitiser: Sanitiser,
    sealer: Sealer,
    progress: Progress = lambda done, total, first=0: None,
    batch: int = 200,
) -> dict[str, Any]:
    """Sanitises and stages the import's pending documents a committed chunk at a time, then publishes its
    units (see the module doc); the import's report with its id. JobCancelled when it is discarded meanwhile."""
    with db.session() as session:
        imported = _import(session, import_id)
        project = session.get(AnnotationProject, imported.project_id)
        total, state = imported.total, imported.state
        if state != "done":
            seen = _seen(session, imported, sealer)
            pending = _pending_count(session, import_id)
    if state == "done":
        return report(db, import_id)
    first = done = total - pending
    progress(done, total, first)
    while chunk := _next_chunk(db, import_id, project.id, sealer, batch):
        prepared = [(entry, *_prepare(entry, text, record, sanitiser, seen)) for entry, text, record in chunk]
        with contextlib.suppress(_Taken):  # another run committed (some of) these documents first: they are done
            _commit_chunk(db, import_id, project, prepared)
        done += len(chunk)
        progress(done, total, first)
    publish(db, import_id)
    return report(db, import_id)


class _Taken(Exception):
    """A chunk's documents were no longer all pending: another run wrote them."""


def _import(session: Session, import_id: str) -> AnnotationImport:
    found = session.get(AnnotationImport, import_id)
    if found is None:
        raise NotFoundError(f"no import {import_id!r}")
    return found


def _locked(session: Session, import_id: str) -> AnnotationImport:
    """The import's row, locked until the unit of work ends; JobCancelled when it was discarded meanwhile."""
    found = session.get(AnnotationImport, import_id, with_for_update=True)
    if found is None:
        raise JobCancelled(f"import {import_id} was discarded")
    return found


def _pending_count(session: Session, import_id: str) -> int:
    count = select(func.count()).where(AnnotationImportDocument.import_id == import_id)
    return session.scalar(count) or 0


def _seen(session: Session, imported: AnnotationImport, sealer: Sealer) -> NearDuplicates:
    """Near-duplicate memory as a run that never stopped has it here: the project's published units, then
    the raw text of every unit this import staged so far, in order."""
    seen = NearDuplicates()
    for text in known_texts(session, imported.project_id):
        seen.repeats(text)
    staged = session.execute(
        select(AnnotationImportUnit.document_id, AnnotationImportUnit.start, AnnotationImportUnit.end)
        .where(AnnotationImportUnit.import_id == imported.id)
        .order_by(AnnotationImportUnit.id)
    ).all()
    opened: dict[int, str] = {}
    for document_id, start, end in staged:
        if document_id not in opened:
            opened = {document_id: _raw(session, document_id, imported.project_id, sealer)}
        seen.repeats(opened[document_id][start:end])
    return seen


def _raw(session: Session, document_id: int, project_id: str, sealer: Sealer) -> str:
    sealed = session.scalar(select(AnnotationDocument.sealed).where(AnnotationDocument.id == document_id))
    return sealer.open(sealed, seal_context(project_id))["text"]


def _next_chunk(
    db: Database, import_id: str, project_id: str, sealer: Sealer, batch: int
) -> list[tuple[AnnotationImportDocument, str, Record]]:
    """The next `batch` pending documents in order, each with its raw text opened."""
    with db.session() as session:
        rows = session.execute(
            select(AnnotationImportDocument, AnnotationDocument)
            .join(AnnotationDocument, AnnotationDocument.id == AnnotationImportDocument.document_id)
            .where(AnnotationImportDocument.import_id == import_id)
            .order_by(AnnotationImportDocument.number)
            .limit(batch)
        ).all()
        chunk = []
        for entry, document in rows:
            text = sealer.open(document.sealed, seal_context(project_id))["text"]
            record = Record(entry.row, text, document.source, document.licence, document.external_id)
            chunk.append((entry, text, record))
        return chunk


def _prepare(
    entry: AnnotationImportDocument, text: str, record: Record, sanitiser: Sanitiser, seen: NearDuplicates
) -> tuple[PreparedDocument, int]:
    spans = [Span(start, end) for start, end in entry.spans]
    return prepare_document(record, spans, entry.prelabels or [], sanitiser, seen)


def _commit_chunk(
    db: Database,
    import_id: str,
    project: AnnotationProject,
    prepared: list[tuple[AnnotationImportDocument, PreparedDocument, int]],
) -> None:
    """One unit of work: the chunk's units staged, its emptied documents deleted, its pending entries gone,
    the counts updated. `_Taken` (nothing written) when another run wrote some of these documents first;
    JobCancelled when the import was discarded meanwhile."""
    ids = [entry.document_id for entry, _, _ in prepared]
    with db.session() as session:
        imported = _locked(session, import_id)
        taken = session.execute(
            delete(AnnotationImportDocument).where(
                AnnotationImportDocument.import_id == import_id, AnnotationImportDocument.document_id.in_(ids)
            )
        )
        if taken.rowcount != len(ids):
            raise _Taken(import_id)
        empty = []
        for entry, document, dropped in prepared:
            imported.duplicates += dropped
            if not document.units:
                empty.append(entry.document_id)
                continue
            imported.documents += 1
            for unit in document.units:
                draw = random.Random(f"{import_id}:{entry.number}:{unit.position}").random()
                session.add(
                    AnnotationImportUnit(
                        import_id=import_id,
                        document_id=entry.document_id,
                        position=unit.position,
                        start=unit.start,
                        end=unit.end,
                        text=unit.text,
                        entities=unit.entities,
                        gold=draw < project.gold_share,
                        prelabels=document.prelabels or None,
                    )
                )
                imported.units += 1
                imported.entities += len(unit.entities)
                imported.prelabels += len(document.prelabels)
        if empty:
            session.execute(delete(AnnotationDocument).where(AnnotationDocument.id.in_(empty)))


def publish(db: Database, import_id: str) -> None:
    """One unit of work: the import's staged units become units (in the order they were made) with their
    pre-labels, the staging rows go, and the import is done. A no-op for an import already done."""
    staged = AnnotationImportUnit
    with db.session() as session:
        imported = _locked(session, import_id)
        if imported.state == "done":
            return
        columns = ["project_id", "document_id", "position", "start", "end", "text", "entities", "gold"]
        columns += ["hidden", "done", "created_at"]
        rows = (
            select(
                literal(imported.project_id),
                staged.document_id,
                staged.position,
                staged.start,
                staged.end,
                staged.text,
                staged.entities,
                staged.gold,
                false(),
                literal(0),
                literal(now(), AnnotationUnit.created_at.type),
            )
            .where(staged.import_id == import_id)
            .order_by(staged.id)
        )
        session.execute(insert(AnnotationUnit).from_select(columns, rows))
        _publish_prelabels(session, import_id)
        session.execute(delete(staged).where(staged.import_id == import_id))
        imported.state, imported.finished_at = "done", now()


def _publish_prelabels(session: Session, import_id: str) -> None:
    with_prelabels = session.execute(
        select(AnnotationImportUnit.document_id, AnnotationImportUnit.position, AnnotationImportUnit.prelabels).where(
            AnnotationImportUnit.import_id == import_id, AnnotationImportUnit.prelabels.is_not(None)
        )
    ).all()
    for first in range(0, len(with_prelabels), PUBLISH_PAGE):
        page = with_prelabels[first : first + PUBLISH_PAGE]
        units = session.execute(
            select(AnnotationUnit.id, AnnotationUnit.document_id, AnnotationUnit.position).where(
                AnnotationUnit.document_id.in_({document_id for document_id, _, _ in page})
            )
        ).all()
        unit_of = {(document_id, position): unit_id for unit_id, document_id, position in units}
        for document_id, position, prelabels in page:
            session.add_all(prelabel_row(unit_of[(document_id, position)], entry) for entry in prelabels)


def discard(db: Database, import_id: str) -> Literal["discarded", "done", "absent"]:
    """Deletes an unfinished import with every document and unit it stored; "done" (nothing deleted) when it
    had been published already, "absent" when there is no such import."""
    with db.session() as session:
        imported = session.get(AnnotationImport, import_id)
        if imported is None:
            return "absent"
        if imported.state == "done":
            return "done"
        documents = union(
            select(AnnotationImportDocument.document_id).where(AnnotationImportDocument.import_id == import_id),
            select(AnnotationImportUnit.document_id).where(AnnotationImportUnit.import_id == import_id),
        )
        session.execute(delete(AnnotationDocument).where(AnnotationDocument.id.in_(select(documents.subquery()))))
        session.execute(delete(AnnotationImport).where(AnnotationImport.id == import_id))
        return "discarded"


def report(db: Database, import_id: str) -> dict[str, Any]:
    """The import's counts (so far, while it runs) with its id and state."""
    with db.session() as session:
        imported = _import(session, import_id)
        counts = ImportReport(
            imported.documents, imported.units, imported.duplicates, imported.prelabels, imported.entities
        )
        return {"import_id": import_id, "import_state": imported.state, "imported": counts.as_dict()}


def listed(session: Session, project_id: str) -> list[tuple[AnnotationImport, int]]:
    """The project's imports, newest first, each with its number of documents still pending."""
    pending = (
        select(AnnotationImportDocument.import_id, func.count().label("n"))
        .group_by(AnnotationImportDocument.import_id)
        .subquery()
    )
    rows = session.execute(
        select(AnnotationImport, func.coalesce(pending.c.n, 0))
        .outerjoin(pending, pending.c.import_id == AnnotationImport.id)
        .where(AnnotationImport.project_id == project_id)
        .order_by(AnnotationImport.created_at.desc())
    ).all()
    return [(row, int(n)) for row, n in rows]
