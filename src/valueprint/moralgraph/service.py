"""The moral graph's face: contexts (proposed to curators: `proposals`), values cards (`cardbook`),
transitions and votes (`voting`), the graph
and its export, "did this represent you?", and what the product draws from it (a person's cards for their
précis, the graph's advice for a chat prompt: `consult`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from valueprint.errors import CardError
from valueprint.moralgraph import contexts as seeds
from valueprint.moralgraph import graphs
from valueprint.moralgraph.cardbook import Cardbook
from valueprint.moralgraph.cards import check_context, check_why
from valueprint.moralgraph.consult import Consultation, Consulting
from valueprint.moralgraph.proposals import Proposing
from valueprint.moralgraph.schemas import ContextView, GraphView, RepresentationRecorded, RepresentationSummary
from valueprint.moralgraph.voting import Voting
from valueprint.moralgraph.wisdom import OwnCard, wisdom_text, with_wisdom
from valueprint.store.models import MoralContext, RepresentationAnswer, ValuesCard
from valueprint.store.models.base import now

REPRESENT_ANSWERS = ("yes", "partly", "no")


class MoralGraph(Cardbook, Voting, Consulting, Proposing):
    """The moral graph of this server: built once by `Services.build` (which seeds its curated contexts)."""

    # -- contexts ------------------------------------------------------------------------------

    def seed(self) -> int:
        """Add the curated contexts a new server starts with (those missing); how many were added."""
        wanted = seeds.curated(self.settings.datasets_dir)
        try:
            with self.db.session() as session:
                have = set(session.scalars(select(MoralContext.text)))
                fresh = [c for c in wanted if c.text not in have]
                session.add_all(
                    MoralContext(text=c.text, detail=c.detail, source=c.source, source_ref=c.source_ref) for c in fresh
                )
        except IntegrityError:  # another worker seeded at the same moment
            return 0
        return len(fresh)

    def contexts(self) -> list[ContextView]:
        with self.db.session() as session:
            rows = list(session.scalars(select(MoralContext).order_by(MoralContext.id)))
            return graphs.context_views(session, rows, self.parameters)

    def context(self, context_id: int) -> ContextView:
        with self.db.session() as session:
            return graphs.context_views(session, [graphs.context_row(session, context_id)], self.parameters)[0]

    def propose_context(self, participant_id: str, text: object) -> ContextView:
        """A new context in the person's words ("when …" added if missing); the existing one if it is known."""
        checked = check_context(text)
        with self.db.session() as session:
            existing = session.scalar(select(MoralContext).where(func.lower(MoralContext.text) == checked.lower()))
            if existing is None:
                existing = MoralContext(text=checked, detail="", source="participant", proposed_by=participant_id)
                session.add(existing)
                session.flush()
            return graphs.context_views(session, [existing], self.parameters)[0]

    def context_proposals(self, n: int = 6, seed: int = 0) -> list[str]:
        """Everyday situations from DailyDilemmas' training part that are not contexts yet (nor dismissed)."""
        with self.db.session() as session:
            _, texts = self._left_out(session)
        pool = [c for c in seeds.dilemma_contexts(self.settings.datasets_dir) if c.text.casefold() not in texts]
        return [c.text for c in seeds.sample(pool, n, seed)]

    # -- the graph ---------------------------------------------------------------------------

    def graph(self, context_id: int) -> GraphView:
        with self.db.session() as session:
            return graphs.graph_view(session, context_id, self.parameters)

    def export(self) -> dict[str, Any]:
        with self.db.session() as session:
            return graphs.export(session, self.parameters)

    # -- did this represent you? -------------------------------------------------------------

    def represent(
        self, participant_id: str, context_id: int, answer: object, why: object = None
    ) -> RepresentationRecorded:
        """The person's answer about the context's winning value as it stands now (their latest answer counts)."""
        if answer not in REPRESENT_ANSWERS:
            raise CardError(f"answer one of {', '.join(REPRESENT_ANSWERS)}")
        reason = check_why(why)
        with self.db.session() as session:
            graphs.context_row(session, context_id)
            winner = graphs.winner_of(session, context_id, self.parameters)
            if winner is None:
                raise CardError("this context has no winning value yet: come back when more people have judged it")
            row = session.scalar(
                select(RepresentationAnswer).where(
                    RepresentationAnswer.participant_id == participant_id, RepresentationAnswer.context_id == context_id
                )
            )
            if row is None:
                row = RepresentationAnswer(participant_id=participant_id, context_id=context_id)
                session.add(row)
            row.winner_id, row.winner_title, row.answer, row.why, row.created_at = (
                winner.id,
                winner.title,
                str(answer),
                reason,
                now(),
            )
            return RepresentationRecorded(context_id=context_id, answer=str(answer), winner=winner.title)

    def representation(self, context_id: int | None = None) -> RepresentationSummary:
        """How many people felt represented by the winning values (all contexts, or one)."""
        with self.db.session() as session:
            query = select(RepresentationAnswer.answer, func.count()).group_by(RepresentationAnswer.answer)
            if context_id is not None:
                query = query.where(RepresentationAnswer.context_id == context_id)
            counts = dict(session.execute(query).all())
        total = sum(counts.values())
        yes, partly, no = (counts.get(a, 0) for a in REPRESENT_ANSWERS)
        return RepresentationSummary(
            answered=total,
            yes=yes,
            partly=partly,
            no=no,
            share_yes=round(yes / total, 4) if total else None,
            share_yes_or_partly=round((yes + partly) / total, 4) if total else None,
        )

    # -- into the product ----------------------------------------------------------------------

    def own_cards(self, participant_id: str) -> list[OwnCard]:
        """The person's cards, newest first, with their contexts."""
        with self.db.session() as session:
            rows = session.execute(
                select(ValuesCard, MoralContext.text)
                .join(MoralContext, MoralContext.id == ValuesCard.context_id)
                .where(ValuesCard.participant_id == participant_id)
                .order_by(ValuesCard.id.desc())
            ).all()
        return [OwnCard(c.context_id, text, c.title, tuple(c.policies)) for c, text in rows]

    def wisdom(self, participant_id: str, precis_text: str) -> tuple[list[dict[str, Any]], str]:
        """For a read within the `wisdom` scope: the person's cards and the précis with their sentences."""
        cards = self.own_cards(participant_id)
        listed = [
            {"context_id": c.context_id, "context": c.context, "title": c.title, "policies": list(c.policies)}
            for c in cards
        ]
        return listed, with_wisdom(precis_text, wisdom_text(cards))

    def consult(self, prompt: str, own_context_ids: set[int]) -> Consultation | None:
        """What the graph says about the context of a chat prompt (see `consult`); None when no context has votes."""
        return self.consult_graph(prompt, own_context_ids)
