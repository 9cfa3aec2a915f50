"""The moral graph's tables: contexts, values cards and their canonical (deduplicated) cards, the merges
between them, transitions between two canonical cards with people's stories, "wiser than" votes and the
"did this represent you?" answers.

A values card is a person's own words (`participant_id`); a canonical card is the shared node of the graph
that near-duplicate cards of one context are merged into: it shows the words of one member card
(`source_card_id`, a plain integer because cards also point at their canonical card). Votes are kept one
per person per pair of canonical cards, whichever way the transition was shown (`low_id`, `high_id`). All
rows holding a person's data follow the account (see `moralgraph.data`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class MoralContext(Base):
    """A situation in which one chooses well or badly: "when someone is grieving". `source`: curated,
    daily_dilemmas (with the dilemma in `detail` and its id in `source_ref`) or participant."""

    __tablename__ = "moralgraph_contexts"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200), unique=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    proposed_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ContextDismissal(Base):
    """A proposed context a curator dismissed (`moralgraph.proposals`): it is not proposed again. `key` names
    where it came from ("dd-<DailyDilemmas idx>" or "unit-<annotation unit id>-<n>"); `text` as proposed."""

    __tablename__ = "moralgraph_context_dismissals"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(String(200), index=True)
    dismissed_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CanonicalCard(Base):
    """A node of the graph: the value that one or more near-identical cards of a context express."""

    __tablename__ = "moralgraph_canonical_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_contexts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    policies: Mapped[list[str]] = mapped_column(JSON)
    source_card_id: Mapped[int | None] = mapped_column(Integer)  # the member card whose words these are
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ValuesCard(Base):
    """A person's values card for a context: a title, a one-line description and 3-7 attentional policies."""

    __tablename__ = "moralgraph_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_contexts.id", ondelete="CASCADE"), index=True)
    canonical_id: Mapped[int | None] = mapped_column(
        ForeignKey("moralgraph_canonical_cards.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    policies: Mapped[list[str]] = mapped_column(JSON)
    drafted_by_model: Mapped[bool] = mapped_column(Boolean, default=False)  # the person edited a model's draft
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CardMerge(Base):
    """One decision about where a card belongs, kept so the merge stays visible: `new` (a canonical card of
    its own), `embedding` (merged by similarity), `split` (its author kept it apart), `merge` (its author
    merged it into a suggested canonical card)."""

    __tablename__ = "moralgraph_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_cards.id", ondelete="CASCADE"), index=True)
    canonical_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    similarity: Mapped[float | None] = mapped_column(Float)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Transition(Base):
    """Moving from one canonical card (`from_id`) to another (`to_id`) in their context."""

    __tablename__ = "moralgraph_transitions"
    __table_args__ = (UniqueConstraint("from_id", "to_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_contexts.id", ondelete="CASCADE"), index=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TransitionStory(Base):
    """A short story of someone making a transition, as a person wrote it or saved it after editing a
    model's draft (`origin`: person or model)."""

    __tablename__ = "moralgraph_stories"
    id: Mapped[int] = mapped_column(primary_key=True)
    transition_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_transitions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16), default="person")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class WiserVote(Base):
    """A person's answer to "did this person become wiser?" for a transition as shown (`from_id` → `to_id`):
    yes, no or not_sure, with why. One per person per pair of cards (`low_id` < `high_id`), either way."""

    __tablename__ = "moralgraph_votes"
    __table_args__ = (UniqueConstraint("participant_id", "low_id", "high_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_contexts.id", ondelete="CASCADE"), index=True)
    transition_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_transitions.id", ondelete="CASCADE"), index=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="CASCADE"))
    low_id: Mapped[int] = mapped_column(Integer)
    high_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(String(8))
    why: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class RepresentationAnswer(Base):
    """A person's answer to "did the winning value of this context represent you?" (yes, partly or no), with
    the value they were shown; the latest answer per person and context."""

    __tablename__ = "moralgraph_representation"
    __table_args__ = (UniqueConstraint("participant_id", "context_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("moralgraph_contexts.id", ondelete="CASCADE"), index=True)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("moralgraph_canonical_cards.id", ondelete="SET NULL"))
    winner_title: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str] = mapped_column(String(8))
    why: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
