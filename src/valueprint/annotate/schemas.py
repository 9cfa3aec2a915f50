"""What the annotation domain answers with (the API's response models, also used by the CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from valueprint.annotate.schema import LabelSchema
from valueprint.store.models import AnnotationProject, AnnotationUnit


class ProjectView(BaseModel):
    id: str
    name: str
    instructions: str
    label_schema: LabelSchema
    overlap: int = Field(description="Annotators per unit (k).")
    gold_share: float
    segmentation: str
    created_at: datetime

    @classmethod
    def of(cls, project: AnnotationProject) -> ProjectView:
        return cls(
            id=project.id,
            name=project.name,
            instructions=project.instructions,
            label_schema=LabelSchema.model_validate(project.label_schema),
            overlap=project.overlap,
            gold_share=project.gold_share,
            segmentation=project.segmentation,
            created_at=project.created_at,
        )


class ImportView(BaseModel):
    documents: int
    units: int
    duplicates: int = Field(description="Units dropped as near-duplicates (MinHash) of earlier ones.")
    prelabels: int
    entities: int = Field(description="Pieces of personal data replaced by placeholders.")


class Suggestion(BaseModel):
    origin: str
    model_version: str
    confidence: float | None
    labels: dict[str, Any]


class UnitTask(BaseModel):
    """A unit reserved for the annotator: its sanitised text and the machine's suggestions, never others' labels."""

    unit_id: int
    text: str
    reserved_until: datetime
    suggestions: list[Suggestion]

    @classmethod
    def of(cls, unit: AnnotationUnit, until: datetime, suggestions: list[Suggestion]) -> UnitTask:
        return cls(unit_id=unit.id, text=unit.text, reserved_until=until, suggestions=suggestions)


class NextUnit(BaseModel):
    unit: UnitTask | None = Field(description="Null when nothing is left for this annotator.")


class Recorded(BaseModel):
    unit_id: int
    skipped: bool


class GivenLabels(BaseModel):
    """An annotator's own labels of a unit."""

    values: dict[str, int] = Field(description="{dimension id: 1 upholds | -1 violates}")
    acceptability: int | None
    why: str | None
    custom: list[str]


class Undone(BaseModel):
    unit_id: int = Field(description="The unit whose label was undone; it is reserved for you again.")
    skipped: bool = Field(description="What was undone was a skip.")
    labels: GivenLabels | None = Field(description="The labels undone (null for a skip), to correct and send again.")


class FlaggedUnit(BaseModel):
    unit_id: int
    text: str
    reasons: list[str]


class RawUnit(BaseModel):
    unit_id: int
    raw: str = Field(description="The unit's original text, before sanitisation (curators only).")
    text: str


class ImportSummary(BaseModel):
    """An import that ran as a job: pending until its units are published (then done), with its counts."""

    import_id: str
    project_id: str
    source: str
    state: str = Field(description="pending (running, or stopped and waiting to be resumed) or done.")
    total: int = Field(description="Documents checked and staged.")
    done: int = Field(description="Documents sanitised so far.")
    counts: ImportView
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Any, pending: int) -> ImportSummary:
        counts = ImportView(
            documents=row.documents,
            units=row.units,
            duplicates=row.duplicates,
            prelabels=row.prelabels,
            entities=row.entities,
        )
        return cls(
            import_id=row.id,
            project_id=row.project_id,
            source=row.source,
            state=row.state,
            total=row.total,
            done=row.total - pending,
            counts=counts,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )
