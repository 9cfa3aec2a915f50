"""The accounts domain's tables: the pseudonymous participant, their answers, profile and
(sealed) personal data. Value data and personal data live in separate tables, joined only by
the pseudonymous participant id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class Participant(Base):
    """A pseudonymous person: no name or email here."""

    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="participant")
    secret_hash: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    boundaries: Mapped[list[str]] = mapped_column(JSON, default=list)
    demographics_done: Mapped[bool] = mapped_column(default=False)
    stop_sd: Mapped[float] = mapped_column(default=0.3)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("participant_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[object] = mapped_column(JSON, nullable=True)  # None = skipped
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    seconds: Mapped[float | None] = mapped_column()  # time since the previous answer


class Profile(Base):
    __tablename__ = "profiles"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    profile_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class PersonalData(Base):
    """Demographics and optional contact, sealed with AES-GCM (see store.crypto)."""

    __tablename__ = "personal_data"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CustomInstructions(Base):
    """The person's own wording of their précis (custom instructions), carried by their token beside the profile."""

    __tablename__ = "custom_instructions"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SessionRecord(Base):
    """A signed-in browser. Its cookie carries only a random id; this row keeps that id's SHA-256, so a copy of
    the database signs no one in. Ending the row (sign-out, expiry, account deletion) ends the session."""

    __tablename__ = "browser_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    shown_once: Mapped[str | None] = mapped_column(Text)  # sealed: a new account's resume code, until its page shows it
