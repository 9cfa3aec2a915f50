"""The moral graph's data duty: a person's values cards, stories, votes and "did this represent you?" answers.

Export: every card (with its canonical card and the history of where it was merged), every story, vote
(with why and weight) and representation answer, the contexts the person proposed, and the proposed
contexts they dismissed as a curator.

Deletion REMOVES them. A canonical card shows the words of one member card: when that card was the
person's, the canonical card takes the words of its oldest remaining member; when no member is left, the
canonical card is deleted, and with it the transitions, stories and votes (other people's too) about it,
because they judged words that are gone. A context the person proposed stays without their id when other
people wrote cards in it, and is deleted when nobody did. A proposed context they dismissed as a curator
stays dismissed (a decision about a data set's text, not about them), without their id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from valueprint.store.duties import DataDuty, DutyContext, register
from valueprint.store.models import (
    CanonicalCard,
    CardMerge,
    ContextDismissal,
    MoralContext,
    RepresentationAnswer,
    Transition,
    TransitionStory,
    ValuesCard,
    WiserVote,
)


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _cards(session: Session, mine: str) -> list[dict[str, Any]]:
    cards = session.scalars(select(ValuesCard).where(ValuesCard.participant_id == mine).order_by(ValuesCard.id)).all()
    merges = session.scalars(
        select(CardMerge).where(CardMerge.card_id.in_([c.id for c in cards])).order_by(CardMerge.id)
    ).all()
    return [
        {
            "id": card.id,
            "context_id": card.context_id,
            "title": card.title,
            "description": card.description,
            "policies": list(card.policies),
            "drafted_by_model": card.drafted_by_model,
            "canonical_id": card.canonical_id,
            "merges": [
                {
                    "canonical_id": m.canonical_id,
                    "method": m.method,
                    "similarity": m.similarity,
                    "at": _iso(m.decided_at),
                }
                for m in merges
                if m.card_id == card.id
            ],
            "created_at": _iso(card.created_at),
        }
        for card in cards
    ]


def _export(context: DutyContext) -> dict[str, Any]:
    session, mine = context.session, context.participant_id
    stories = session.execute(
        select(TransitionStory, Transition)
        .join(Transition, Transition.id == TransitionStory.transition_id)
        .where(TransitionStory.participant_id == mine)
        .order_by(TransitionStory.id)
    ).all()
    votes = session.scalars(select(WiserVote).where(WiserVote.participant_id == mine).order_by(WiserVote.id))
    answers = session.scalars(select(RepresentationAnswer).where(RepresentationAnswer.participant_id == mine))
    proposed = session.scalars(select(MoralContext).where(MoralContext.proposed_by == mine))
    dismissed = session.scalars(select(ContextDismissal).where(ContextDismissal.dismissed_by == mine))
    return {
        "contexts_proposed": [{"id": c.id, "text": c.text, "created_at": _iso(c.created_at)} for c in proposed],
        "contexts_dismissed": [{"key": d.key, "text": d.text, "created_at": _iso(d.created_at)} for d in dismissed],
        "cards": _cards(session, mine),
        "stories": [
            {
                "transition_id": t.id,
                "from_id": t.from_id,
                "to_id": t.to_id,
                "text": s.text,
                "origin": s.origin,
                "created_at": _iso(s.created_at),
            }
            for s, t in stories
        ],
        "votes": [
            {
                "context_id": v.context_id,
                "transition_id": v.transition_id,
                "from_id": v.from_id,
                "to_id": v.to_id,
                "answer": v.answer,
                "why": v.why,
                "weight": v.weight,
                "created_at": _iso(v.created_at),
            }
            for v in votes
        ],
        "representation": [
            {
                "context_id": a.context_id,
                "winner_title": a.winner_title,
                "answer": a.answer,
                "why": a.why,
                "created_at": _iso(a.created_at),
            }
            for a in answers
        ],
    }


def reseat_or_drop(session: Session, canonical_ids: set[int]) -> None:
    """After member cards left these canonical cards: each shows its oldest remaining member's words, or is
    deleted (with its transitions, stories and votes, by the database's cascades) when none is left."""
    for canonical in session.scalars(select(CanonicalCard).where(CanonicalCard.id.in_(canonical_ids))).all():
        member = session.scalar(
            select(ValuesCard).where(ValuesCard.canonical_id == canonical.id).order_by(ValuesCard.id).limit(1)
        )
        if member is None:
            session.execute(delete(CanonicalCard).where(CanonicalCard.id == canonical.id))
        elif canonical.source_card_id != member.id:
            exists = session.get(ValuesCard, canonical.source_card_id) if canonical.source_card_id else None
            if exists is None or exists.canonical_id != canonical.id:
                canonical.title, canonical.description = member.title, member.description
                canonical.policies, canonical.source_card_id = list(member.policies), member.id


def _delete(context: DutyContext) -> None:
    """Removes the person's votes, stories, answers and cards; re-seats or drops the canonical cards that
    showed their words; drops the contexts they proposed that nobody else wrote in (others lose the id)."""
    session, mine = context.session, context.participant_id
    cards = session.scalars(select(ValuesCard).where(ValuesCard.participant_id == mine)).all()
    card_ids = {c.id for c in cards}
    touched = {c.canonical_id for c in cards if c.canonical_id is not None}
    touched |= set(session.scalars(select(CanonicalCard.id).where(CanonicalCard.source_card_id.in_(card_ids))))
    for table in (WiserVote, TransitionStory, RepresentationAnswer):
        session.execute(delete(table).where(table.participant_id == mine))
    session.execute(delete(CardMerge).where(CardMerge.card_id.in_(card_ids)))
    session.execute(delete(ValuesCard).where(ValuesCard.id.in_(card_ids)))
    reseat_or_drop(session, touched)
    session.execute(update(ContextDismissal).where(ContextDismissal.dismissed_by == mine).values(dismissed_by=None))
    for proposed in session.scalars(select(MoralContext).where(MoralContext.proposed_by == mine)).all():
        in_it = select(func.count()).select_from(ValuesCard).where(ValuesCard.context_id == proposed.id)
        written = session.scalar(in_it)
        if written:
            proposed.proposed_by = None
        else:
            session.execute(delete(MoralContext).where(MoralContext.id == proposed.id))


register(
    DataDuty(
        "moral_graph",
        tables=(ValuesCard, TransitionStory, WiserVote, RepresentationAnswer),
        export=_export,
        delete=_delete,
    )
)
