"""Transitions and votes: the next pair a person should judge, the stories people tell of a transition,
and their answer to "did this person become wiser?" (one per person per pair of values, weighed by the
voter's annotation karma when they cast it: see `vote_weight` and the formula in `aggregate`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valueprint.annotate import karma
from valueprint.errors import CardError, NotFoundError
from valueprint.moralgraph import graphs, interview, pairs
from valueprint.moralgraph.aggregate import ANSWERS
from valueprint.moralgraph.base import GraphBase
from valueprint.moralgraph.cards import Card, check_story, check_why
from valueprint.moralgraph.schemas import StoryView, TransitionView, VoteRecorded
from valueprint.store.models import CanonicalCard, Transition, TransitionStory, WiserVote
from valueprint.store.models.base import now


def vote_weight(session: Session, participant_id: str) -> float:
    """The weight of a vote cast now: `karma.weight` of the voter's annotation karma (0.1 for a fresh account,
    1 from 6 karma up). Stored with the vote, so a graph is reproducible from its stored votes; the karma
    events it came from stay in the database with their times."""
    return round(karma.weight(karma.total(session, participant_id)), 6)


class Voting(GraphBase):
    def next_transition(self, participant_id: str, context_id: int) -> TransitionView | None:
        """The transition this person should judge next (see `pairs`); None once they judged every pair."""
        with self.db.session() as session:
            graphs.context_row(session, context_id)
            values, graph = graphs.graph_of(session, context_id, self.parameters)
            count = graphs.members(session, context_id)
            judged: dict[int, float] = {v.id: 0.0 for v in values}
            for e in graph.edges:
                judged[e.from_id] = judged.get(e.from_id, 0.0) + e.voters / 2  # each pair appears twice
            mine = self._judged_pairs(session, participant_id, context_id)
            candidates = [pairs.Value(v.id, count[v.id], judged.get(v.id, 0.0)) for v in values]
            pair = pairs.choose(candidates, graph.edges, mine, participant_id, self.parameters.min_votes)
            if pair is None:
                return None
            stories = self._story_counts(session, pair)
            from_id, to_id = pairs.direction(pair, stories, participant_id)
            transition = self._transition(session, context_id, from_id, to_id)
            return self._transition_view(session, transition, participant_id)

    @staticmethod
    def _judged_pairs(session: Session, participant_id: str, context_id: int) -> set[tuple[int, int]]:
        rows = session.execute(
            select(WiserVote.low_id, WiserVote.high_id).where(
                WiserVote.participant_id == participant_id, WiserVote.context_id == context_id
            )
        )
        return {(low, high) for low, high in rows}

    @staticmethod
    def _story_counts(session: Session, pair: tuple[int, int]) -> dict[tuple[int, int], int]:
        rows = session.execute(
            select(Transition.from_id, Transition.to_id, func.count(TransitionStory.id))
            .join(TransitionStory, TransitionStory.transition_id == Transition.id)
            .where(Transition.from_id.in_(pair), Transition.to_id.in_(pair))
            .group_by(Transition.from_id, Transition.to_id)
        )
        return {(a, b): n for a, b, n in rows}

    @staticmethod
    def _transition(session: Session, context_id: int, from_id: int, to_id: int) -> Transition:
        """The transition row, created on first use (two people at once get the same row)."""
        query = select(Transition).where(Transition.from_id == from_id, Transition.to_id == to_id)
        found = session.scalar(query)
        if found is not None:
            return found
        try:
            with session.begin_nested():
                created = Transition(context_id=context_id, from_id=from_id, to_id=to_id)
                session.add(created)
            return created
        except IntegrityError:
            return session.scalars(query).one()

    def _transition_view(self, session: Session, transition: Transition, participant_id: str) -> TransitionView:
        count = graphs.members(session, transition.context_id)
        before, after = session.get(CanonicalCard, transition.from_id), session.get(CanonicalCard, transition.to_id)
        assert before is not None and after is not None  # transitions cascade with their cards
        story = session.scalar(
            select(TransitionStory)
            .where(TransitionStory.transition_id == transition.id)
            .order_by(TransitionStory.id.desc())
            .limit(1)
        )
        judged = len(self._judged_pairs(session, participant_id, transition.context_id))
        n = len(graphs.values_of(session, transition.context_id))
        return TransitionView(
            id=transition.id,
            context_id=transition.context_id,
            context=graphs.context_row(session, transition.context_id).text,
            from_value=graphs.value_view(before, count[before.id]),
            to_value=graphs.value_view(after, count[after.id]),
            story=StoryView(text=story.text, origin=story.origin) if story else None,
            judged=judged,
            remaining=max(0, n * (n - 1) // 2 - judged),
        )

    def transition(self, participant_id: str, transition_id: int) -> TransitionView:
        with self.db.session() as session:
            return self._transition_view(session, self._transition_row(session, transition_id), participant_id)

    @staticmethod
    def _transition_row(session: Session, transition_id: int) -> Transition:
        transition = session.get(Transition, transition_id)
        if transition is None:
            raise NotFoundError(f"no transition {transition_id}")
        return transition

    def propose_transition(
        self, participant_id: str, from_id: int, to_id: int, story: object, origin: str = "person"
    ) -> TransitionView:
        """A transition between two canonical cards of one context, with the person's story of it."""
        with self.db.session() as session:
            before, after = session.get(CanonicalCard, from_id), session.get(CanonicalCard, to_id)
            if before is None or after is None or before.context_id != after.context_id or from_id == to_id:
                raise CardError("a transition goes from one value to another value of the same context")
            transition = self._transition(session, before.context_id, from_id, to_id)
        return self.add_story(participant_id, transition.id, story, origin)

    def add_story(
        self, participant_id: str, transition_id: int, text: object, origin: str = "person"
    ) -> TransitionView:
        """The person's story of a transition (replacing their earlier one); `origin` "model" when they saved an
        upstream model's draft after reading (and perhaps editing) it."""
        if origin not in ("person", "model"):
            raise CardError("a story's origin is person or model")
        story = check_story(text)
        with self.db.session() as session:
            transition = self._transition_row(session, transition_id)
            mine = session.scalar(
                select(TransitionStory).where(
                    TransitionStory.transition_id == transition_id, TransitionStory.participant_id == participant_id
                )
            )
            if mine is None:
                session.add(
                    TransitionStory(
                        transition_id=transition_id, participant_id=participant_id, text=story, origin=origin
                    )
                )
            else:
                mine.text, mine.origin, mine.created_at = story, origin, now()
            session.flush()
            return self._transition_view(session, transition, participant_id)

    def draft_story(self, transition_id: int) -> str:
        """The upstream model's draft of a story for the transition, for a person to edit; nothing is saved."""
        with self.db.session() as session:
            transition = self._transition_row(session, transition_id)
            context = graphs.context_row(session, transition.context_id).text
            cards = [session.get(CanonicalCard, i) for i in (transition.from_id, transition.to_id)]
            before, after = (Card(c.title, c.description, tuple(c.policies)) for c in cards if c is not None)
        return interview.draft_story(self.upstream_model(), context, before, after)

    def vote(self, participant_id: str, transition_id: int, answer: object, why: object = None) -> VoteRecorded:
        """The person's answer to "did this person become wiser?": one per pair of values, so a second answer
        on the same pair (either way round) replaces the first."""
        if answer not in ANSWERS:
            raise CardError(f"answer one of {', '.join(ANSWERS)} (not sure)")
        reason = check_why(why)
        with self.db.session() as session:
            t = self._transition_row(session, transition_id)
            low, high = sorted((t.from_id, t.to_id))
            earlier = session.scalar(
                select(WiserVote)
                .where(WiserVote.participant_id == participant_id, WiserVote.low_id == low, WiserVote.high_id == high)
                .with_for_update()
            )
            if earlier is not None:
                session.delete(earlier)  # a new row: the graph's digest names the votes it was computed from
                session.flush()
            weight = vote_weight(session, participant_id)
            session.add(
                WiserVote(
                    participant_id=participant_id,
                    context_id=t.context_id,
                    transition_id=t.id,
                    from_id=t.from_id,
                    to_id=t.to_id,
                    low_id=low,
                    high_id=high,
                    answer=str(answer),
                    why=reason,
                    weight=weight,
                )
            )
            session.flush()
            judged = len(self._judged_pairs(session, participant_id, t.context_id))
            return VoteRecorded(
                transition_id=t.id, answer=str(answer), replaced=earlier is not None, judged=judged, weight=weight
            )
