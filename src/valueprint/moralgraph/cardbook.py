"""Values cards: a person writes one for a context, it merges into the canonical card it nearly duplicates
(or starts one), and its author can keep it apart or merge it elsewhere; every decision stays visible.
Also the policies other people wrote, offered beside the interview's fields."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.errors import CardError, ForbiddenError, NotFoundError
from valueprint.moralgraph import graphs
from valueprint.moralgraph.base import GraphBase
from valueprint.moralgraph.cards import Card, card_text, check_card, one_line
from valueprint.moralgraph.data import reseat_or_drop
from valueprint.moralgraph.dedup import place
from valueprint.moralgraph.schemas import CardView, MergeView, PolicySuggestion, SuggestedMerge
from valueprint.store.models import CanonicalCard, CardMerge, ValuesCard

MAX_SUGGESTIONS = 8
MAX_POLICIES_SCANNED = 5000


class Cardbook(GraphBase):
    def create_card(
        self,
        participant_id: str,
        context_id: int,
        title: object,
        description: object,
        policies: object,
        drafted_by_model: bool = False,
    ) -> CardView:
        """The person's card, checked, and merged into the canonical card it nearly duplicates (or one of its own)."""
        card = check_card(title, description, policies)
        with self.db.session() as session:
            graphs.context_row(session, context_id)
            canonicals = [
                (c.id, card_text(c.title, c.description, c.policies)) for c in graphs.values_of(session, context_id)
            ]
        vectors = self.embed([card.text(), *(text for _, text in canonicals)])
        placed = place(
            vectors[0], [(cid, v) for (cid, _), v in zip(canonicals, vectors[1:], strict=True)], self.threshold
        )
        with self.db.session() as session:
            row = ValuesCard(
                participant_id=participant_id,
                context_id=context_id,
                title=card.title,
                description=card.description,
                policies=list(card.policies),
                drafted_by_model=bool(drafted_by_model),
            )
            session.add(row)
            session.flush()
            target = session.get(CanonicalCard, placed.canonical_id) if placed.canonical_id is not None else None
            if target is None:
                self._own_canonical(session, row, "new")
            else:
                row.canonical_id = target.id
                session.add(
                    CardMerge(card_id=row.id, canonical_id=target.id, method="embedding", similarity=placed.similarity)
                )
            suggestion = (placed.suggestion, placed.suggestion_similarity) if placed.suggestion else None
            return self._card_view(session, row, suggestion)

    @property
    def threshold(self) -> float:
        return self.settings.moralgraph_merge_similarity

    @staticmethod
    def _own_canonical(session: Session, card: ValuesCard, method: str) -> CanonicalCard:
        canonical = CanonicalCard(
            context_id=card.context_id,
            title=card.title,
            description=card.description,
            policies=list(card.policies),
            source_card_id=card.id,
        )
        session.add(canonical)
        session.flush()
        card.canonical_id = canonical.id
        session.add(CardMerge(card_id=card.id, canonical_id=canonical.id, method=method, similarity=None))
        return canonical

    def _card_view(self, session: Session, card: ValuesCard, suggestion: tuple[int, float | None] | None) -> CardView:
        count = graphs.members(session, card.context_id)
        canonical = session.get(CanonicalCard, card.canonical_id) if card.canonical_id else None
        history = session.scalars(select(CardMerge).where(CardMerge.card_id == card.id).order_by(CardMerge.id))
        suggested = None
        if suggestion is not None and (other := session.get(CanonicalCard, suggestion[0])) is not None:
            suggested = SuggestedMerge(value=graphs.value_view(other, count[other.id]), similarity=suggestion[1] or 0.0)
        return CardView(
            id=card.id,
            context_id=card.context_id,
            context=graphs.context_row(session, card.context_id).text,
            title=card.title,
            description=card.description,
            policies=list(card.policies),
            drafted_by_model=card.drafted_by_model,
            canonical=graphs.value_view(canonical, count[canonical.id]) if canonical else None,
            merged_with_others=bool(canonical) and count[canonical.id] > 1,
            history=[
                MergeView(
                    canonical_id=m.canonical_id, method=m.method, similarity=m.similarity, at=m.decided_at.isoformat()
                )
                for m in history
            ],
            suggestion=suggested,
        )

    def my_cards(self, participant_id: str) -> list[CardView]:
        """The person's cards, newest first, each with the nearest other canonical card they might merge into."""
        with self.db.session() as session:
            cards = list(
                session.scalars(
                    select(ValuesCard).where(ValuesCard.participant_id == participant_id).order_by(ValuesCard.id.desc())
                )
            )
            others = {
                c.id: [
                    (v.id, card_text(v.title, v.description, v.policies))
                    for v in graphs.values_of(session, c.context_id)
                    if v.id != c.canonical_id
                ]
                for c in cards
            }
        suggestions = {
            c.id: self._nearest(Card(c.title, c.description, tuple(c.policies)), others[c.id]) for c in cards
        }
        with self.db.session() as session:
            return [self._card_view(session, session.get(ValuesCard, c.id), suggestions[c.id]) for c in cards]

    def _nearest(self, card: Card, candidates: list[tuple[int, str]]) -> tuple[int, float | None] | None:
        if not candidates:
            return None
        vectors = self.embed([card.text(), *(text for _, text in candidates)])
        placed = place(
            vectors[0], [(cid, v) for (cid, _), v in zip(candidates, vectors[1:], strict=True)], self.threshold
        )
        if placed.canonical_id is not None:
            return placed.canonical_id, placed.similarity
        return (placed.suggestion, placed.suggestion_similarity) if placed.suggestion else None

    def _own_card(self, session: Session, participant_id: str, card_id: int) -> ValuesCard:
        card = session.get(ValuesCard, card_id)
        if card is None:
            raise NotFoundError(f"no values card {card_id}")
        if card.participant_id != participant_id:
            raise ForbiddenError("only its author decides where a values card is merged")
        return card

    def split_card(self, participant_id: str, card_id: int) -> CardView:
        """The author keeps their card apart: a canonical card of its own (the merge stays in its history)."""
        with self.db.session() as session:
            card = self._own_card(session, participant_id, card_id)
            before = card.canonical_id
            if before is not None and graphs.members(session, card.context_id)[before] <= 1:
                raise CardError("this card is already on its own: no one else's card shares its canonical card")
            self._own_canonical(session, card, "split")
            session.flush()
            if before is not None:
                reseat_or_drop(session, {before})
            return self._card_view(session, card, None)

    def merge_card(self, participant_id: str, card_id: int, canonical_id: int) -> CardView:
        """The author merges their card into another canonical card of its context. A canonical card left with
        no member is deleted, with the votes about it."""
        with self.db.session() as session:
            card = self._own_card(session, participant_id, card_id)
            target = session.get(CanonicalCard, canonical_id)
            if target is None or target.context_id != card.context_id:
                raise CardError("merge a card only into a canonical card of the same context")
            if target.id == card.canonical_id:
                raise CardError("this card is already merged into that canonical card")
            before, card.canonical_id = card.canonical_id, target.id
            session.add(CardMerge(card_id=card.id, canonical_id=target.id, method="merge", similarity=None))
            session.flush()
            if before is not None:
                reseat_or_drop(session, {before})
            return self._card_view(session, card, None)

    def policy_suggestions(self, context_id: int, text: object, top: int = 5) -> list[PolicySuggestion]:
        """Policies other people wrote (in this context first, then others) most similar to `text`: offered
        beside the interview's fields, copied only when the person chooses one."""
        text = one_line(text, "the text to match", (3, 300))
        with self.db.session() as session:
            graphs.context_row(session, context_id)
            rows = session.execute(
                select(CanonicalCard.title, CanonicalCard.policies, CanonicalCard.context_id).limit(
                    MAX_POLICIES_SCANNED
                )
            ).all()
        found = {(p, title): context == context_id for title, policies, context in rows for p in policies}
        if not found:
            return []
        keys = list(found)
        vectors = self.embed([text.strip(), *(p for p, _ in keys)])
        unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)
        scores = unit[1:] @ unit[0] + np.array([0.05 if found[k] else 0.0 for k in keys])  # this context's first
        order = np.argsort(-scores, kind="stable")[: min(top, MAX_SUGGESTIONS)]
        return [
            PolicySuggestion(text=keys[i][0], value=keys[i][1], similarity=round(float(scores[i]), 4)) for i in order
        ]
