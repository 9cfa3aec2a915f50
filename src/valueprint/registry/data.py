"""The registry domain's data duties: a person's issued tokens, consents and the audit log of reads.

Deleting the token rows is what makes every token of the person stop verifying here (they
count as revoked).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from valueprint.store.duties import DataDuty, DutyContext, register
from valueprint.store.models import AuditEntry, Consent, IssuedTokenRecord


def _tokens(context: DutyContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(
        select(IssuedTokenRecord).where(IssuedTokenRecord.participant_id == context.participant_id)
    )
    return [
        {
            "jti": t.jti,
            "issued_at": t.issued_at.isoformat(),
            "expires_at": t.expires_at.isoformat(),
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        for t in rows
    ]


def _consents(context: DutyContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(select(Consent).where(Consent.participant_id == context.participant_id))
    return [
        {
            "app_id": c.app_id,
            "scopes": c.scopes,
            "granted_at": c.granted_at.isoformat(),
            "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        }
        for c in rows
    ]


def _reads(context: DutyContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(select(AuditEntry).where(AuditEntry.participant_id == context.participant_id))
    return [
        {"app_id": r.app_id, "action": r.action, "purpose": r.purpose, "scopes": r.scopes, "at": r.at.isoformat()}
        for r in rows
    ]


register(DataDuty("tokens", tables=(IssuedTokenRecord,), export=_tokens))
register(DataDuty("consents", tables=(Consent,), export=_consents))
register(DataDuty("reads", tables=(AuditEntry,), export=_reads))
