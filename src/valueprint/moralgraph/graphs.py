"""Reading the graph out of the database: a context's values and votes, its aggregated graph, the JSON export.

Every function takes an open session (the caller's unit of work) and reads only; the formula itself is
`aggregate.aggregate`, so a graph here is exactly what its stored votes give.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valueprint.errors import NotFoundError
from valueprint.moralgraph.aggregate import Graph, Parameters, Vote, aggregate
from valueprint.moralgraph.schemas import ContextView, EdgeView, GraphParameters, GraphView, ValueView
from valueprint.store.models import CanonicalCard, MoralContext, ValuesCard, WiserVote

EXPORT_FORMAT = "valueprint.moralgraph/1"


def context_row(session: Session, context_id: int) -> MoralContext:
    context = session.get(MoralContext, context_id)
    if context is None:
        raise NotFoundError(f"no context {context_id}; GET /v1/moralgraph/contexts lists them")
    return context


def members(session: Session, context_id: int | None = None) -> Counter[int]:
    """Cards per canonical card (of one context, or of all)."""
    query = select(ValuesCard.canonical_id, func.count()).where(ValuesCard.canonical_id.is_not(None))
    if context_id is not None:
        query = query.where(ValuesCard.context_id == context_id)
    return Counter({cid: n for cid, n in session.execute(query.group_by(ValuesCard.canonical_id))})


def value_view(card: CanonicalCard, count: int, rank: float | None = None) -> ValueView:
    return ValueView(
        id=card.id,
        context_id=card.context_id,
        title=card.title,
        description=card.description,
        policies=list(card.policies),
        members=count,
        rank=None if rank is None else round(rank, 6),
    )


def values_of(session: Session, context_id: int) -> list[CanonicalCard]:
    return list(
        session.scalars(select(CanonicalCard).where(CanonicalCard.context_id == context_id).order_by(CanonicalCard.id))
    )


def votes_of(session: Session, context_id: int) -> list[Vote]:
    """The context's stored votes, each with its stored weight and its voter (for one person one vote)."""
    rows = session.execute(
        select(WiserVote.from_id, WiserVote.to_id, WiserVote.answer, WiserVote.weight, WiserVote.participant_id)
        .where(WiserVote.context_id == context_id)
        .order_by(WiserVote.id)
    )
    return [Vote(a, b, answer, weight, voter) for a, b, answer, weight, voter in rows]


def anonymous(vote: Vote) -> dict[str, Any]:
    """A vote as the export shows it: everything the formula reads but who cast it."""
    return {"from_id": vote.from_id, "to_id": vote.to_id, "answer": vote.answer, "weight": vote.weight}


def graph_of(session: Session, context_id: int, parameters: Parameters) -> tuple[list[CanonicalCard], Graph]:
    values = values_of(session, context_id)
    return values, aggregate([v.id for v in values], votes_of(session, context_id), parameters)


def winner_of(session: Session, context_id: int, parameters: Parameters) -> ValueView | None:
    values, graph = graph_of(session, context_id, parameters)
    if graph.winner is None:
        return None
    card = next(v for v in values if v.id == graph.winner)
    return value_view(card, members(session, context_id)[card.id], graph.rank[card.id])


def context_views(session: Session, contexts: list[MoralContext], parameters: Parameters) -> list[ContextView]:
    """Contexts with their counts, and their winners where votes exist."""
    ids = [c.id for c in contexts]

    def counts(column: Any) -> dict[int, int]:
        rows = session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
        return dict(rows.all())

    cards, values, votes = (
        counts(ValuesCard.context_id),
        counts(CanonicalCard.context_id),
        counts(WiserVote.context_id),
    )
    return [
        ContextView(
            id=c.id,
            text=c.text,
            detail=c.detail,
            source=c.source,
            source_ref=c.source_ref,
            cards=cards.get(c.id, 0),
            values=values.get(c.id, 0),
            votes=votes.get(c.id, 0),
            winner=winner_of(session, c.id, parameters) if votes.get(c.id) else None,
        )
        for c in contexts
    ]


def graph_view(session: Session, context_id: int, parameters: Parameters) -> GraphView:
    return graph_and_votes(session, context_id, parameters)[0]


def graph_and_votes(session: Session, context_id: int, parameters: Parameters) -> tuple[GraphView, list[Vote]]:
    """The context's graph (aggregated once) and the votes it came from."""
    context = context_row(session, context_id)
    values, votes = values_of(session, context_id), votes_of(session, context_id)
    graph = aggregate([v.id for v in values], votes, parameters)
    count = members(session, context_id)
    by_id = {v.id: v for v in values}
    ranked = [value_view(by_id[n], count[n], graph.rank.get(n)) for n in graph.ordering() if n in by_id]
    winner = next((v for v in ranked if v.id == graph.winner), None)
    cards = session.scalar(select(func.count()).select_from(ValuesCard).where(ValuesCard.context_id == context_id))
    described = ContextView(
        id=context.id,
        text=context.text,
        detail=context.detail,
        source=context.source,
        source_ref=context.source_ref,
        cards=cards or 0,
        values=len(values),
        votes=len(votes),
        winner=winner,
    )
    view = GraphView(
        context=described,
        values=ranked,
        edges=[EdgeView(**e.as_dict()) for e in graph.edges],
        winner=winner,
        parameters=GraphParameters(**vars(parameters)),
        votes=graph.votes,
        votes_digest=graph.votes_digest,
    )
    return view, votes


def export(session: Session, parameters: Parameters) -> dict[str, Any]:
    """Every context's graph with the votes it was computed from (no voter ids, no reasons): anyone can
    recompute it with `aggregate.aggregate(values, votes, parameters)`."""
    contexts = list(session.scalars(select(MoralContext).order_by(MoralContext.id)))
    out = []
    for context in contexts:
        view, votes = graph_and_votes(session, context.id, parameters)
        out.append(
            {
                "id": context.id,
                "text": context.text,
                "source": context.source,
                "source_ref": context.source_ref,
                "values": [v.model_dump() for v in view.values],
                "edges": [e.model_dump() for e in view.edges],
                "winner": view.winner.id if view.winner else None,
                "votes": [anonymous(v) for v in votes],
                "votes_digest": view.votes_digest,
            }
        )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": datetime.now(UTC).isoformat(),
        "formula": "valueprint.moralgraph.aggregate (module docstring)",
        "parameters": vars(parameters),
        "contexts": out,
    }
