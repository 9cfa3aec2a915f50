"""Issuing, revoking and reading value tokens for registered apps, within consent.

Scopes are the value-space groups (`schwartz`, `moral`, `politics`, `behaviour`)
plus `boundaries` and `wisdom` (the person's own values cards from the moral graph, in the view and as
sentences in its précis; `wisdom` is not a value group, so it neither gives nor needs any other scope).
An app is registered with the scopes it may ask for; a person grants it any subset (on "My data",
or when the app asks at `/consent`: see `consent_request`); a read returns only the intersection, and is
audit-logged with its purpose (`ReadPurpose`: the profile itself, a chat reply, a ranking).
The person's own custom instructions (their edited précis) are free text that may speak
to any value group, so a read includes them only for an app allowed every value group.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from cachetools import LRUCache, TTLCache
from sqlalchemy import bindparam, insert, select, update

from valueprint.errors import (
    AuthError,
    BadRequestError,
    ConsentRequestError,
    ForbiddenError,
    HandleError,
    InvalidScopeError,
    NotFoundError,
    RevokedTokenError,
    quoted,
)
from valueprint.registry.audit import AuditAction, ReadPurpose
from valueprint.registry.consent_request import MAX_STATE_CHARS, ConsentRequest, check_redirect_uris
from valueprint.registry.ratelimit import RateLimiter
from valueprint.settings import Settings
from valueprint.store.crypto import Sealer, lookup_hash
from valueprint.store.db import Database
from valueprint.store.models import (
    App,
    AuditEntry,
    Consent,
    CustomInstructions,
    IssuedTokenRecord,
    Participant,
    Profile,
)
from valueprint.tokens.codec import carries
from valueprint.tokens.handle import generate_handle, parse_handle
from valueprint.tokens.jws import IssuedToken, TokenVerifier, issue_token, peek_claims
from valueprint.tokens.keys import KeyStore
from valueprint.values.precis import precis
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

API_KEY_PREFIX = "vpk_"
APP_CACHE_S = 10.0
APP_CACHE_SIZE = 4096
VIEW_CACHE_SIZE = 2048
# a scoped view's dimensions, boundaries and précis: what it computes from the profile
ViewParts = tuple[dict[str, dict[str, Any]], list[str], str]
WISDOM = "wisdom"
# (participant id, précis) -> (their values cards, the précis with their sentences): installed by the services
Wisdom = Callable[[str, str], tuple[list[dict[str, Any]], str]]
NO_SUCH_HANDLE = "no such handle, or its owner has not consented to share their values with your app"


def _reading_statement() -> Any:
    """A person, whether they hold a token in force (a handle names the current token, so revoking it or
    letting it expire ends reads by handle too), their consent to app `:app_id`, profile and own instructions.
    Built once with bound parameters: building a statement costs more than running it on SQLite."""
    live_token = (
        select(IssuedTokenRecord.jti)
        .where(
            IssuedTokenRecord.participant_id == Participant.id,
            IssuedTokenRecord.revoked_at.is_(None),
            IssuedTokenRecord.expires_at > bindparam("now"),
        )
        .exists()
    )
    return (
        select(
            Participant.id.label("participant_id"),
            Participant.handle,
            live_token.label("live"),
            Consent.scopes.label("granted"),
            Consent.withdrawn_at,
            Profile.profile_json,
            CustomInstructions.text.label("instructions"),
        )
        .outerjoin(Consent, (Consent.participant_id == Participant.id) & (Consent.app_id == bindparam("app_id")))
        .outerjoin(Profile, Profile.participant_id == Participant.id)
        .outerjoin(CustomInstructions, CustomInstructions.participant_id == Participant.id)
    )


_READING_BY_HANDLE = _reading_statement().where(Participant.handle == bindparam("key"))
_READING_BY_ID = _reading_statement().where(Participant.id == bindparam("key"))
_AUDIT = insert(AuditEntry)
_APP_BY_KEY = select(App).where(App.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class CurrentToken:
    """The person's token in force, and whether it still carries their current profile."""

    token: str
    handle: str
    expires: date
    stale: bool  # the profile or boundaries changed since it was issued: a re-issue would carry them


@dataclass(frozen=True)
class RegisteredApp:
    id: str
    name: str
    scopes: list[str]
    api_key: str | None = None  # only when just created


