"""Who is calling: the participant's browser session (with CSRF), an app's API key, admins.

Browser requests carry a signed cookie (Starlette's SessionMiddleware) holding a random
session id, the CSRF token and at most a one-time notice: never the participant id or the
resume code. The id counts only while its server-side record lives (`accounts.sessions`), so
signing out ends it everywhere the cookie was copied. Every state-changing request so
authenticated must carry the session's CSRF token, as the `X-CSRF-Token` header (JSON API,
HTMX) or the `csrf_token` form field (plain forms). Apps authenticate with `Authorization: Bearer`.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from valueprint.accounts.roles import Role
from valueprint.accounts.sessions import SignedIn
from valueprint.errors import AuthError, ForbiddenError
from valueprint.registry.service import API_KEY_PREFIX
from valueprint.services import Services
from valueprint.store.models import App

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
WAITING_CONSENT_REQUEST = "consent_request"  # the cookie's key for an app's request while the person signs in
_UNRESOLVED = object()  # request.state.viewer not looked up yet (None means: looked up, nobody)


def services(request: Request) -> Services:
    """The app's services (built once by the app factory)."""
    return request.app.state.services


def start_session(request: Request, participant_id: str, shown_once: str | None = None) -> str:
    """Sign this browser in as the participant (a new session; any earlier one of this browser ends);
    returns the new CSRF token. `shown_once` is kept server-side for `take_shown_once`. An app's consent
    request waiting in this browser survives, so a person who signs up from an app's link gets back to it."""
    sessions = services(request).accounts.sessions
    sessions.end(request.session.get("sid"))
    waiting = request.session.get(WAITING_CONSENT_REQUEST)
    request.session.clear()
    if waiting is not None:
        request.session[WAITING_CONSENT_REQUEST] = waiting
    request.session["sid"] = sessions.start(participant_id, shown_once)
    request.session["csrf"] = secrets.token_urlsafe(24)
    request.state.viewer = _UNRESOLVED  # looked up again on next use
    return request.session["csrf"]


def end_session(request: Request) -> None:
    """Sign this browser out: its session record goes, so a copy of the cookie stops working too."""
    services(request).accounts.sessions.end(request.session.get("sid"))
    request.session.clear()


def take_shown_once(request: Request) -> str | None:
    return services(request).accounts.sessions.take_shown_once(request.session.get("sid"))


def signed_in(request: Request) -> SignedIn | None:
    """The live session behind this request's cookie (looked up once per request), or None."""
    if "session" not in request.scope:
        return None
    viewer = getattr(request.state, "viewer", _UNRESOLVED)
    if viewer is _UNRESOLVED:
        viewer = request.state.viewer = services(request).accounts.sessions.signed_in(request.session.get("sid"))
    return viewer


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


async def sent_csrf(request: Request) -> object:
    """The CSRF token the request carries: the X-CSRF-Token header, else a posted form's field."""
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf_token")
    return sent


def compare_csrf(request: Request, sent: object) -> None:
    """ForbiddenError unless `sent` is this session's CSRF token (safe methods need none)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ForbiddenError("missing or wrong CSRF token; reload the page and try again")


async def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    compare_csrf(request, await sent_csrf(request))


async def participant(request: Request) -> str:
    """The signed-in participant's id (CSRF-checked for state-changing requests).

    Async dependencies run on the event loop, so database work goes to the threadpool:
    a blocking call here would stall every other request."""
    viewer = await run_in_threadpool(signed_in, request)
    if viewer is None:
        raise AuthError("not signed in: start the questionnaire or sign in with your resume code")
    await check_csrf(request)
    return viewer.participant_id


class Caller:
    """Who is calling, found out on the thread that serves the request (see `caller`).

    `participant_id()` does what the `participant` dependency does (the session's participant, 401
    if none, then the CSRF check), inside the route's own unit of work: the look-up and the
    route's work share one transaction and one worker thread instead of two of each."""

    def __init__(self, request: Request, sent: object) -> None:
        self.request, self.sent = request, sent

    def participant_id(self) -> str:
        """Side effects: reads the session (and may record its use, see accounts.sessions)."""
        viewer = signed_in(self.request)
        if viewer is None:
            raise AuthError("not signed in: start the questionnaire or sign in with your resume code")
        compare_csrf(self.request, self.sent)
        return viewer.participant_id


async def caller(request: Request) -> Caller:
    """The caller of a hot route, unresolved: no database work on the event loop, no thread of its own.
    Only a posted form is read here (the CSRF token may be in it), as `check_csrf` does."""
    return Caller(request, None if request.method in SAFE_METHODS else await sent_csrf(request))


def require_role(*roles: Role) -> Callable[[Request], Awaitable[str]]:
    """A dependency: the signed-in participant's id if their role is one of `roles` (403 otherwise)."""

    async def signed_in_with_role(request: Request) -> str:
        participant_id = await participant(request)
        viewer = signed_in(request)  # already looked up by participant()
        if viewer is None or viewer.role not in roles:
            raise ForbiddenError(f"this page is for {' or '.join(role.plural for role in roles)}")
        return participant_id

    return signed_in_with_role


def current(request: Request) -> str | None:
    """The signed-in participant, or None (pages then send people to the welcome page); no CSRF check."""
    viewer = signed_in(request)
    return viewer.participant_id if viewer else None


async def form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the route can be a plain (threadpool) function."""
    return await request.form()


async def checked_form(request: Request) -> FormData:
    """The posted form of a request that has no signed-in participant yet, CSRF-checked."""
    await check_csrf(request)
    return await request.form()


async def app_client(request: Request) -> App:
    """Async, so that an app seen in the last few seconds costs no worker thread (FastAPI runs a sync
    dependency on one); only an app not in memory is looked up in the database, on a worker thread."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("send the app's API key as `Authorization: Bearer vpk_…`")
    registry = services(request).registry
    key = key.strip()
    return (key.startswith(API_KEY_PREFIX) and registry.known_app(key)) or await run_in_threadpool(
        registry.authenticate, key
    )


def client_address(request: Request) -> str:
    """The client's address, for rate limits: the peer's, unless the peer is a configured trusted proxy
    (VALUEPRINT_TRUSTED_PROXIES); then the nearest X-Forwarded-For hop that is not itself a trusted proxy.
    A client that sends its own X-Forwarded-For directly is keyed by its real address, whatever it claims."""
    peer = request.client.host if request.client else "unknown"
    trusted = services(request).settings.trusted_proxy_networks
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):  # each proxy appends the address it was reached from
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(host: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)
