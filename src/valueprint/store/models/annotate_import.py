"""The tables of an import that runs as a job (`annotate.import_job`): the import, its documents still to
segment and sanitise, and the units it made but has not published yet.

Nothing here is seen by annotators: a job's units wait in `annotate_import_units` until the last document
is done, then move to `annotate_units` in one unit of work. The documents themselves are stored (sealed)
in `annotate_documents` from the start; a failed or cancelled import deletes them again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class AnnotationImport(Base):
    """One import job's progress and counts; `state` is "pending" until its units are published, then "done"."""

    __tablename__ = "annotate_imports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    total: Mapped[int] = mapped_column(Integer)  # documents checked and staged
    documents: Mapped[int] = mapped_column(Integer, default=0)  # documents kept (with at least one unit)
    units: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    prelabels: Mapped[int] = mapped_column(Integer, default=0)
    entities: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnnotationImportDocument(Base):
    """A staged document not segmented and sanitised yet: its order in the import, the row that names it in
    messages, its checked spans and its checked pre-labels (Label Studio predictions)."""

    __tablename__ = "annotate_import_documents"
    document_id: Mapped[int] = mapped_column(ForeignKey("annotate_documents.id", ondelete="CASCADE"), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("annotate_imports.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    row: Mapped[str] = mapped_column(String(300))
    spans: Mapped[list[list[int]]] = mapped_column(JSON)
    prelabels: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))


class AnnotationImportUnit(Base):
    """A unit made by an import job, sanitised, waiting to be published into `annotate_units`."""

    __tablename__ = "annotate_import_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("annotate_imports.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("annotate_documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    gold: Mapped[bool] = mapped_column(Boolean, default=False)
    prelabels: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
