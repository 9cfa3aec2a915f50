"""The personalisation domain's tables: a person's blind picks between a plain and a personalised reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base, UTCDateTime, now


class BlindPick(Base):
    """Two replies to the person's own prompt, plain and personalised, shown as A and B in a hidden order.

    `sealed` holds the prompt and both replies (AES-GCM, like personal data: a prompt can say
    anything about a person). `choice` is null until the person picks: "personal", "plain" or "same".
    """

    __tablename__ = "blind_picks"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    strategy: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    personal_side: Mapped[str] = mapped_column(String(1))  # "A" or "B"
    sealed: Mapped[str] = mapped_column(Text)
    choice: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
