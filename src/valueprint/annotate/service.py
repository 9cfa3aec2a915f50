"""The annotation domain's face: projects, imports, the queue, labels, curation and exports.

Every method is one unit of work (`Database.session`): it commits on success and leaves nothing
behind on error. Who may call what is the entry points' concern (curators import, fix and export;
any signed-in person with a value profile annotates); the annotator's profile snapshot is handed in
by `valueprint.services`, which spans the accounts domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from valueprint.annotate import data as _data  # noqa: F401  (registers the annotator's data duty)
from valueprint.annotate import export, import_job, importer, karma, labels, quality, queue
from valueprint.annotate.dedup import NearDuplicates
from valueprint.annotate.own_pairs import own_preference_pairs
from valueprint.annotate.readers import Fields, Record, labelstudio_records, read_records, records_from_items
from valueprint.annotate.schema import LabelSchema, check_labels, parse_spec
from valueprint.annotate.schemas import (
    FlaggedUnit,
    GivenLabels,
    ImportSummary,
    ImportView,
    ProjectView,
    RawUnit,
    Suggestion,
    Undone,
    UnitTask,
)
from valueprint.annotate.units import Sanitiser, load_sanitiser, sanitise
from valueprint.errors import BadRequestError, LabelError, NotFoundError
from valueprint.store.crypto import Sealer
from valueprint.store.db import Database
from valueprint.store.models import (
    AnnotationDocument,
    AnnotationFlag,
    AnnotationPrelabel,
    AnnotationProject,
    AnnotationUnit,
    now,
)
from valueprint.values.space import ValueSpace


class Annotate:
    def __init__(
        self,
        db: Database,
        space: ValueSpace,
        sealer: Sealer,
        reservation: timedelta = timedelta(minutes=10),
        sanitiser_factory: Callable[[], Sanitiser] | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.db, self.space, self.sealer = db, space, sealer
        self.reservation, self.clock = reservation, clock
        self._sanitiser_factory = sanitiser_factory
        self._sanitiser: Sanitiser | None = None

    def sanitiser(self) -> Sanitiser:
        """The sanitiser, built on first use (it says what to install if its libraries are missing)."""
        if self._sanitiser is None:
            self._sanitiser = (self._sanitiser_factory or load_sanitiser)()
        return self._sanitiser

    # -- projects -----------------------------------------------------------------------

    def create_project(self, curator_id: str | None, fields: dict[str, Any]) -> ProjectView:
        """Stores a new project; BadRequestError for an invalid spec or a name already taken."""
        spec = parse_spec(self.space, fields)
        project = AnnotationProject(
            id=uuid.uuid4().hex,
            name=spec.name,
            instructions=spec.instructions,
            label_schema=spec.label_schema.model_dump(mode="json"),
            overlap=spec.overlap,
            gold_share=spec.gold_share,
            segmentation=spec.segmentation,
            created_by=curator_id,
        )
        try:
            with self.db.session() as session:
                session.add(project)
                session.flush()
        except IntegrityError as error:
            raise BadRequestError(f"a project named {spec.name!r} exists already; choose another name") from error
        return ProjectView.of(project)

    def projects(self) -> list[ProjectView]:
        with self.db.session() as session:
            rows = session.scalars(select(AnnotationProject).order_by(AnnotationProject.created_at))
            return [ProjectView.of(p) for p in rows]

    def project(self, project_id: str) -> ProjectView:
        with self.db.session() as session:
            return ProjectView.of(self._project(session, project_id))

    def resolve(self, reference: str) -> str:
        """The id of the project with this id or name; NotFoundError when there is none."""
        with self.db.session() as session:
            found = (
                session.get(AnnotationProject, reference)
                or session.scalars(select(AnnotationProject).where(AnnotationProject.name == reference)).first()
            )
            if found is None:
                raise NotFoundError(f"no annotation project with the id or name {reference!r}")
            return found.id

    @staticmethod
    def _project(session: Any, project_id: str) -> AnnotationProject:
        project = session.get(AnnotationProject, project_id)
        if project is None:
            raise NotFoundError(f"no annotation project {project_id!r}")
        return project

    # -- import ---------------------------------------------------------------------------

    def import_file(
        self, project_id: str, path: Path, fmt: str | None = None, fields: Fields | None = None
    ) -> ImportView:
        """Reads, segments, de-duplicates, sanitises and stores a file's documents in one transaction."""
        return self.import_records(project_id, read_records(path, fmt, fields or Fields()))

    def import_items(self, project_id: str, items: list[Any], fields: Fields, source: str) -> ImportView:
        return self.import_records(project_id, records_from_items(items, fields, source))

    def import_labelstudio(self, project_id: str, tasks: Any, fields: Fields, source: str) -> ImportView:
        return self.import_records(project_id, labelstudio_records(tasks, fields, source))

    def import_records(self, project_id: str, records: list[Record]) -> ImportView:
        """Stores the records as documents and units (all or nothing); the sanitiser runs on every unit first."""
        sanitiser = self.sanitiser()  # fails before any work when the sanitiser is missing
        with self.db.session() as session:
            project = self._project(session, project_id)
            schema = LabelSchema.model_validate(project.label_schema)
            seen = NearDuplicates()
            for text in importer.known_texts(session, project.id):
                seen.repeats(text)
            documents, duplicates = importer.prepare(records, project.segmentation, schema, sanitiser, seen)
            report = importer.store(session, project, documents, self.sealer)
        return ImportView(**replace(report, duplicates=duplicates).as_dict())

    # -- import as a job (large corpora) ------------------------------------------------------

    def stage_file(self, project_id: str, path: Path, fmt: str | None = None, fields: Fields | None = None) -> str:
        """Reads and checks a file's documents (an error names the row, and nothing is stored), then stores
        them sealed as a pending import for a job to sanitise and publish (`import_job`); the import's id."""
        return self.stage_records(project_id, read_records(path, fmt, fields or Fields()), path.name)

    def stage_items(self, project_id: str, items: list[Any], fields: Fields, source: str) -> str:
        return self.stage_records(project_id, records_from_items(items, fields, source), source)

    def stage_labelstudio(self, project_id: str, tasks: Any, fields: Fields, source: str) -> str:
        return self.stage_records(project_id, labelstudio_records(tasks, fields, source), source)

    def stage_records(self, project_id: str, records: list[Record], source: str) -> str:
        """Checks and stages the records as one pending import (one unit of work); its id. Nothing of it
        reaches annotators until its job publishes it."""
        self.sanitiser()  # fails before any work when the sanitiser is missing
        with self.db.session() as session:
            return import_job.stage(session, self._project(session, project_id), records, self.sealer, source)

    def imports(self, project_id: str) -> list[ImportSummary]:
        """The project's imports that ran as jobs, newest first: pending ones (running, or stopped by a kill
        and waiting to be resumed) with their progress, and finished ones with their counts."""
        with self.db.session() as session:
            self._project(session, project_id)
            return [ImportSummary.of(row, pending) for row, pending in import_job.listed(session, project_id)]

    # -- annotating -----------------------------------------------------------------------

    def next_unit(self, project_id: str, participant_id: str) -> UnitTask | None:
        """Reserves the annotator's next unit (see `queue`); None when nothing is left for them; ForbiddenError,
        with the reason, while they are paused in the project (far below chance on gold units)."""
        with self.db.session() as session:
            project = self._project(session, project_id)
            quality.refuse_if_paused(session, project.id, participant_id)
            found = queue.reserve_next(session, project, participant_id, self.clock(), self.reservation)
            if found is None:
                return None
            unit, until = found
            return UnitTask.of(unit, until, self._suggestions(session, unit.id))

    @staticmethod
    def _suggestions(session: Any, unit_id: int) -> list[Suggestion]:
        """Machine and imported predictions; never labels people gave (imported annotations included)."""
        rows = session.scalars(select(AnnotationPrelabel).where(AnnotationPrelabel.unit_id == unit_id))
        return [
            Suggestion(origin=p.origin, model_version=p.model_version, confidence=p.confidence, labels=p.labels)
            for p in rows
            if ":annotations:" not in p.origin
        ]

    def annotate(
        self, project_id: str, unit_id: int, participant_id: str, profile_json: str, given: dict[str, Any] | None
    ) -> None:
        """Stores the annotator's labels (None: a skip) with their profile snapshot, freeing the unit; a label of a
        unit with a known answer changes their karma (and may pause them, see `quality.after_label`)."""
        with self.db.session() as session:
            project = self._project(session, project_id)
            quality.refuse_if_paused(session, project.id, participant_id)
            annotation = labels.record(session, project, unit_id, participant_id, self.clock(), profile_json, given)
            if not annotation.skipped:
                session.flush()
                quality.after_label(session, project, annotation, self.clock())

    def undo(self, project_id: str, participant_id: str) -> Undone:
        """Deletes the annotator's latest label or skip in the project; its unit is theirs again, and what
        they had given comes back (to fill the form in again: their own label, not the suggestion)."""
        with self.db.session() as session:
            project = self._project(session, project_id)
            last = labels.undo_last(session, project, participant_id, self.clock(), self.reservation)
            karma.forget_label(session, participant_id, last.unit_id)
            given = None if last.skipped else GivenLabels(**export.labels_of(last))
            return Undone(unit_id=last.unit_id, skipped=last.skipped, labels=given)

    def flag(self, project_id: str, unit_id: int, participant_id: str, reason: str = "") -> None:
        """Hides the unit at once, for everyone, until a curator fixes it."""
        with self.db.session() as session:
            labels.flag(session, project_id, unit_id, participant_id, reason)

    # -- curation -------------------------------------------------------------------------

    def flagged(self, project_id: str) -> list[FlaggedUnit]:
        with self.db.session() as session:
            units = session.scalars(
                select(AnnotationUnit)
                .where(AnnotationUnit.project_id == project_id, AnnotationUnit.hidden.is_(True))
                .order_by(AnnotationUnit.id)
            ).all()
            flags = session.scalars(
                select(AnnotationFlag).where(
                    AnnotationFlag.unit_id.in_([u.id for u in units]), AnnotationFlag.resolved_at.is_(None)
                )
            ).all()
            return [
                FlaggedUnit(unit_id=u.id, text=u.text, reasons=[f.reason for f in flags if f.unit_id == u.id])
                for u in units
            ]

    def raw_unit(self, project_id: str, unit_id: int) -> RawUnit:
        """The unit's original text, opened from its sealed document (for curators)."""
        with self.db.session() as session:
            unit = labels.unit_of(session, project_id, unit_id)
            sealed = session.get(AnnotationDocument, unit.document_id).sealed
            raw = self.sealer.open(sealed, importer.seal_context(project_id))["text"]
            return RawUnit(unit_id=unit.id, raw=raw[unit.start : unit.end], text=unit.text)

    def fix_unit(self, project_id: str, unit_id: int, text: str) -> None:
        """Replaces the unit's text with the curator's (passed through the sanitiser once more) and shows it again."""
        if not text.strip():
            raise BadRequestError("the fixed text is empty")
        clean, entities = sanitise(self.sanitiser(), text)
        with self.db.session() as session:
            labels.fix(session, project_id, unit_id, clean, entities, self.clock())

    # -- prompt-driven selection --------------------------------------------------------------

    def search(self, project_id: str, query: str, embed: Callable[..., Any], top: int = 20) -> list[Any]:
        """The project's visible units that best match the description (see `select`)."""
        from valueprint.annotate.select import MAX_QUERY_CHARS, MAX_SCAN, rank

        if not query.strip() or len(query) > MAX_QUERY_CHARS:
            raise BadRequestError(f"describe what to find in 1-{MAX_QUERY_CHARS} characters")
        with self.db.session() as session:
            self._project(session, project_id)
            units = session.execute(
                select(AnnotationUnit.id, AnnotationUnit.text)
                .where(AnnotationUnit.project_id == project_id, AnnotationUnit.hidden.is_(False))
                .order_by(AnnotationUnit.id)
                .limit(MAX_SCAN)
            ).all()
        return rank(embed, query, [(u, t) for u, t in units], top)

    def select_into(self, project_id: str, matches: list[Any], target_id: str, source: str) -> ImportView:
        """Builds a project (or a queue) from matches: each matched unit becomes a document of the target
        project (sanitised again on import), its source naming the search, with the unit's pre-labels
        (machine and imported, with their confidences) where they fit the target: the same scale, only its
        dimensions and custom labels, and the unit stays one unit under the target's segmentation."""
        from valueprint.annotate.segment import segment

        with self.db.session() as session:
            source_schema = LabelSchema.model_validate(self._project(session, project_id).label_schema)
            target = self._project(session, target_id)
            schema, segmentation = LabelSchema.model_validate(target.label_schema), target.segmentation
            records = []
            for m in matches:
                unit = session.get(AnnotationUnit, m.unit_id)
                row = f"unit {m.unit_id}"
                whole = len(segment(m.text, segmentation, row)) == 1
                fits = whole and source_schema.scale == schema.scale
                prelabels = self._copied_prelabels(session, unit.id, schema) if fits else []
                licence = session.get(AnnotationDocument, unit.document_id).licence
                records.append(Record(row=row, text=m.text, source=source, licence=licence, prelabels=prelabels))
        return self.import_records(target_id, records)

    @staticmethod
    def _copied_prelabels(session: Any, unit_id: int, schema: LabelSchema) -> list[dict[str, Any]]:
        copied = []
        for p in session.scalars(select(AnnotationPrelabel).where(AnnotationPrelabel.unit_id == unit_id)):
            given = p.labels
            try:
                check_labels(schema, given.get("values", {}), given.get("acceptability"), given.get("custom", []))
            except LabelError:
                continue
            entry = {"origin": p.origin, "model_version": p.model_version, "labels": given}
            copied.append(entry | {"confidence": p.confidence})
        return copied

    # -- export ---------------------------------------------------------------------------

    def preference_pairs(self, participant_id: str) -> list[tuple[str, str, str]]:
        """The person's own annotations as (prompt, chosen, rejected) pairs for their adapter (see `own_pairs`)."""
        with self.db.session() as session:
            return own_preference_pairs(session, participant_id)

    def export_jsonl(self, project_id: str) -> Iterator[str]:
        """The JSONL export's lines, a page of units per unit of work (no session stays open between pages,
        so a slow reader of a streamed response holds no database lock)."""
        yield from self._pages(project_id, export.jsonl_lines)

    def export_labelstudio(self, project_id: str) -> Iterator[str]:
        """The Label Studio JSON export (a task list) in pieces, a page of units per unit of work."""
        self.project(project_id)  # NotFoundError before anything is streamed
        first = True
        yield "["
        for task in self._pages(project_id, export.labelstudio_tasks):
            yield task if first else "," + task
            first = False
        yield "]\n"

    def _pages(self, project_id: str, read: Callable[..., tuple[list[str], int | None]]) -> Iterator[str]:
        self.project(project_id)  # NotFoundError before anything is streamed
        after: int | None = 0
        while after is not None:
            with self.db.session() as session:
                chunk, after = read(session, self._project(session, project_id), after)
            yield from chunk

    def labelstudio_config(self, project_id: str) -> str:
        from valueprint.annotate.labelstudio import label_config

        return label_config(self.project(project_id).label_schema)