class Registry:
    def __init__(self, db: Database, space: ValueSpace, keys: KeyStore, settings: Settings, sealer: Sealer) -> None:
        self.db, self.space, self.keys, self.settings, self.sealer = db, space, keys, settings, sealer
        self.scopes = (*(g.id for g in space.groups), "boundaries", WISDOM)
        self.wisdom: Wisdom | None = None  # the moral graph's cards of a person, for reads within `wisdom`
        self.lookups = RateLimiter(db, "handle-lookups", settings.handle_lookups_per_minute)
        self.misses = RateLimiter(db, "handle-misses", settings.handle_misses_per_minute)
        self._verifier: tuple[int, TokenVerifier] | None = None  # (key folder mtime, verifier)
        # Apps by API-key hash, kept briefly so that most calls skip a database round (and a worker thread).
        # An edit made by another worker shows here within APP_CACHE_S; no cached field decides access
        # (apps cannot be disabled, and their scopes never change), consent is read fresh on every call.
        self._known_apps: TTLCache[str, App] = TTLCache(maxsize=APP_CACHE_SIZE, ttl=APP_CACHE_S)
        self._known_apps_lock = threading.Lock()
        # Scoped views by what they are computed from (the stored profile's JSON and the scopes), so a
        # profile read again is not parsed and summarised again. Keyed by content, an entry can never be
        # stale: a changed or deleted profile has other JSON (or none) and its entry is simply never hit.
        self._views: LRUCache[tuple[str, tuple[str, ...]], ViewParts] = LRUCache(maxsize=VIEW_CACHE_SIZE)
        self._views_lock = threading.Lock()

    def check_scopes(self, scopes: object) -> list[str]:
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise BadRequestError(f"scopes must be a list drawn from {list(self.scopes)}")
        unknown = sorted(set(scopes) - set(self.scopes))
        if unknown:
            raise BadRequestError(f"unknown scopes {unknown}; known: {list(self.scopes)}")
        return sorted(set(scopes), key=self.scopes.index)

    # -- tokens --------------------------------------------------------------------

    def issue(self, participant_id: str, profile: ValueProfile, instructions: str | None = None) -> IssuedToken:
        """Issue a token for the current profile (and the person's own custom instructions, claim `ins`);
        earlier tokens of this person are revoked."""
        with self.db.session() as session:
            # The row lock (PostgreSQL) makes two concurrent issues agree on one handle and one live token.
            participant = session.get(Participant, participant_id, with_for_update=True)
            if participant is None:
                raise AuthError("this account no longer exists")
            if participant.handle is None:
                participant.handle = self._free_handle(session)
            issued = issue_token(
                profile,
                self.space,
                self.keys.ensure_signing_key(),
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                subject=participant_id,
                ttl_seconds=self.settings.token_ttl_days * 86400,
                handle=participant.handle,
                instructions=instructions,
            )
            moment = datetime.now(UTC)
            session.execute(
                update(IssuedTokenRecord)
                .where(IssuedTokenRecord.participant_id == participant_id, IssuedTokenRecord.revoked_at.is_(None))
                .values(revoked_at=moment)
            )
            session.add(
                IssuedTokenRecord(
                    jti=issued.jti,
                    participant_id=participant_id,
                    sealed=self._seal(issued.token, participant_id),
                    issued_at=moment,
                    expires_at=issued.expires_at,
                )
            )
            return issued

    def _seal(self, token: str, participant_id: str) -> str:
        return self.sealer.seal({"token": token}, participant_id)

    def token_text(self, record: IssuedTokenRecord) -> str | None:
        """The token a record holds, for its owner to see again (None for a legacy row not yet sealed)."""
        if record.sealed is None:
            return record.token
        return str(self.sealer.open(record.sealed, record.participant_id)["token"])

    def seal_plain_tokens(self) -> int:
        """Seal the plain-text tokens of rows written before migration 0003, clearing the plain text;
        run at start-up (a migration has no data key). Returns how many rows it sealed."""
        with self.db.session() as session:
            rows = list(session.scalars(select(IssuedTokenRecord).where(IssuedTokenRecord.token.is_not(None))))
            for row in rows:
                row.sealed, row.token = self._seal(str(row.token), row.participant_id), None
            return len(rows)

    @staticmethod
    def _free_handle(session: Any) -> str:
        while True:  # 44 bits: a collision is rare, but possible, so check
            handle = generate_handle()
            if session.scalar(select(Participant.id).where(Participant.handle == handle)) is None:
                return handle

    def current_token(self, participant_id: str) -> IssuedTokenRecord | None:
        with self.db.session() as session:
            return session.scalar(
                select(IssuedTokenRecord)
                .where(
                    IssuedTokenRecord.participant_id == participant_id,
                    IssuedTokenRecord.revoked_at.is_(None),
                    IssuedTokenRecord.expires_at > datetime.now(UTC),
                )
                .order_by(IssuedTokenRecord.issued_at.desc())
                .limit(1)
            )

    def current_token_state(
        self, participant_id: str, profile: ValueProfile, instructions: str | None = None
    ) -> CurrentToken | None:
        """The token in force (None if there is none), stale when it no longer carries `profile`
        and the person's own `instructions`."""
        record = self.current_token(participant_id)
        token = None if record is None else self.token_text(record)
        if record is None or token is None:
            return None
        claims = peek_claims(token)
        stale = not carries(claims, profile, self.space, instructions)
        return CurrentToken(token, claims["hdl"], record.expires_at.date(), stale)

    def tokens(self, participant_id: str) -> list[IssuedTokenRecord]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(IssuedTokenRecord)
                    .where(IssuedTokenRecord.participant_id == participant_id)
                    .order_by(IssuedTokenRecord.issued_at.desc())
                )
            )

    def copy_holders(self, participant_id: str) -> list[str]:
        """Names of the apps that verified the person's token in force (by token, since it was issued):
        they may keep an offline copy, which a re-issue stops from working here and which carries
        the profile and boundaries of its issue."""
        record = self.current_token(participant_id)
        if record is None:
            return []
        with self.db.session() as session:
            names = session.scalars(
                select(App.name)
                .join(AuditEntry, AuditEntry.app_id == App.id)
                .where(
                    AuditEntry.participant_id == participant_id,
                    AuditEntry.action == AuditAction.TOKEN_VERIFY.value,
                    AuditEntry.at >= record.issued_at,
                )
                .distinct()
            )
            return sorted(names)

    def revoke(self, participant_id: str, jti: str) -> None:
        with self.db.session() as session:
            record = session.get(IssuedTokenRecord, jti)
            if record is None or record.participant_id != participant_id:
                raise NotFoundError("no such token of yours")
            record.revoked_at = record.revoked_at or datetime.now(UTC)

    # -- apps ------------------------------------------------------------------------

    def register_app(
        self,
        name: str,
        scopes: object,
        description: str = "",
        owner: str = "",
        redirect_uris: object = (),
    ) -> RegisteredApp:
        """A new app with the scopes it may ask for, who runs it, and where its consent requests may return."""
        checked = self.check_scopes(scopes)
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        app = App(
            id="app_" + secrets.token_urlsafe(8),
            name=self._free_name(name),
            description=description[:2000],
            owner=owner.strip()[:200],
            redirect_uris=check_redirect_uris(redirect_uris),
            key_hash=lookup_hash(key),
            key_prefix=key[:10],
            scopes=checked,
        )
        with self.db.session() as session:
            session.add(app)
        return RegisteredApp(app.id, app.name, checked, api_key=key)

    def update_app(
        self,
        app_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        owner: str | None = None,
        redirect_uris: list[str] | None = None,
    ) -> App:
        """Change what people are shown about an app, or where its consent requests may return (None keeps it)."""
        with self.db.session() as session:
            app = session.get(App, app_id)
            if app is None:
                raise NotFoundError(f"no app {app_id!r}")
            if name is not None:
                app.name = self._free_name(name, app_id)
            if description is not None:
                app.description = description[:2000]
            if owner is not None:
                app.owner = owner.strip()[:200]
            if redirect_uris is not None:
                app.redirect_uris = check_redirect_uris(redirect_uris)
        with self._known_apps_lock:  # this worker sees the edit at once (others within APP_CACHE_S)
            self._known_apps.clear()
        return app

    def _free_name(self, name: object, app_id: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise BadRequestError("an app needs a name of 1-200 characters")
        if any(a.name.casefold() == name.strip().casefold() and a.id != app_id for a in self.apps()):
            raise BadRequestError(f"an app called {name.strip()!r} is registered already; people must tell apps apart")
        return name.strip()

    def apps(self) -> list[App]:
        with self.db.session() as session:
            return list(session.scalars(select(App).where(App.disabled_at.is_(None)).order_by(App.created_at)))

    def authenticate(self, api_key: str | None) -> App:
        """The app holding this API key (from memory if seen in the last APP_CACHE_S seconds)."""
        if not api_key or not api_key.startswith(API_KEY_PREFIX):
            raise AuthError("send the app's API key as `Authorization: Bearer vpk_…`")
        return self.known_app(api_key) or self._app_by_key(api_key)

    def known_app(self, api_key: str) -> App | None:
        """The app holding this API key if it was authenticated in the last APP_CACHE_S seconds; no I/O."""
        with self._known_apps_lock:
            return self._known_apps.get(lookup_hash(api_key))

    def _app_by_key(self, api_key: str) -> App:
        key_hash = lookup_hash(api_key)
        with self.db.session() as session:
            app = session.scalar(_APP_BY_KEY, {"key_hash": key_hash})
        if app is None or app.disabled_at is not None:
            raise AuthError("unknown or disabled API key")
        with self._known_apps_lock:
            self._known_apps[key_hash] = app
        return app

    # -- consent ------------------------------------------------------------------------

    def consent_request(self, client_id: object, redirect_uri: object, scope: object, state: object) -> ConsentRequest:
        """Check an app's consent request. `ConsentRequestError` (the app or the return address is not
        known: never redirect) comes before `InvalidScopeError` (the app is told, at its address)."""
        with self.db.session() as session:
            app = session.get(App, client_id) if isinstance(client_id, str) else None
        if app is None or app.disabled_at is not None:
            raise ConsentRequestError("this link names no registered app, so valueprint cannot send you back to it")
        if not isinstance(redirect_uri, str) or redirect_uri not in app.redirect_uris:
            raise ConsentRequestError(
                f"the return address in this link is not registered for {app.name}; you were not sent anywhere"
            )
        if state is not None and (not isinstance(state, str) or len(state) > MAX_STATE_CHARS):
            raise ConsentRequestError(f"the link's state is longer than {MAX_STATE_CHARS} characters")
        return ConsentRequest(app, redirect_uri, self._requested_scopes(app, scope), state)

    def _requested_scopes(self, app: App, scope: object) -> list[str]:
        asked = scope.split() if isinstance(scope, str) else []
        if not asked:
            raise InvalidScopeError(f"ask for at least one of these scopes: {', '.join(app.scopes)}")
        unknown = sorted(set(asked) - set(app.scopes))
        if unknown:
            refused = quoted(", ".join(unknown), limit=120)
            raise InvalidScopeError(f"{app.name} may not ask for {refused}; it may ask for {', '.join(app.scopes)}")
        return sorted(set(asked), key=self.scopes.index)

    def scope_in_words(self, scope: str) -> tuple[str, str]:
        """(title, what an app with this scope reads) in plain words, for the consent page."""
        if scope == "boundaries":
            return "Your boundaries", "The things you told us an AI must never do or talk about."
        if scope == WISDOM:
            return (
                "Your values cards",
                "The values cards you wrote in the moral graph: in each situation, what you pay attention to "
                "when you choose well.",
            )
        group = next(g for g in self.space.groups if g.id == scope)
        parts = ", ".join(d.label for d in self.space.dimensions if d.group == scope)
        return group.label, f"{group.description} Your scores on: {parts}."

    def grant_more(self, participant_id: str, app_id: str, scopes: list[str]) -> list[str]:
        """Add `scopes` to what this app may read (a consent request: nothing granted before is taken away)."""
        before = self.consents(participant_id).get(app_id, [])
        return self.grant(participant_id, app_id, [*before, *scopes])

    def grant(self, participant_id: str, app_id: str, scopes: object) -> list[str]:
        with self.db.session() as session:
            app = session.get(App, app_id)
            if app is None or app.disabled_at is not None:
                raise NotFoundError(f"no app {app_id!r}")
            checked = [s for s in self.check_scopes(scopes) if s in app.scopes]
            consent = session.get(Consent, (participant_id, app_id))
            if consent is None:
                session.add(Consent(participant_id=participant_id, app_id=app_id, scopes=checked))
            else:
                consent.scopes, consent.granted_at, consent.withdrawn_at = checked, datetime.now(UTC), None
            return checked

    def withdraw(self, participant_id: str, app_id: str) -> None:
        with self.db.session() as session:
            consent = session.get(Consent, (participant_id, app_id))
            if consent is not None and consent.withdrawn_at is None:
                consent.withdrawn_at = datetime.now(UTC)

    def consents(self, participant_id: str) -> dict[str, list[str]]:
        """app id -> granted scopes, for consents in force."""
        with self.db.session() as session:
            rows = session.scalars(
                select(Consent).where(Consent.participant_id == participant_id, Consent.withdrawn_at.is_(None))
            )
            return {row.app_id: list(row.scopes) for row in rows}

    def reads(self, participant_id: str, limit: int = 200) -> list[tuple[AuditEntry, str]]:
        """Who read my values, when: (entry, app name), newest first."""
        with self.db.session() as session:
            rows = session.execute(
                select(AuditEntry, App.name)
                .outerjoin(App, App.id == AuditEntry.app_id)
                .where(AuditEntry.participant_id == participant_id)
                .order_by(AuditEntry.at.desc())
                .limit(limit)
            )
            return [(entry, name or "deleted app") for entry, name in rows]

    # -- reads by apps ------------------------------------------------------------------

    def _reading(self, session: Any, app: App, *, handle: str | None = None, participant_id: str | None = None) -> Any:
        """Everything one read needs, in one statement (see `_READING`). None if no such person."""
        query, key = (_READING_BY_HANDLE, handle) if handle is not None else (_READING_BY_ID, participant_id)
        bound = {"key": key, "app_id": app.id, "now": datetime.now(UTC)}
        return session.connection().execute(query, bound).one_or_none()  # Core: no ORM loading needed

    def read_by_handle(self, app: App, typed_handle: str, purpose: ReadPurpose = ReadPurpose.PROFILE) -> dict[str, Any]:
        """The consented view behind a handle. An unknown handle and a person who has not consented to this
        app get the same 404, and both count as refused look-ups: an app learns nothing about who exists
        (the person still sees the refused read in their log)."""
        refused = "look-ups of unknown handles or of people who did not consent"
        with self.db.session():  # limits, read and audit in one unit of work: one commit per look-up
            self.misses.check(app.id, refused)
            self.lookups.hit(app.id, "handle look-ups")
            view = self._view_by_handle(app, typed_handle, purpose)
            if view is None:
                self.misses.hit(app.id, refused)  # counted: the unit commits, the 404 is raised after it
        if view is None:
            raise NotFoundError(NO_SUCH_HANDLE)
        return view

    def _view_by_handle(self, app: App, typed_handle: str, purpose: ReadPurpose) -> dict[str, Any] | None:
        try:
            handle = parse_handle(typed_handle)
        except HandleError:
            return None
        with self.db.session() as session:
            reading = self._reading(session, app, handle=handle)
            if reading is None:
                return None
            if not reading.live:  # a revoked handle reveals nothing either
                # shown to the person: an app still uses the handle of a revoked token
                session.add(
                    AuditEntry(
                        participant_id=reading.participant_id, app_id=app.id, action=AuditAction.REVOKED_TOKEN.value
                    )
                )
                return None
            return self._scoped_read(session, app, reading, AuditAction.HANDLE_LOOKUP, purpose)

    def verifier(self) -> TokenVerifier:
        """A verifier for the current keys, rebuilt only when the key folder changes (a key
        created or retired, by this process or by `valueprint keys …`)."""
        stamp = self.keys.directory.stat().st_mtime_ns if self.keys.directory.exists() else 0
        if self._verifier is None or self._verifier[0] != stamp:
            verifier = TokenVerifier(
                self.keys.jwks(),
                self.space,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                leeway_s=self.settings.verify_leeway_s,
            )
            self._verifier = (stamp, verifier)
        return self._verifier[1]

    def read_by_token(self, app: App, token: object, purpose: ReadPurpose = ReadPurpose.PROFILE) -> dict[str, Any]:
        verified = self.verifier().verify(token)
        with self.db.session() as session:
            record = session.get(IssuedTokenRecord, verified.jti)
            revoked = record is None or record.revoked_at is not None
            if record is not None and revoked:  # shown to the person: someone still holds an old token
                session.add(
                    AuditEntry(
                        participant_id=record.participant_id,
                        app_id=app.id,
                        action=AuditAction.REVOKED_TOKEN.value,
                        purpose=purpose.value,
                    )
                )
            action = AuditAction.TOKEN_VERIFY
            if revoked:
                view = None
            else:
                reading = self._reading(session, app, participant_id=record.participant_id)
                view = self._scoped_read(session, app, reading, action, purpose)
        if revoked:
            raise RevokedTokenError("this token was revoked by its owner (or replaced by a newer one)")
        return self._allowed(view)

    def read(self, app: App, token_or_handle: str, purpose: ReadPurpose = ReadPurpose.PROFILE) -> dict[str, Any]:
        """A consent-scoped read by a value token (a compact JWS) or a four-word handle, logged with its purpose."""
        if token_or_handle.count(".") == 2:
            return self.read_by_token(app, token_or_handle, purpose)
        return self.read_by_handle(app, token_or_handle, purpose)

    def handle_of(self, participant_id: str) -> str | None:
        """The person's four-word handle (None until their first token)."""
        with self.db.session() as session:
            return session.scalar(select(Participant.handle).where(Participant.id == participant_id))

    def participant_of(self, handle: str) -> str | None:
        """The participant behind a handle the registry has just resolved (for their adapter)."""
        with self.db.session() as session:
            return session.scalar(select(Participant.id).where(Participant.handle == handle))

    @staticmethod
    def _allowed(view: dict[str, Any] | None) -> dict[str, Any]:
        """Raise for a refused read only after its audit entry is committed."""
        if view is None:
            raise ForbiddenError("this person has not consented to share their values with your app")
        return view

    def _scoped_read(
        self, session: Any, app: App, reading: Any, action: AuditAction, purpose: ReadPurpose
    ) -> dict[str, Any] | None:
        """The consented view of a `_reading` (None if nothing is consented); the read or refusal is audit-logged."""
        granted = [] if reading.granted is None or reading.withdrawn_at is not None else reading.granted
        scopes = [s for s in granted if s in app.scopes]
        logged = {
            "participant_id": reading.participant_id,
            "app_id": app.id,
            "action": (action if scopes else AuditAction.DENIED).value,
            "purpose": purpose.value,
            "scopes": scopes,
        }
        session.connection().execute(_AUDIT, logged)  # every read is logged: a Core insert, without the ORM's flush
        if not scopes:
            return None
        if reading.profile_json is None:
            raise NotFoundError("this person has no profile yet")
        key = (reading.profile_json, tuple(scopes))
        with self._views_lock:
            parts = self._views.get(key)
        if parts is None:
            parts = self._view_parts(ValueProfile.from_json(reading.profile_json), scopes)
            with self._views_lock:
                self._views[key] = parts
        return self._with_wisdom(self._assembled(parts, reading.handle, scopes, reading.instructions), reading)

    def _with_wisdom(self, view: dict[str, Any], reading: Any) -> dict[str, Any]:
        """Within the `wisdom` scope: the person's values cards, and their sentences in the précis."""
        if WISDOM in view["scopes"] and self.wisdom is not None:
            view["wisdom"], view["precis"] = self.wisdom(reading.participant_id, view["precis"])
        return view

    def reads_every_group(self, scopes: list[str]) -> bool:
        """Whether these scopes cover every value group (what the person's free text may speak to)."""
        return {g.id for g in self.space.groups} <= set(scopes)

    def scoped_view(
        self, profile: ValueProfile, handle: str | None, scopes: list[str], instructions: str | None = None
    ) -> dict[str, Any]:
        """The profile limited to `scopes`: other dimensions are absent (and out of the précis); the
        person's own `instructions` only for scopes covering every value group, else None."""
        return self._assembled(self._view_parts(profile, scopes), handle, scopes, instructions)

    def _view_parts(self, profile: ValueProfile, scopes: list[str]) -> ViewParts:
        """What a scoped view computes from the profile: its visible dimensions, boundaries and précis."""
        groups = set(scopes)
        dimensions = {
            dim.id: profile.scores[dim.id].model_dump() for dim in self.space.dimensions if dim.group in groups
        }
        sds = np.array(
            [profile.scores[d].sd if self.space.dimension(d).group in groups else 1.0 for d in self.space.ids]
        )
        boundaries = list(profile.boundaries) if "boundaries" in groups else []
        visible = ValueProfile.from_arrays(self.space, profile.means(self.space), sds, boundaries=boundaries)
        return dimensions, boundaries, precis(visible, self.space, self.settings.precis_min_confidence_sd)

    def _assembled(
        self, parts: ViewParts, handle: str | None, scopes: list[str], instructions: str | None
    ) -> dict[str, Any]:
        dimensions, boundaries, precis_text = parts
        return {  # fresh containers: a caller may change its view without touching the (cached) parts
            "handle": handle,
            "space_version": self.space.version,
            "scopes": scopes,
            "dimensions": {dim: dict(score) for dim, score in dimensions.items()},
            "boundaries": list(boundaries),
            "precis": precis_text,
            "instructions": instructions if self.reads_every_group(scopes) else None,
            "wisdom": [],
        }
