"""The accounts domain's data duties: answers, the stored profile, custom instructions, sealed personal data and
browser sessions.

The participant row itself is the root of every duty: `Accounts.export` and
`Accounts.delete` handle it around the registered duties.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from valueprint.store.duties import DataDuty, DutyContext, register
from valueprint.store.models import Answer, CustomInstructions, Participant, PersonalData, Profile, SessionRecord
from valueprint.values.profile import ValueProfile


def participant_section(participant: Participant) -> dict[str, Any]:
    return {
        "id": participant.id,
        "role": participant.role,
        "handle": participant.handle,
        "created_at": participant.created_at.isoformat(),
        "completed_at": participant.completed_at.isoformat() if participant.completed_at else None,
        "boundaries": participant.boundaries,
    }


def _answers(context: DutyContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(
        select(Answer).where(Answer.participant_id == context.participant_id).order_by(Answer.id)
    )
    return [{"item_id": a.item_id, "value": a.value, "answered_at": a.answered_at.isoformat()} for a in rows]


def _profile(context: DutyContext) -> dict[str, Any] | None:
    stored = context.session.get(Profile, context.participant_id)
    return ValueProfile.from_json(stored.profile_json).model_dump(mode="json") if stored else None


def personal(context: DutyContext) -> dict[str, Any]:
    """The decrypted personal data ({} if none was given)."""
    row = context.session.get(PersonalData, context.participant_id)
    return context.sealer.open(row.sealed, context.participant_id) if row else {}


register(DataDuty("answers", tables=(Answer,), export=_answers))
register(DataDuty("profile", tables=(Profile,), export=_profile))


def _custom_instructions(context: DutyContext) -> dict[str, Any] | None:
    row = context.session.get(CustomInstructions, context.participant_id)
    return {"text": row.text, "updated_at": row.updated_at.isoformat()} if row else None


register(DataDuty("custom_instructions", tables=(CustomInstructions,), export=_custom_instructions))
register(DataDuty("personal_data", tables=(PersonalData,), export=personal))


def _sessions(context: DutyContext) -> list[dict[str, Any]]:
    """When each signed-in browser started and was last used (its id is a secret and is stored only as a hash)."""
    rows = context.session.scalars(
        select(SessionRecord)
        .where(SessionRecord.participant_id == context.participant_id)
        .order_by(SessionRecord.created_at)
    )
    return [{"signed_in_at": r.created_at.isoformat(), "last_used_at": r.last_seen_at.isoformat()} for r in rows]


register(DataDuty("sessions", tables=(SessionRecord,), export=_sessions))
