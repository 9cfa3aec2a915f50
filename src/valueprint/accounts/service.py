"""Participant accounts on the database.

A participant is a random pseudonymous id. They sign back in with a six-word resume
code shown once; the code is stored only as an Argon2 hash, found through a 32-bit
SHA-256 prefix (many codes share a prefix, so the prefix alone reveals nothing
useful). Answers and the profile are value data; demographics and contact are
personal data, sealed with AES-GCM in their own table.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from valueprint.accounts.data import participant_section, personal
from valueprint.accounts.roles import Role
from valueprint.accounts.sessions import Sessions
from valueprint.errors import AuthError, BadRequestError, ConfigError, HandleError, NotFoundError
from valueprint.registry.ratelimit import RateLimiter
from valueprint.store import duties
from valueprint.store.crypto import Sealer, lookup_hash
from valueprint.store.db import Database
from valueprint.store.duties import DutyContext
from valueprint.store.models import Answer, Base, CustomInstructions, Participant, PersonalData, Profile
from valueprint.tokens.handle import generate_words, parse_handle
from valueprint.values import adaptive
from valueprint.values.answers import Answers, parse_boundaries, parse_demographics, record
from valueprint.values.bank import Item
from valueprint.values.incremental import PosteriorMemo, answers_key
from valueprint.values.precis import MAX_INSTRUCTIONS_CHARS, precis
from valueprint.values.profile import ValueProfile
from valueprint.values.scoring import Posterior, ScoringModel

RESUME_WORDS = 6
LOOKUP_HEX = 8
EXPORT_FORMAT = "valueprint.export/1"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_instructions(text: object) -> str:
    """A person's own custom instructions, tidied (line endings, control characters, outer blanks);
    BadRequestError when empty or longer than MAX_INSTRUCTIONS_CHARS."""
    if not isinstance(text, str):
        raise BadRequestError("custom instructions are text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequestError("custom instructions must be valid Unicode text") from None
    cleaned = CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not cleaned:
        raise BadRequestError("the text is empty: to go back to the generated précis, reset it instead")
    if len(cleaned) > MAX_INSTRUCTIONS_CHARS:
        raise BadRequestError(
            f"custom instructions are at most {MAX_INSTRUCTIONS_CHARS} characters; this text has {len(cleaned)}"
        )
    return cleaned


def require_covered() -> None:
    """Refuse to export or delete while a table of participant data has no registered duty:
    a partial export or deletion would silently break the promise made to the person."""
    gaps = duties.uncovered(Base.metadata)
    if gaps:
        raise ConfigError(f"participant data without a registered data duty (valueprint.store.duties): {gaps}")


def resume_lookup(code: str) -> str:
    return lookup_hash(code)[:LOOKUP_HEX]


@dataclass(frozen=True)
class NewParticipant:
    id: str
    resume_code: str


@dataclass(frozen=True)
class OwnInstructions:
    """What AI apps are told about a person: their own text when they edited it, else the generated précis."""

    text: str
    edited: bool
    generated: str
    max_chars: int = MAX_INSTRUCTIONS_CHARS


class Respondent(Protocol):
    """The participant columns answering reads: an ORM `Participant`, or a plain row of these columns."""

    id: str
    boundaries: list[str] | None
    stop_sd: float
    created_at: datetime
    completed_at: datetime | None


RESPONDENT_COLUMNS = (
    Participant.id,
    Participant.boundaries,
    Participant.stop_sd,
    Participant.created_at,
    Participant.completed_at,
)


ANSWERS, PROFILES = Answer.__table__, Profile.__table__
# The answering path's statements, built once (SQLAlchemy reuses their compiled form) and run on the unit
# of work's connection: plain rows, no ORM bookkeeping, for the busiest request there is. An UPDATE
# without .values() sets the columns named by its parameters (value and answered_at; profile_json and
# updated_at); "participant" and "item" are bound in its WHERE clause.
LOCK_RESPONDENT = select(*RESPONDENT_COLUMNS).where(Participant.id == bindparam("participant")).with_for_update()
ANSWER_ROWS = select(Answer.item_id, Answer.value, Answer.answered_at).where(
    Answer.participant_id == bindparam("participant")
)
CHANGE_ANSWER = update(ANSWERS).where(
    ANSWERS.c.participant_id == bindparam("participant"), ANSWERS.c.item_id == bindparam("item")
)
WRITE_PROFILE = update(PROFILES).where(PROFILES.c.participant_id == bindparam("participant"))


class ResumePoint(StrEnum):
    """Where a returning person carries on."""

    DEMOGRAPHICS = "demographics"  # the optional questions about them, until answered or skipped
    QUESTIONS = "questions"  # the questionnaire (which says when it is done)


@dataclass(frozen=True)
class NextQuestion:
    item: Item | None  # None: the questionnaire can stop
    answered: int
    progress: float  # questions asked out of asked plus still to ask; 1 only when done
    remaining: int = 0  # questions still to ask if none is skipped


class Accounts:
    def __init__(
        self,
        db: Database,
        model: ScoringModel,
        sealer: Sealer,
        *,
        data_dir: Path,
        stop_sd: float = 0.3,
        sign_ins_per_minute: int = 20,
        sign_ups_per_minute: int = 60,
        session_idle: timedelta = timedelta(hours=72),
        session_lifetime: timedelta = timedelta(days=30),
    ) -> None:
        self.db, self.model, self.sealer, self.stop_sd = db, model, sealer, stop_sd
        self.data_dir = data_dir
        self.hasher = PasswordHasher()
        self.posteriors = PosteriorMemo(model)  # re-scoring after an answer starts from the last mean
        self.sign_in_attempts = RateLimiter(db, "sign-ins", sign_ins_per_minute)
        self.sign_ups = RateLimiter(db, "sign-ups", sign_ups_per_minute)
        self.sessions = Sessions(db, sealer, idle=session_idle, lifetime=session_lifetime)

    # -- identity -----------------------------------------------------------------

    def create(self, role: Role = Role.PARTICIPANT) -> NewParticipant:
        code = generate_words(RESUME_WORDS)
        participant_id = "p_" + secrets.token_urlsafe(12)
        secret_hash = f"{resume_lookup(code)}${self.hasher.hash(code)}"  # slow on purpose: outside the session
        with self.db.session() as session:
            session.add(
                Participant(
                    id=participant_id,
                    role=Role(role).value,
                    secret_hash=secret_hash,
                    stop_sd=self.stop_sd,
                )
            )
        return NewParticipant(participant_id, code)

    def sign_in(self, typed_code: str, source: str = "") -> str:
        """The participant id for a resume code; AuthError if it matches nobody.

        Attempts are rate-limited per `source` (the client address), on top of the
        66-bit codes and Argon2's cost, against guessing."""
        self.sign_in_attempts.hit(source, "sign-in attempts")
        try:
            code = parse_handle(typed_code, RESUME_WORDS)
        except HandleError as error:
            raise AuthError(f"a resume code is the six words shown when you started ({error})") from None
        prefix = resume_lookup(code) + "$"
        with self.db.session() as session:  # read the few candidates, then verify (slow) without the database
            candidates = session.execute(
                select(Participant.id, Participant.secret_hash).where(Participant.secret_hash.startswith(prefix))
            ).all()
        for participant_id, secret_hash in candidates:
            try:
                self.hasher.verify(secret_hash.removeprefix(prefix), code)
                return participant_id
            except (VerificationError, InvalidHashError):
                continue
        raise AuthError("no account has that resume code; check the six words")

    def get(self, session: Session, participant_id: str, for_update: bool = False) -> Participant:
        """The participant; `for_update` locks the row (PostgreSQL) so one person's writes run one at a time."""
        participant = session.get(Participant, participant_id, with_for_update=for_update)
        if participant is None:
            raise AuthError("this account no longer exists; start again")
        return participant

    # -- answers and profile ----------------------------------------------------------

    def _answer_rows(self, session: Session, participant_id: str) -> list[Row[Any]]:
        """(item_id, value, answered_at) of each stored answer (plain rows: no ORM objects to build)."""
        return list(session.connection().execute(ANSWER_ROWS, {"participant": participant_id}))

    def _lock_respondent(self, session: Session, participant_id: str) -> Respondent:
        """The participant's columns that answering needs, their row locked (PostgreSQL) so that one
        person's answers are scored one at a time; a plain row, not an ORM object."""
        row = session.connection().execute(LOCK_RESPONDENT, {"participant": participant_id}).first()
        if row is None:
            raise AuthError("this account no longer exists; start again")
        return row  # type: ignore[return-value]  # a Row has the columns as attributes

    def _answers_from(self, participant: Respondent, rows: list[Row[Any]]) -> Answers:
        answers = Answers(boundaries=list(participant.boundaries or []))
        for item_id, value, _ in rows:
            if self.model.bank.get(item_id) is not None:
                record(answers, self.model.bank, item_id, value)
        return answers

    def _answers(self, session: Session, participant: Respondent) -> Answers:
        return self._answers_from(participant, self._answer_rows(session, participant.id))

    def answers(self, participant_id: str) -> Answers:
        with self.db.session() as session:
            return self._answers(session, self.get(session, participant_id))

    def record_answer(self, participant_id: str, item_id: str, value: object) -> NextQuestion:
        """Validate and store one answer (None = skip), re-score, and say what comes next.

        One unit of work of five statements (lock the participant, read their answers, write the
        answer, write the profile, commit): the time since the previous answer and whether this
        item was answered before come from the answers read, not from more queries."""
        with self.db.session() as session:
            participant = self._lock_respondent(session, participant_id)
            rows = self._answer_rows(session, participant_id)
            answers = self._answers_from(participant, rows)
            before = answers_key(answers)
            record(answers, self.model.bank, item_id, value)  # raises AnswerError naming the item
            stored = answers.value_of(item_id)
            moment = datetime.now(UTC)
            last = max((answered_at for _, _, answered_at in rows), default=None)
            since = (moment - (last or participant.created_at)).total_seconds()
            written = {"value": stored, "answered_at": moment}
            if any(row_item == item_id for row_item, _, _ in rows):
                session.connection().execute(CHANGE_ANSWER, {"participant": participant_id, "item": item_id} | written)
            else:
                session.connection().execute(
                    insert(ANSWERS), {"participant_id": participant_id, "item_id": item_id, "seconds": since} | written
                )
            self._store_profile(session, participant, answers, self.posteriors.posterior(answers, before))
            return self._mark_completed(session, participant, self._next(participant, answers))

    def _store_profile(
        self, session: Session, participant: Respondent, answers: Answers, posterior: Posterior | None = None
    ) -> ValueProfile:
        """Score (or take the posterior already computed from `answers`) and write the profile row."""
        profile = self.model.profile_of(answers, posterior or self.posteriors.posterior(answers))
        columns = {"profile_json": profile.to_json(), "updated_at": datetime.now(UTC)}
        connection = session.connection()
        if not connection.execute(WRITE_PROFILE, {"participant": participant.id} | columns).rowcount:
            connection.execute(insert(PROFILES), {"participant_id": participant.id} | columns)
        return profile

    @staticmethod
    def _mark_completed(session: Session, participant: Respondent, step: NextQuestion) -> NextQuestion:
        """The questionnaire is complete once the stopping rule first says so (only writes call this)."""
        if step.item is None and participant.completed_at is None:
            session.execute(
                update(Participant).where(Participant.id == participant.id).values(completed_at=datetime.now(UTC))
            )
        return step

    def _next(self, participant: Respondent, answers: Answers) -> NextQuestion:
        index, left = adaptive.plan(self.model, answers, participant.stop_sd)
        return NextQuestion(
            item=None if index is None else self.model.bank.items[index],
            answered=len(answers.seen),
            progress=adaptive.progress(self.model, answers, participant.stop_sd, left),
            remaining=left,
        )

    def next_question(self, participant_id: str) -> NextQuestion:
        """What to ask next (a read: completion is recorded by the answer that reaches it)."""
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            return self._next(participant, self._answers(session, participant))

    def previous_item(self, participant_id: str, before: str | None = None) -> str | None:
        """The item seen just before `before` in the order first answered (or skipped), or the last
        one seen when `before` is None or not seen yet: where Back goes. Changing an answer keeps
        its place in this order."""
        with self.db.session() as session:
            self.get(session, participant_id)
            order = [
                item_id
                for item_id in session.scalars(
                    select(Answer.item_id).where(Answer.participant_id == participant_id).order_by(Answer.id)
                )
                if self.model.bank.get(item_id) is not None
            ]
        end = order.index(before) if before in order else len(order)
        return order[end - 1] if end > 0 else None

    def refine(self, participant_id: str, dimensions: int = 3, floor: float = 0.1) -> NextQuestion:
        """Keep asking about the `dimensions` least certain dimensions only: the stopping SD
        drops to just above the next most uncertain dimension, so a few questions follow."""
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            answers = self._answers(session, participant)
            sds = np.sort(self.posteriors.posterior(answers).sd)[::-1]
            target = max(floor, float(sds[dimensions]) + 1e-6)
            participant.stop_sd = min(participant.stop_sd, target)  # refining never ends a questionnaire early
            return self._mark_completed(session, participant, self._next(participant, answers))

    def profile(self, participant_id: str) -> ValueProfile:
        """The profile scored from the current answers (a read: nothing is stored)."""
        with self.db.session() as session:
            answers = self._answers(session, self.get(session, participant_id))
            return self.model.profile_of(answers, self.posteriors.posterior(answers))

    def save_profile(self, participant_id: str) -> ValueProfile:
        """Score the current answers and store the profile (what apps read through the registry); returns it."""
        with self.db.session() as session:
            participant = self.get(session, participant_id, for_update=True)
            return self._store_profile(session, participant, self._answers(session, participant))

    def set_boundaries(self, participant_id: str, boundaries: object) -> list[str]:
        parsed = parse_boundaries(self.model.space, boundaries)
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            participant.boundaries = parsed
            self._store_profile(session, participant, self._answers(session, participant))
        return parsed

    # -- custom instructions ------------------------------------------------------------

    def instructions(self, participant_id: str) -> str | None:
        """The person's own wording of their précis, or None while they use the generated one."""
        with self.db.session() as session:
            self.get(session, participant_id)
            row = session.get(CustomInstructions, participant_id)
            return row.text if row else None

    def own_instructions(self, participant_id: str, max_sd: float) -> OwnInstructions:
        """The text in force beside the précis generated from the current profile (a read)."""
        generated = precis(self.profile(participant_id), self.model.space, max_sd)
        edited = self.instructions(participant_id)
        return OwnInstructions(edited or generated, edited is not None, generated)

    def set_instructions(self, participant_id: str, text: object) -> str:
        """Store the person's edited précis (tidied; at most MAX_INSTRUCTIONS_CHARS); returns what was stored."""
        cleaned = clean_instructions(text)
        with self.db.session() as session:
            self.get(session, participant_id, for_update=True)
            row = session.get(CustomInstructions, participant_id)
            if row is None:
                session.add(CustomInstructions(participant_id=participant_id, text=cleaned))
            else:
                row.text, row.updated_at = cleaned, datetime.now(UTC)
        return cleaned

    def reset_instructions(self, participant_id: str) -> None:
        """Back to the generated précis: the edited text is deleted."""
        with self.db.session() as session:
            self.get(session, participant_id, for_update=True)
            session.execute(delete(CustomInstructions).where(CustomInstructions.participant_id == participant_id))

    # -- personal data ------------------------------------------------------------------

    def set_personal(self, participant_id: str, demographics: object, contact: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"demographics": parse_demographics(self.model.bank, demographics)}
        if contact:
            data["contact"] = contact[:200]
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            participant.demographics_done = True
            row = session.get(PersonalData, participant_id)
            sealed = self.sealer.seal(data, participant_id)
            if row is None:
                session.add(PersonalData(participant_id=participant_id, sealed=sealed))
            else:
                row.sealed, row.updated_at = sealed, datetime.now(UTC)
        return data

    def personal(self, session: Session, participant_id: str) -> dict[str, Any]:
        return personal(self._duty_context(session, participant_id))

    def personal_data(self, participant_id: str) -> dict[str, Any]:
        """The decrypted personal data ({} if none was given)."""
        with self.db.session() as session:
            return self.personal(session, participant_id)

    def resume_point(self, participant_id: str) -> ResumePoint:
        """Demographics first (until answered or skipped, or once any question was seen), then the questions."""
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            if participant.demographics_done or self._answers(session, participant).seen:
                return ResumePoint.QUESTIONS
            return ResumePoint.DEMOGRAPHICS

    def demographics_done(self, participant_id: str) -> bool:
        with self.db.session() as session:
            return self.get(session, participant_id).demographics_done

    # -- my data --------------------------------------------------------------------------

    def export(self, participant_id: str) -> dict[str, Any]:
        """Everything stored about this participant, decrypted, as JSON-ready data: the account,
        then every domain's registered data duty (`valueprint.store.duties`)."""
        require_covered()
        with self.db.session() as session:
            participant = self.get(session, participant_id)
            context = self._duty_context(session, participant_id)
            return {"format": EXPORT_FORMAT, "participant": participant_section(participant)} | duties.export(context)

    def delete(self, participant_id: str) -> None:
        """Delete the account and everything derived from it: every domain's registered rows, then
        their files (a personal adapter). Tokens are deleted with it, so they can no longer be
        verified as valid by this registry (they count as revoked)."""
        require_covered()
        with self.db.session() as session:
            self.get(session, participant_id)
            duties.delete_rows(self._duty_context(session, participant_id))
            session.execute(delete(Participant).where(Participant.id == participant_id))
        duties.erase_files(self.data_dir, participant_id)

    def _duty_context(self, session: Session, participant_id: str) -> DutyContext:
        return DutyContext(session, participant_id, self.sealer, self.data_dir)

    def exists(self, participant_id: str) -> bool:
        with self.db.session() as session:
            return session.get(Participant, participant_id) is not None

    def role(self, participant_id: str) -> Role:
        with self.db.session() as session:
            participant = session.get(Participant, participant_id)
            if participant is None:
                raise NotFoundError("no such participant")
            return Role(participant.role)
