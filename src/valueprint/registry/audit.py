"""What the audit log records: every read of a person's values by an app, and every refusal.

Stored as their string value in `audit_log.action` (what happened) and `audit_log.purpose` (what
the read was for) and shown to the person under "who read my values"; the admin statistics
count reads and refusals per app.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    HANDLE_LOOKUP = "handle_lookup"  # an app read the profile by handle
    TOKEN_VERIFY = "token_verify"  # an app verified a token and read the profile
    DENIED = "denied"  # an app asked, the person had consented to nothing it may read
    REVOKED_TOKEN = "revoked_token"  # an app presented a revoked (or superseded) token, or the handle of one


READ_ACTIONS = (AuditAction.HANDLE_LOOKUP, AuditAction.TOKEN_VERIFY)


class ReadPurpose(StrEnum):
    """Why an app read a person's values, stored in `audit_log.purpose` and named in the person's read log."""

    PROFILE = "profile"  # the app read the profile itself (`/v1/tokens/…`)
    CHAT = "chat"  # the app had a chat reply personalised here (`/v1/chat/completions`)
    RANK = "rank"  # the app had its candidate replies ranked for the person here (`/v1/rank`)
