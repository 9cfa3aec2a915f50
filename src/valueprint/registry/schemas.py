"""The registry domain's JSON shapes: tokens, apps, consents, the audit of reads and consent-scoped views.

Shared by the `/v1` API and the CLI (`valueprint token issue`, `valueprint admin register-app`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from valueprint.tokens.jws import IssuedToken
from valueprint.values.profile import DimensionScore

if TYPE_CHECKING:
    from valueprint.registry.service import RegisteredApp
    from valueprint.store.models import App


class IssuedTokenView(BaseModel):
    """A freshly issued value token with its handle (timestamps in ISO 8601)."""

    token: str
    handle: str
    jti: str
    expires_at: str

    superseded_copies: list[str] = Field(
        default_factory=list,
        description="Apps that verified the token this one replaces: their copy no longer works here; "
        "give them the new token (or the handle, which stays the same).",
    )

    @classmethod
    def of(cls, issued: IssuedToken, superseded_copies: list[str] | None = None) -> IssuedTokenView:
        return cls(
            token=issued.token,
            handle=issued.handle,
            jti=issued.jti,
            expires_at=issued.expires_at.isoformat(),
            superseded_copies=superseded_copies or [],
        )


class BoundariesSaved(BaseModel):
    """Saved boundaries. The token and handle stay the same: reads through valueprint (by handle or
    token) return the new boundaries at once; only offline copies still carry the earlier ones."""

    boundaries: list[str]
    offline_copies: list[str] = Field(
        description="Apps that verified the current token: an offline check of their copy shows the earlier "
        "boundaries until the person issues a new token (POST /v1/me/token)."
    )


class TokenSummary(BaseModel):
    jti: str
    issued_at: str
    expires_at: str
    revoked: bool


class AppView(BaseModel):
    """A registered app a person can grant access to."""

    id: str
    name: str
    description: str
    owner: str = Field(description="Who runs the app, as the admin registered it.")
    scopes: list[str]


class AdminAppView(AppView):
    """An app as its admin sees it: with the return addresses its consent requests may use."""

    redirect_uris: list[str]

    @classmethod
    def of(cls, app: App) -> AdminAppView:
        return cls(
            id=app.id,
            name=app.name,
            description=app.description,
            owner=app.owner,
            scopes=app.scopes,
            redirect_uris=app.redirect_uris,
        )


class AppCredentials(BaseModel):
    """A newly registered app; `api_key` is shown only this once."""

    id: str
    name: str
    scopes: list[str]
    api_key: str | None

    @classmethod
    def of(cls, app: RegisteredApp) -> AppCredentials:
        return cls(id=app.id, name=app.name, scopes=app.scopes, api_key=app.api_key)


class ConsentGranted(BaseModel):
    app_id: str
    scopes: list[str]


class ReadView(BaseModel):
    """One read of the person's values by an app (or a refusal), as shown to the person."""

    app: str
    app_id: str | None
    action: str = Field(description="handle_lookup, token_verify, denied or revoked_token.")
    purpose: str = Field(
        description="What the read was for: profile (the app read it), chat (a chat reply personalised here) "
        "or rank (replies ranked for the person here)."
    )
    scopes: list[str]
    at: str


class PrecisView(BaseModel):
    handle: str | None
    space_version: str
    scopes: list[str]
    precis: str
    instructions: str | None = Field(
        description="The person's own custom instructions (their edited précis), to use instead of `precis`; "
        "only for an app the person allows to read every value group, else null."
    )


class WisdomCard(BaseModel):
    """One of the person's values cards from the moral graph (scope `wisdom`)."""

    context_id: int
    context: str = Field(description='The situation, as "when …".')
    title: str
    policies: list[str] = Field(description="What the person pays attention to there, in their words.")


class ScopedView(BaseModel):
    """A person's profile limited to the consented scopes: other dimensions are absent (and out of the précis)."""

    handle: str | None
    space_version: str
    scopes: list[str]
    dimensions: dict[str, DimensionScore]
    boundaries: list[str]
    precis: str
    instructions: str | None = Field(
        description="The person's own custom instructions (their edited précis), to use instead of `precis`; "
        "only for an app the person allows to read every value group, else null."
    )
    wisdom: list[WisdomCard] = Field(
        default_factory=list,
        description="The person's values cards (newest first), only within the `wisdom` scope; the précis then "
        'ends with them as sentences ("When someone is grieving, I attend to …").',
    )
