"""Scenarios from the crowd: units that people agree are value-laden but that groups judge differently become
candidate questionnaire items, with option loadings estimated from the labels; a curator approves them.

A unit is a candidate when (all thresholds below):
- it has at least `MIN_LABELS` labels with an acceptability;
- **overall agreement that it is value-laden**: at least `LADEN_SHARE` of its annotators marked a value;
- **disagreement between groups**: among the groups (of any grouping field, see `moralmap`) with at least k of
  its annotators, the mean acceptability of two differs by at least `GROUP_GAP` of the scale.

Its options are "A: acceptable" and "B: not acceptable"; each option's loadings are half the difference between
the mean value profile of the annotators who chose that side and the mean of those who chose the other (their
profile snapshots), on the `TOP_DIMENSIONS` dimensions where the sides differ most (at least `MIN_LOADING`).
So choosing an option says what the people who chose it hold, which is what a scenario item's options state.
Approved candidates join the question bank when the server starts (`approved_items`); the scoring model then
asks them like any scenario (the adaptive questionnaire prefers them where they are most informative).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.errors import BadRequestError, NotFoundError
from valueprint.store.models import ScenarioCandidate

MIN_LABELS = 6
LADEN_SHARE = 0.8
GROUP_GAP = 0.25
TOP_DIMENSIONS = 6
MIN_LOADING = 0.05


def group_gap(judged: Sequence[tuple[Any, int]], fields: Sequence[str], points: int, k: int) -> tuple[float, str]:
    """The largest gap (share of the scale) between two groups' mean acceptability, and the field it is on."""
    best, where = 0.0, ""
    for field in fields:
        by_group: dict[str, list[int]] = {}
        for member, acceptability in judged:
            value = member.groups.get(field)
            if value:
                by_group.setdefault(value.strip().casefold(), []).append(acceptability)
        means = [np.mean(v) for v in by_group.values() if len(v) >= k]
        if len(means) >= 2 and (gap := (max(means) - min(means)) / (points - 1)) > best:
            best, where = float(gap), field
    return best, where


def option_loadings(profiles: np.ndarray, accepted: np.ndarray, dims: Sequence[str]) -> tuple[dict, dict]:
    """Loadings of "acceptable" and "not acceptable" from the choosers' profiles [people, dims]."""
    difference = (profiles[accepted].mean(axis=0) - profiles[~accepted].mean(axis=0)) / 2
    order = np.argsort(-np.abs(difference))[:TOP_DIMENSIONS]
    top = {dims[i]: round(float(np.clip(difference[i], -1, 1)), 3) for i in order if abs(difference[i]) >= MIN_LOADING}
    return top, {d: -v for d, v in top.items()}


def candidate(
    unit_id: int,
    text: str,
    labels: Sequence[tuple[Any, int, bool, np.ndarray]],
    dims: Sequence[str],
    fields: Sequence[str],
    points: int,
    k: int,
) -> dict[str, Any] | None:
    """A candidate from one unit's labels: (member, acceptability, marked a value, profile means); None if it
    does not qualify."""
    if len(labels) < MIN_LABELS:
        return None
    laden = sum(1 for _, _, marked, _ in labels if marked) / len(labels)
    gap, field = group_gap([(m, a) for m, a, _, _ in labels], fields, points, k)
    middle = (points - 1) / 2
    accepted = np.array([a > middle for _, a, _, _ in labels])
    if laden < LADEN_SHARE or gap < GROUP_GAP or accepted.all() or not accepted.any():
        return None
    good, bad = option_loadings(np.stack([p for *_, p in labels]), accepted, dims)
    if not good:
        return None
    return {
        "unit_id": unit_id,
        "prompt": f"Is this acceptable? “{text}”",
        "options": [
            {"key": "A", "text": "Acceptable", "profile": good},
            {"key": "B", "text": "Not acceptable", "profile": bad},
        ],
        "evidence": {
            "labels": len(labels),
            "value_laden_share": round(laden, 3),
            "group_gap": round(gap, 3),
            "field": field,
        },
    }


def store(session: Session, project_id: str, found: Sequence[dict[str, Any]]) -> int:
    """Adds new candidates (a unit already proposed keeps its row and decision); how many were added."""
    known = set(session.scalars(select(ScenarioCandidate.unit_id).where(ScenarioCandidate.project_id == project_id)))
    added = 0
    for c in found:
        if c["unit_id"] not in known:
            session.add(ScenarioCandidate(project_id=project_id, **c))
            added += 1
    return added


def decide(session: Session, candidate_id: int, curator_id: str, approve: bool, now: datetime) -> ScenarioCandidate:
    row = session.get(ScenarioCandidate, candidate_id)
    if row is None:
        raise NotFoundError(f"no scenario candidate {candidate_id}")
    if row.status != "candidate":
        raise BadRequestError(f"candidate {candidate_id} was already {row.status}")
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), curator_id, now
    return row


def view(row: ScenarioCandidate) -> dict[str, Any]:
    return {
        "id": row.id,
        "unit_id": row.unit_id,
        "project_id": row.project_id,
        "prompt": row.prompt,
        "options": row.options,
        "evidence": row.evidence,
        "status": row.status,
    }


def approved_items(session: Session) -> list[Any]:
    """Approved candidates as question-bank scenario items (ids `crowd-<unit id>`)."""
    from valueprint.values.bank import ScenarioItem

    rows = session.scalars(select(ScenarioCandidate).where(ScenarioCandidate.status == "approved"))
    return [
        ScenarioItem(
            id=f"crowd-{row.unit_id}",
            prompt=row.prompt,
            why="People who share values agree this is value-laden, and groups judge it differently.",
            source="valueprint annotators (approved by a curator)",
            options=tuple(row.options),
        )
        for row in rows
    ]
