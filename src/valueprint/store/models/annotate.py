"""The annotation domain's tables: projects, imported documents (sealed), behaviour units, pre-labels,
reservations, annotations and leaked-data flags.

Raw text is personal data until sanitised: a document's text is sealed (AES-GCM, like demographics)
and only the sanitised unit text is stored readable, for annotators. Annotations, reservations and
flags belong to the annotator (`participant_id`) and follow the account (see `annotate.data`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class AnnotationProject(Base):
    """A curator's project: instructions, label schema (JSON, see `annotate.schema`), overlap k, gold share."""

    __tablename__ = "annotate_projects"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    instructions: Mapped[str] = mapped_column(Text, default="")
    label_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    gold_share: Mapped[float] = mapped_column(Float, default=0.0)
    segmentation: Mapped[str] = mapped_column(String(16), default="sentences")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationDocument(Base):
    """One imported document: where it came from, under which licence, its raw text sealed."""

    __tablename__ = "annotate_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    licence: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    sealed: Mapped[str] = mapped_column(Text)  # {"text": raw}, associated data "annotate:<project id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationUnit(Base):
    """A behaviour unit: characters [start, end) of its document, sanitised before anyone sees it.

    `done` counts the annotations that are not skips (the queue compares it with overlap k);
    `hidden` is set the moment an annotator flags leaked personal data, until a curator fixes `text`."""

    __tablename__ = "annotate_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("annotate_documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    gold: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationPrelabel(Base):
    """A suggestion for a unit: imported (Label Studio `predictions`) or from the evaluator, with its model version."""

    __tablename__ = "annotate_prelabels"
    __table_args__ = (UniqueConstraint("unit_id", "origin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(32))  # "import" or "evaluator"
    model_version: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationReservation(Base):
    """A unit held for one annotator until `expires_at`; afterwards it counts for nobody."""

    __tablename__ = "annotate_reservations"
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Annotation(Base):
    """One annotator's judgement of one unit, with a snapshot of their own value profile at the time.

    `values`: {dimension id: +1 or -1} (present, with direction); `acceptability`: an index on the
    project's scale (0 = clearly wrong); a skip has `skipped` and no labels."""

    __tablename__ = "annotate_annotations"
    __table_args__ = (UniqueConstraint("unit_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    profile_json: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    acceptability: Mapped[int | None] = mapped_column(Integer)
    why: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[list[str]] = mapped_column(JSON, default=list)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationFlag(Base):
    """An annotator's report of personal data leaked into a unit's text; resolved when a curator fixes it."""

    __tablename__ = "annotate_flags"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
