"""The annotation figures of the admin dashboard, over every project (reads only).

- **throughput**: labels (skips excluded) per day for the last `DAYS` days;
- **agreement over time**: each project's alpha (see `agreement`) over the labels given up to the end of
  each of the last `WEEKS` weeks;
- **reviewer backlog**: disputed units nobody has adjudicated, per project;
- **karma distribution** of everyone with karma events (histogram);
- **gold accuracy distribution** of annotators with at least one gold label (histogram of their accuracy);
- **flagged annotators**: those paused for being far below chance, with the reason (pseudonymous ids only).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valueprint.annotate import agreement, quality, review
from valueprint.annotate.schema import LabelSchema
from valueprint.store.models import Annotation, AnnotationProject, KarmaEvent

DAYS = 14
WEEKS = 8
KARMA_BINS = (-10, -5, 0, 5, 10, 15, 20, 50)
ACCURACY_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


def throughput(session: Session, now: datetime) -> list[dict[str, Any]]:
    since = now - timedelta(days=DAYS)
    times = session.scalars(
        select(Annotation.created_at).where(Annotation.skipped.is_(False), Annotation.created_at >= since)
    )
    per_day = Counter(t.date().isoformat() for t in times)
    days = [(since + timedelta(days=i + 1)).date().isoformat() for i in range(DAYS)]
    return [{"day": d, "labels": per_day.get(d, 0)} for d in days]


def agreement_over_time(session: Session, project: AnnotationProject, now: datetime) -> list[dict[str, Any]]:
    schema = LabelSchema.model_validate(project.label_schema)
    labels = list(
        session.scalars(select(Annotation).where(Annotation.project_id == project.id, Annotation.skipped.is_(False)))
    )
    out = []
    for weeks_ago in range(WEEKS - 1, -1, -1):
        end = now - timedelta(weeks=weeks_ago)
        upto = [a for a in labels if a.created_at <= end]
        found = agreement.project_agreement(upto, schema.dimensions, schema.custom_labels, top=0)
        out.append({"week_ending": end.date().isoformat(), "alpha": found["alpha"], "labels": len(upto)})
    return out


def histogram(values: list[float], edges: tuple[float, ...]) -> list[dict[str, Any]]:
    counts, _ = (
        np.histogram(np.clip(values, edges[0], edges[-1] - 1e-9), bins=edges)
        if values
        else ([0] * (len(edges) - 1), None)
    )
    return [{"from": edges[i], "to": edges[i + 1], "people": int(c)} for i, c in enumerate(counts)]


def figures(session: Session, now: datetime) -> dict[str, Any]:
    projects = list(session.scalars(select(AnnotationProject).order_by(AnnotationProject.created_at)))
    karmas = [
        float(v) for (v,) in session.execute(select(func.sum(KarmaEvent.delta)).group_by(KarmaEvent.participant_id))
    ]
    accuracies, backlog, over_time = [], [], []
    for project in projects:
        people = session.scalars(
            select(Annotation.participant_id).where(Annotation.project_id == project.id).distinct()
        ).all()
        for pid in people:
            record = quality.record(session, project.id, pid)
            if record.accuracy is not None:
                accuracies.append(record.accuracy)
        labels = list(
            session.scalars(
                select(Annotation).where(Annotation.project_id == project.id, Annotation.skipped.is_(False))
            )
        )
        backlog.append({"project": project.name, "disputed": len(review.disputed(session, project, labels))})
        over_time.append({"project": project.name, "weeks": agreement_over_time(session, project, now)})
    return {
        "throughput": throughput(session, now),
        "agreement_over_time": over_time,
        "reviewer_backlog": backlog,
        "karma_distribution": histogram(karmas, KARMA_BINS),
        "gold_accuracy_distribution": histogram(accuracies, ACCURACY_BINS),
        "flagged_annotators": quality.pauses(session),
    }
