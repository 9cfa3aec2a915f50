"""The consent page an app sends a person to: who the app is, what it will read, grant or refuse.

`GET /consent?client_id=…&scope=…&redirect_uri=…&state=…` (see `valueprint.registry.consent_request`).
An unknown app or an unregistered return address gets an error page and no redirect; scopes the
app may not ask for send the person back with `error=invalid_scope`. A visitor who is not signed
in is asked to sign in first, and comes back to the same request; one who has no account yet signs up,
answers the questions, and finds the request waiting on their result page. The decision is a CSRF-checked
form; a grant returns `handle`, `scope` and `state`, a refusal `error=access_denied` and `state`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.errors import ConsentRequestError, InvalidScopeError
from valueprint.registry.consent_request import ConsentRequest, answer_to, origin
from valueprint.services import Services
from valueprint.web.deps import CurrentParticipant, Form, Participant, ServicesDep
from valueprint.web.headers import SECURITY_HEADERS
from valueprint.web.templating import redirect, remember_consent_request, render, waiting_consent_request

router = APIRouter(include_in_schema=False)


def _asked(s: Services, client_id: object, redirect_uri: object, scope: object, state: object) -> ConsentRequest:
    """The checked request; `ConsentRequestError` (an error page, no redirect) propagates."""
    return s.registry.consent_request(client_id, redirect_uri, scope, state)


def _invalid_scope(redirect_uri: str, state: str | None, error: InvalidScopeError) -> Response:
    return redirect(answer_to(redirect_uri, state, error="invalid_scope", error_description=str(error)))


def _page_policy(asked: ConsentRequest) -> dict[str, str]:
    """The page's CSP lets its form lead back to the app (browsers apply `form-action` to the redirect)."""
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    allowed = f"form-action 'self' {origin(asked.redirect_uri)}"
    return {"Content-Security-Policy": policy.replace("form-action 'self'", allowed)}


def waiting_app(request: Request, s: Services) -> dict[str, str] | None:
    """The app whose consent request waits in this browser (its name and the page to answer it), if any
    and if it still checks (the app may have changed its return address meanwhile)."""
    page = waiting_consent_request(request)
    if page is None:
        return None
    query = parse_qs(urlsplit(page).query)
    try:
        asked = _asked(s, *(query.get(key, [None])[0] for key in ("client_id", "redirect_uri", "scope", "state")))
    except (ConsentRequestError, InvalidScopeError):
        return None
    return {"name": asked.app.name, "url": page}


@router.get("/consent", response_class=HTMLResponse)
def consent_page(
    request: Request,
    s: ServicesDep,
    participant_id: CurrentParticipant,
    client_id: str | None = None,
    scope: str | None = None,
    redirect_uri: str | None = None,
    state: str | None = None,
) -> Response:
    try:
        asked = _asked(s, client_id, redirect_uri, scope, state)
    except InvalidScopeError as error:
        return _invalid_scope(str(redirect_uri), state, error)
    context = {"asked": asked, "app": asked.app, "return_host": origin(asked.redirect_uri)}
    if participant_id is None:
        remember_consent_request(request, asked.query())
        return render(request, "consent_sign_in.html", context)
    granted = s.registry.consents(participant_id).get(asked.app.id, [])
    scopes = [(scope_id, *s.registry.scope_in_words(scope_id)) for scope_id in asked.scopes]
    context |= {"scopes": scopes, "granted": granted, "has_token": s.registry.handle_of(participant_id) is not None}
    response = render(request, "consent.html", context)
    response.headers.update(_page_policy(asked))
    return response


@router.post("/consent")
def decide(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    """Grant or refuse; the request is checked again (a form is only what the browser sent)."""
    fields = {key: form.get(key) for key in ("client_id", "redirect_uri", "scope", "state")}
    waiting_consent_request(request, take=True)  # answered now, whichever way
    try:
        asked = _asked(s, fields["client_id"], fields["redirect_uri"], fields["scope"], fields["state"])
    except InvalidScopeError as error:
        state = fields["state"] if isinstance(fields["state"], str) else None
        return _invalid_scope(str(fields["redirect_uri"]), state, error)
    if form.get("decision") != "grant":
        return redirect(asked.answer(error="access_denied"))
    return redirect(s.grant_consent_request(participant_id, asked))
