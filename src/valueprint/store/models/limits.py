"""Rate-limit counters, in the database so that every worker (and every process) shares them."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from valueprint.store.models.base import Base


class RateCounter(Base):
    """One key's fixed window: the events counted since `window_start` (epoch seconds).

    `key_hash` is a SHA-256 of the limit's name and its key (a client address or an app id),
    so addresses are not kept in readable form."""

    __tablename__ = "rate_counters"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float, index=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
