"""Consent requests: an app sends a person to `/consent` to ask for scopes, and gets them back.

OAuth 2.1's authorization request, simplified (no code exchange: the answer is the person's
handle, which the app reads with its own API key, within the consent):

    GET /consent?client_id=<app id>&scope=<space-separated scopes>&redirect_uri=<registered>&state=<opaque>

A return address is used only if the admin registered it for that app, compared as an exact
string, so the flow is never an open redirect; a request with an unknown app or an
unregistered address is refused on an error page and never redirected. Every other outcome
returns the person to the address with `state` echoed: `handle` and `scope` (what the app may
now read) on a grant, `error=access_denied` on a refusal, `error=invalid_scope` for scopes the
app may not ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from valueprint.errors import BadRequestError
from valueprint.store.models import App

MAX_REDIRECT_URIS = 10
MAX_URI_CHARS = 2000
MAX_STATE_CHARS = 500
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ConsentRequest:
    """A checked request: the app, the registered return address, the scopes asked for, the app's state."""

    app: App
    redirect_uri: str
    scopes: list[str]
    state: str | None

    def query(self) -> dict[str, str]:
        """The request's parameters, to ask again (after the person signs in)."""
        asked = {"client_id": self.app.id, "scope": " ".join(self.scopes), "redirect_uri": self.redirect_uri}
        return asked | ({"state": self.state} if self.state is not None else {})

    def answer(self, **params: str) -> str:
        """The return address with the outcome and the echoed `state`."""
        return answer_to(self.redirect_uri, self.state, **params)


def answer_to(redirect_uri: str, state: str | None, **params: str) -> str:
    """A checked return address with the outcome and the echoed `state`."""
    return return_url(redirect_uri, params | ({"state": state} if state is not None else {}))


def return_url(redirect_uri: str, params: dict[str, str]) -> str:
    """`redirect_uri` with `params` added to its query (its own query parameters are kept)."""
    parts = urlsplit(redirect_uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def origin(uri: str) -> str:
    """scheme://host[:port] of an address (for the consent page's `form-action`)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def check_redirect_uri(uri: object) -> str:
    """A return address an admin may register: absolute https (http only on loopback), no fragment."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_CHARS:
        raise BadRequestError(f"a return address is a URL of 1-{MAX_URI_CHARS} characters")
    parts = urlsplit(uri)
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not loopback):
        raise BadRequestError(f"return address {uri!r} must be an absolute https:// URL (http:// only for localhost)")
    if parts.fragment or "#" in uri or parts.username or parts.password:
        raise BadRequestError(f"return address {uri!r} may not carry a #fragment or a user name")
    return uri


def check_redirect_uris(uris: object) -> list[str]:
    if not isinstance(uris, list | tuple) or len(uris) > MAX_REDIRECT_URIS:
        raise BadRequestError(f"an app has a list of at most {MAX_REDIRECT_URIS} return addresses")
    return list(dict.fromkeys(check_redirect_uri(uri) for uri in uris))
