"""Pre-labelling a project's units, a committed batch at a time (so a killed run resumes where it stopped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError

from valueprint.annotate.prelabel import ORIGIN, Prelabeller
from valueprint.annotate.schema import LabelSchema
from valueprint.errors import NotFoundError
from valueprint.store.db import Database
from valueprint.store.models import AnnotationPrelabel, AnnotationProject, AnnotationUnit


def _pending(project_id: str) -> Any:
    """Visible units of the project without a machine pre-label."""
    labelled = exists().where(
        and_(AnnotationPrelabel.unit_id == AnnotationUnit.id, AnnotationPrelabel.origin == ORIGIN)
    )
    return and_(AnnotationUnit.project_id == project_id, AnnotationUnit.hidden.is_(False), ~labelled)


def prelabel_project(
    db: Database,
    project_id: str,
    prelabeller: Prelabeller,
    progress: Callable[..., None] = lambda done, total, first=0: None,
    batch: int = 64,
) -> dict[str, Any]:
    """Pre-labels every visible unit that has none yet, `batch` units per unit of work, reporting
    `progress(done, total, first)` after each; returns {"done", "total", "written", "model_version"}."""
    with db.session() as session:
        project = session.get(AnnotationProject, project_id)
        if project is None:
            raise NotFoundError(f"no annotation project {project_id!r}")
        schema = LabelSchema.model_validate(project.label_schema)
        visible = and_(AnnotationUnit.project_id == project_id, AnnotationUnit.hidden.is_(False))
        total = session.scalar(select(func.count()).where(visible)) or 0
        pending = session.scalar(select(func.count()).where(_pending(project_id))) or 0
    first = done = total - pending
    written, after = 0, 0
    progress(done, total, first)
    while True:
        with db.session() as session:
            rows = session.execute(
                select(AnnotationUnit.id, AnnotationUnit.text)
                .where(_pending(project_id), AnnotationUnit.id > after)
                .order_by(AnnotationUnit.id)
                .limit(batch)
            ).all()
        if not rows:
            break
        after = rows[-1][0]
        suggestions = prelabeller.predict([text for _, text in rows], schema)
        try:
            with db.session() as session:
                for (unit_id, _), suggestion in zip(rows, suggestions, strict=True):
                    session.add(
                        AnnotationPrelabel(
                            unit_id=unit_id,
                            origin=ORIGIN,
                            model_version=suggestion.model_version[:200],
                            labels=suggestion.labels,
                            confidence=suggestion.confidence,
                        )
                    )
            written += len(rows)
        except IntegrityError:  # another run labelled some of them meanwhile: theirs stand
            pass
        done += len(rows)
        progress(min(done, total), total, first)
    return {"done": min(done, total), "total": total, "written": written, "model_version": prelabeller.model_version}
