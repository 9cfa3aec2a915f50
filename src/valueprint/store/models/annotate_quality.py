"""The annotation domain's quality tables (part 2): gold answers, paused annotators, karma events,
adjudications, returned annotations and candidate questionnaire scenarios.

A gold answer is the known answer of a unit (from a validation split or an adjudication); the unit's
`gold` flag says it has one. Karma events, pauses, adjudications (the reviewer's) and returns (the
annotator's) belong to a person (`participant_id`) and follow the account (see `annotate.data`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class AnnotationGold(Base):
    """The known answer of a gold unit: `values` {dimension: ±1} present among the `checked` dimensions
    (the others are known absent), and/or `acceptability` (an index on the project's scale)."""

    __tablename__ = "annotate_gold"
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), primary_key=True)
    values: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    checked: Mapped[list[str]] = mapped_column(JSON, default=list)
    acceptability: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))  # "social_chemistry:validation", "adjudicated", ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotatorPause(Base):
    """An annotator paused in a project (far below chance on gold), with the reason they are shown."""

    __tablename__ = "annotate_pauses"
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KarmaEvent(Base):
    """One change of a person's karma, with the reason they see."""

    __tablename__ = "annotate_karma"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("annotate_units.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    delta: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Adjudication(Base):
    """A reviewer's answer to a disputed unit (`participant_id` is the reviewer); the latest one counts."""

    __tablename__ = "annotate_adjudications"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    values: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    acceptability: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AnnotationReturn(Base):
    """An annotation a reviewer sent back to its annotator (`participant_id`) with a comment. The annotation is
    taken out (its labels are kept here) and the unit comes back to the annotator first, until they label it."""

    __tablename__ = "annotate_returns"
    __table_args__ = (UniqueConstraint("unit_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text)
    original: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScenarioCandidate(Base):
    """A unit the crowd agrees is value-laden but groups judge differently, proposed as a questionnaire scenario:
    its options with value loadings estimated from the annotators' profiles; a curator approves or rejects it."""

    __tablename__ = "annotate_scenarios"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("annotate_units.id", ondelete="CASCADE"), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("annotate_projects.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="candidate")  # candidate, approved, rejected
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
