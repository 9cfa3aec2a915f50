"""Who is calling: the participant's session cookie (with CSRF), an app's API key, admins.

Browser requests are authenticated by a signed session cookie (Starlette's
SessionMiddleware). Every state-changing request so authenticated must carry the
session's CSRF token, as the `X-CSRF-Token` header (JSON API, HTMX) or the
`csrf_token` form field (plain forms). Apps authenticate with `Authorization: Bearer`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from valueprint.accounts.roles import Role
from valueprint.errors import AuthError, ForbiddenError
from valueprint.services import Services
from valueprint.store.models import App

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def services(request: Request) -> Services:
    """The app's services (built once by the app factory)."""
    return request.app.state.services


def start_session(request: Request, participant_id: str) -> str:
    """Bind the browser session to a participant; returns the new CSRF token."""
    request.session.clear()
    request.session["pid"] = participant_id
    request.session["csrf"] = secrets.token_urlsafe(24)
    return request.session["csrf"]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


async def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ForbiddenError("missing or wrong CSRF token; reload the page and try again")


async def participant(request: Request) -> str:
    """The signed-in participant's id (CSRF-checked for state-changing requests).

    Async dependencies run on the event loop, so database work goes to the threadpool:
    a blocking call here would stall every other request."""
    participant_id = await run_in_threadpool(services(request).accounts.require, request.session.get("pid"))
    await check_csrf(request)
    return participant_id


def require_role(*roles: Role) -> Callable[[Request], Awaitable[str]]:
    """A dependency: the signed-in participant's id if their role is one of `roles` (403 otherwise)."""

    async def signed_in_with_role(request: Request) -> str:
        participant_id = await participant(request)
        if await run_in_threadpool(services(request).accounts.role, participant_id) not in roles:
            raise ForbiddenError(f"this page is for {' or '.join(role.plural for role in roles)}")
        return participant_id

    return signed_in_with_role


def current(request: Request) -> str | None:
    """The signed-in participant, or None (pages then send people to the welcome page); no CSRF check."""
    participant_id = request.session.get("pid") if "session" in request.scope else None
    if participant_id and services(request).accounts.exists(participant_id):
        return participant_id
    return None


async def form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the route can be a plain (threadpool) function."""
    return await request.form()


async def checked_form(request: Request) -> FormData:
    """The posted form of a request that has no signed-in participant yet, CSRF-checked."""
    await check_csrf(request)
    return await request.form()


def app_client(request: Request) -> App:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("send the app's API key as `Authorization: Bearer vpk_…`")
    return services(request).registry.authenticate(key.strip())


def client_address(request: Request) -> str:
    """The peer address (behind a proxy, run uvicorn with --proxy-headers so this is the client's)."""
    return request.client.host if request.client else "unknown"
