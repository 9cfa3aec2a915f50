"""The registry domain's tables: issued tokens, registered apps, consents and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class IssuedTokenRecord(Base):
    """An issued token: its id and state in the clear, the token itself only sealed (AES-GCM with
    the data key, bound to the participant), so a read of the database yields no working token."""

    __tablename__ = "tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str | None] = mapped_column(Text)
    # Plain text, only in rows written before migration 0003: sealed (and cleared) at start-up.
    token: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class App(Base):
    """A third-party AI system registered by an admin; its API key is stored hashed."""

    __tablename__ = "apps"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")  # who runs it, as shown to people
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)  # where a consent request may return
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Consent(Base):
    __tablename__ = "consents"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Every read of a person's values by an app; shown to the person."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_participant_at", "participant_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    app_id: Mapped[str | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32), default="profile")  # a ReadPurpose: why the app read
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
