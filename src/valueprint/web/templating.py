"""The HTML side's one templating module: the Jinja2 environment and the helpers every page route uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from valueprint import __version__
from valueprint.accounts.roles import Role
from valueprint.web import security

TEMPLATES_DIR = Path(__file__).parent / "templates"
CONSENT_REQUEST_KEYS = ("client_id", "scope", "redirect_uri", "state")
STATIC_DIR = Path(__file__).parent / "static"


def _session(request: Request) -> dict[str, Any]:
    """The session, or an empty dict where there is none (an error page rendered outside the middleware)."""
    return request.session if "session" in request.scope else {}


def _csrf(request: Request) -> str:
    return security.csrf_token(request) if "session" in request.scope else ""


def _signed_in(request: Request) -> bool:
    return security.signed_in(request) is not None


def _is_admin(request: Request) -> bool:
    viewer = security.signed_in(request)
    return viewer is not None and viewer.role == Role.ADMIN


def _pop_flash(request: Request) -> str | None:
    return _session(request).pop("flash", None)


def pop_session(request: Request, key: str) -> Any:
    """Take a value out of the session (None if absent): shown once."""
    return _session(request).pop(key, None)


def remember_consent_request(request: Request, query: dict[str, str]) -> None:
    """Keep an app's consent request while the person signs in or signs up (see `waiting_consent_request`)."""
    request.session[security.WAITING_CONSENT_REQUEST] = {k: v for k, v in query.items() if k in CONSENT_REQUEST_KEYS}


def waiting_consent_request(request: Request, *, take: bool = False) -> str | None:
    """The consent page an app's waiting request goes back to (always `/consent`: never an address from
    outside); `take` also forgets it (it was answered, or the person is sent there now)."""
    session, key = _session(request), security.WAITING_CONSENT_REQUEST
    query = session.pop(key, None) if take else session.get(key)
    if not isinstance(query, dict):
        return None
    return "/consent?" + urlencode({k: str(v) for k, v in query.items() if k in CONSENT_REQUEST_KEYS})


def make_templates() -> Jinja2Templates:
    """The package's templates (autoescaped), with the helpers every page uses."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.globals.update(
        csrf_token=_csrf, signed_in=_signed_in, is_admin=_is_admin, pop_flash=_pop_flash, version=__version__
    )
    return templates


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(request, name, context or {}, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message
