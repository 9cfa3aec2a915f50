"""Server-side browser sessions: the cookie carries a random id, the database decides what it is worth.

A session id is 256 random bits; the table keeps only its SHA-256 (like API keys, a plain
hash suffices for a random secret), so neither a copy of the database nor of the logs signs
anyone in. A session ends when the person signs out (this browser, or every browser), when it
has been idle too long, when it reaches its absolute lifetime, or with the account: a cookie
copied before any of these is refused after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from valueprint.accounts.roles import Role
from valueprint.store.crypto import Sealer, lookup_hash
from valueprint.store.db import Database
from valueprint.store.models import Participant, SessionRecord

SESSION_ID_BYTES = 32
TOUCH_EVERY = timedelta(minutes=1)  # last use is written at most this often, so most requests only read


# every request of a signed-in browser runs this (built once; SQLAlchemy reuses its compiled form)
LIVE_SESSION = (
    select(SessionRecord.participant_id, SessionRecord.created_at, SessionRecord.last_seen_at, Participant.role)
    .join(Participant, Participant.id == SessionRecord.participant_id)
    .where(SessionRecord.id_hash == bindparam("id_hash"))
)


@dataclass(frozen=True)
class SignedIn:
    """Who a live session belongs to."""

    participant_id: str
    role: Role


class Sessions:
    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        *,
        idle: timedelta,
        lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db, self.sealer, self.idle, self.lifetime, self.clock = db, sealer, idle, lifetime, clock

    def start(self, participant_id: str, shown_once: str | None = None) -> str:
        """A new session for the participant; returns its id (for the cookie only). `shown_once` (a new
        account's resume code) is kept sealed until `take_shown_once` hands it out."""
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        moment = self.clock()
        sealed = self.sealer.seal({"text": shown_once}, participant_id) if shown_once else None
        with self.db.session() as session:
            self._forget_expired(session, moment)
            session.add(
                SessionRecord(
                    id_hash=lookup_hash(session_id),
                    participant_id=participant_id,
                    created_at=moment,
                    last_seen_at=moment,
                    shown_once=sealed,
                )
            )
        return session_id

    def signed_in(self, session_id: object) -> SignedIn | None:
        """The live session's participant, or None (unknown, ended or expired: an expired one is deleted).

        Every request of a signed-in browser asks this, so it reads plain columns (no ORM object to
        build) and writes only when the last use is older than TOUCH_EVERY."""
        if not isinstance(session_id, str) or not session_id:
            return None
        moment, id_hash = self.clock(), lookup_hash(session_id)
        with self.db.session() as session:
            found = session.connection().execute(LIVE_SESSION, {"id_hash": id_hash}).first()
            if found is None:
                return None
            participant_id, created_at, last_seen_at, role = found
            if self._expired_at(created_at, last_seen_at, moment):
                session.execute(delete(SessionRecord).where(SessionRecord.id_hash == id_hash))
                return None
            if moment - last_seen_at >= TOUCH_EVERY:
                session.execute(
                    update(SessionRecord)
                    .where(SessionRecord.id_hash == id_hash)
                    .values(last_seen_at=moment)
                    .execution_options(synchronize_session=False)
                )
            return SignedIn(participant_id, Role(role))

    def take_shown_once(self, session_id: object) -> str | None:
        """The secret kept for this session to show once (then forgotten), or None."""
        if not isinstance(session_id, str) or not session_id:
            return None
        with self.db.session() as session:
            record = session.get(SessionRecord, lookup_hash(session_id))
            if record is None or record.shown_once is None or self._expired(record, self.clock()):
                return None
            text = self.sealer.open(record.shown_once, record.participant_id)["text"]
            record.shown_once = None
            return text

    def end(self, session_id: object) -> None:
        """Sign this browser out: its session id stops working at once, wherever it was copied to."""
        if isinstance(session_id, str) and session_id:
            with self.db.session() as session:
                session.execute(delete(SessionRecord).where(SessionRecord.id_hash == lookup_hash(session_id)))

    def end_all(self, participant_id: str) -> int:
        """Sign out everywhere: every session of the participant ends; returns how many there were."""
        with self.db.session() as session:
            ended = session.execute(delete(SessionRecord).where(SessionRecord.participant_id == participant_id))
            return ended.rowcount or 0

    def count(self, participant_id: str) -> int:
        """The participant's live sessions (browsers signed in)."""
        horizon = self.clock()
        with self.db.session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(SessionRecord)
                    .where(SessionRecord.participant_id == participant_id, ~self._expired_clause(horizon))
                )
                or 0
            )

    def _expired(self, record: SessionRecord, moment: datetime) -> bool:
        return self._expired_at(record.created_at, record.last_seen_at, moment)

    def _expired_at(self, created_at: datetime, last_seen_at: datetime, moment: datetime) -> bool:
        return moment - last_seen_at > self.idle or moment - created_at > self.lifetime

    def _expired_clause(self, moment: datetime) -> ColumnElement[bool]:
        return or_(SessionRecord.last_seen_at < moment - self.idle, SessionRecord.created_at < moment - self.lifetime)

    def _forget_expired(self, session: Session, moment: datetime) -> None:
        """Expired sessions of anyone are deleted when a new one starts, so the table holds live ones only."""
        session.execute(delete(SessionRecord).where(self._expired_clause(moment)))
