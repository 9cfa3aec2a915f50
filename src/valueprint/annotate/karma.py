"""Karma: a person's standing as an annotator and reviewer, the sum of events each with a reason they see.

Events (deltas): a label of a unit with a known answer (gold or adjudicated) gains up to +1 when it agrees
and loses up to 1 when it does not (`2 * share of checks agreeing - 1`); a label a reviewer overturned by
adjudicating the unit otherwise: -1; a useful review: +2 when an annotation the reviewer returned comes back
changed, +1 when a later adjudication confirms theirs; an overturned review (a later adjudication disagrees): -2.

What karma does:
- `REVIEW_KARMA` unlocks reviewing (reviewers, curators and administrators may review whatever their karma);
- weight in consensus (`weight`): a fresh account (karma 0 or less) weighs `FRESH_WEIGHT` of an established
  one, growing linearly to 1 at `FULL_KARMA`; and accounts below `TRUSTED_KARMA` together weigh at most
  `FRESH_CAP` (half the weight of the least trusted annotator) on any unit a trusted annotator labelled
  (`unit_weights`), so a crowd of fresh accounts cannot outvote one trusted annotator however many it sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from valueprint.store.models import KarmaEvent

REVIEW_KARMA = 15.0
FULL_KARMA = 6.0  # chosen with TRUSTED_KARMA on simulated crowds with synthetic truth (tests/test_crowd_bench.py)
TRUSTED_KARMA = 2.0
FRESH_WEIGHT = 0.1
MAX_REASON = 500


def add(
    session: Session,
    participant_id: str,
    kind: str,
    delta: float,
    reason: str,
    project_id: str | None,
    unit_id: int | None,
) -> KarmaEvent:
    """Record one karma change (in the caller's unit of work)."""
    event = KarmaEvent(
        participant_id=participant_id,
        project_id=project_id,
        unit_id=unit_id,
        kind=kind,
        delta=round(float(delta), 3),
        reason=reason[:MAX_REASON],
    )
    session.add(event)
    return event


def forget_label(session: Session, participant_id: str, unit_id: int) -> None:
    """Drop the karma a label earned or lost against a known answer (the label was undone)."""
    session.execute(
        delete(KarmaEvent).where(
            KarmaEvent.participant_id == participant_id,
            KarmaEvent.unit_id == unit_id,
            KarmaEvent.kind.in_(("gold_agree", "gold_disagree")),
        )
    )


def total(session: Session, participant_id: str) -> float:
    return float(
        session.scalar(select(func.sum(KarmaEvent.delta)).where(KarmaEvent.participant_id == participant_id)) or 0.0
    )


def totals(session: Session, participant_ids: Sequence[str]) -> dict[str, float]:
    rows = session.execute(
        select(KarmaEvent.participant_id, func.sum(KarmaEvent.delta))
        .where(KarmaEvent.participant_id.in_(list(participant_ids)))
        .group_by(KarmaEvent.participant_id)
    )
    found = {pid: float(value or 0.0) for pid, value in rows}
    return {pid: found.get(pid, 0.0) for pid in participant_ids}


def history(session: Session, participant_id: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(KarmaEvent)
        .where(KarmaEvent.participant_id == participant_id)
        .order_by(KarmaEvent.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": e.kind,
            "delta": e.delta,
            "reason": e.reason,
            "project_id": e.project_id,
            "unit_id": e.unit_id,
            "created_at": e.created_at,
        }
        for e in rows
    ]


def weight(karma: float) -> float:
    """A person's weight in consensus from their karma (see the module docstring)."""
    share = min(1.0, max(0.0, karma) / FULL_KARMA)
    return FRESH_WEIGHT + (1.0 - FRESH_WEIGHT) * share


FRESH_CAP = weight(TRUSTED_KARMA) / 2  # fresh accounts together weigh half the least trusted annotator


def unit_weights(karmas: Sequence[float]) -> list[float]:
    """The weights of one unit's annotators: `weight`; where a trusted annotator (karma ≥ `TRUSTED_KARMA`)
    labelled the unit, those under it are scaled down together to at most `FRESH_CAP`; where none did, the
    weights are scaled so the heaviest is 1 (fresh accounts then settle, among themselves, what no trusted
    annotator has seen: relative standing still counts, but the unit's evidence is not drowned by the prior)."""
    weights = [weight(k) for k in karmas]
    fresh = [i for i, k in enumerate(karmas) if k < TRUSTED_KARMA]
    if len(fresh) == len(weights):
        top = max(weights, default=1.0)
        return [w / top for w in weights]
    fresh_sum = sum(weights[i] for i in fresh)
    if fresh_sum > FRESH_CAP:
        for i in fresh:
            weights[i] *= FRESH_CAP / fresh_sum
    return weights
