"""The one exception hierarchy of valueprint.

Every error the project raises on purpose derives from `ValueprintError`, and every
message says what to do about it. Entry points (the CLI, the web app) catch
`ValueprintError` in one place: the CLI shows `str(error)`; the web app answers with the
class's `http_status` and `error_code` (`{"error": {"code", "message"}}`), showing the
message only for a `ClientError` (the caller's to fix). Anything else is a bug.

Status and code live on the classes, and are inherited through intermediate bases (as
httpx's exception tree does): a new error that names no base of its own is a server-side
500 whose message is logged, never shown, so it cannot leak a path or a setting to a
caller. Make it a `ClientError` (or one of its subclasses) when the caller can fix it.

    ValueprintError              500 server_error         the server's own state; logged, shown as a generic message
    ├── ConfigError              500 server_misconfigured settings or data files are wrong
    ├── MissingDependencyError   500 server_misconfigured an optional dependency is not installed (names the extra)
    ├── CatalogueError           500 server_error         value space, question bank or personas fail validation
    ├── ProfileError             500 server_error         a stored profile cannot be read (bad JSON, other space)
    ├── KeyStoreError            500 server_error         signing keys missing, unreadable or inconsistent
    ├── DatasetError             500 server_error         an external data set is missing or not in the expected format
    ├── EvaluatorError           500 server_error         evaluator artefacts missing, from another version, unusable
    ├── UnavailableError         503 unavailable          the database is out of reach for a moment (sends Retry-After)
    ├── EndpointError            502 upstream_failed      a remote model endpoint cannot be used (bad URL, key unset)
    │   ├── EndpointUnreachableError  connection refused, DNS failure or timeout
    │   ├── EndpointStatusError       answered with an HTTP status other than 200
    │   └── EndpointResponseError     answered 200, but not with chat-completions JSON
    └── ClientError              400 bad_request          the caller can fix it: the message is shown to them
        ├── BadRequestError      400 bad_request          cannot be honoured as sent (consent, scopes, app names)
        │   ├── ConsentRequestError  400 invalid_consent_request  unknown app or unregistered return address
        │   └── InvalidScopeError    400 invalid_scope      a consent request's scopes the app may not ask for
        ├── AnswerError          422 invalid_answer       an answer out of range, of the wrong type, unknown item
        ├── AdapterError         422 adapter_unavailable  a personal adapter cannot be trained or used
        ├── LabelError           422 invalid_labels       labels or pre-labels that do not fit a project's label schema
        │   └── LabelConfigError 422 invalid_label_config  a Label Studio config or task the ML backend cannot serve
        ├── CardError            422 invalid_card         a values card, context, story or vote the moral graph refuses
        ├── StrategyError        400 bad_request          an unknown strategy, or one this model cannot run
        ├── HandleError          400 bad_request          a four-word handle has a word outside the BIP-39 list
        ├── SessionFileError     400 bad_request          a saved questionnaire session is corrupt
        ├── InputFileError       400 bad_request          a file to evaluate is unreadable, or a line or column is wrong
        ├── AlignmentError       400 bad_request          a target or response cannot be compared (NaN, range)
        ├── FitError             400 bad_request          persona-fit harness: wrong prompt count, persona, condition
        ├── AuthError            401 unauthenticated      not signed in, wrong resume code, unknown API key
        │   └── BasicAuthError   401 unauthenticated      Label Studio backend call without its key (WWW-Authenticate)
        ├── ForbiddenError       403 forbidden            signed in but not allowed: admin only, no consent
        ├── NotFoundError        404 not_found            no such handle, app or token
        │   └── ModelNotFoundError  404 model_not_found   a chat request names a model this server does not serve
        ├── ConflictError        409 conflict             clashes with work under way, e.g. a training already running
        ├── RateLimitedError     429 rate_limited         too many look-ups; retry later (sends Retry-After)
        └── TokenError           401 token_<code>         a value token is refused (the subclasses say why, in `code`)
            ├── MalformedTokenError      not a compact JWS with a valid JSON header and payload
            ├── UnsupportedAlgorithmError  any `alg` but ES256 (and Ed25519 on a legacy key)
            ├── UnknownKeyError          `kid` names no key of this issuer
            ├── BadSignatureError        the signature does not verify
            ├── ExpiredTokenError        past `exp`
            ├── NotYetValidError         `iat`/`nbf` in the future beyond the allowed leeway
            ├── WrongAudienceError       `aud` does not name this verifier
            ├── WrongIssuerError         `iss` is not the expected issuer
            ├── RevokedTokenError        revoked by the person (or superseded by a re-issue)
            └── InvalidClaimsError       a required claim is missing or ill-formed
"""

from __future__ import annotations

from typing import ClassVar


class ValueprintError(Exception):
    """Base of every deliberate valueprint error; the message names the fix.

    As an HTTP answer: a server-side 500 unless a base says otherwise (see the tree above)."""

    http_status: ClassVar[int] = 500
    error_code: ClassVar[str] = "server_error"

    @property
    def exposed(self) -> bool:
        """Whether the message may be shown to the caller (never for a server-side error)."""
        return self.http_status < 500

    def http_headers(self) -> dict[str, str] | None:
        return None


class UnavailableError(ValueprintError):
    """Something the server needs is out of reach for a moment (the database restarting, a connection dropped):
    the request was not done, or not confirmed, and the same request may be sent again after `retry_after`
    seconds (every write it can hit is idempotent: an answer, a profile, a session).

    Shown to the caller although a 5xx: its message is always one of the fixed sentences below (never the
    driver's text, which names hosts and users), and it is the caller's to act on, by retrying."""

    http_status, error_code = 503, "unavailable"
    DATABASE: ClassVar[str] = "the database is unavailable for a moment; please send the same request again shortly"

    def __init__(self, message: str = DATABASE, retry_after: float = 2.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def exposed(self) -> bool:
        return True

    def http_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(max(1, round(self.retry_after)))}


class ClientError(ValueprintError):
    """The caller can fix it; the message (shown to them) says how."""

    http_status = 400
    error_code = "bad_request"


class BadRequestError(ClientError):
    """A request that cannot be honoured as sent (missing consent, unknown scopes, a duplicate name)."""


class ConsentRequestError(BadRequestError):
    """A consent request that must not send the person anywhere: an unknown app, an unregistered return address."""

    error_code = "invalid_consent_request"


class InvalidScopeError(BadRequestError):
    """A consent request for scopes that are unknown or that the app may not ask for (OAuth's `invalid_scope`)."""

    error_code = "invalid_scope"


class ConfigError(ValueprintError):
    """Settings are invalid or unsafe for the environment."""

    error_code = "server_misconfigured"


class CatalogueError(ValueprintError):
    """Package data (value space, question bank, personas) failed validation."""


def quoted(value: object, limit: int = 80) -> str:
    """`value` quoted for a message, cut to `limit` characters: an error never echoes unbounded input."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 2] + "…'"


class AnswerError(ClientError):
    """An answer cannot be used; the message names the item."""

    http_status, error_code = 422, "invalid_answer"

    def __init__(self, item_id: str, problem: str) -> None:
        self.item_id = item_id
        self.problem = problem
        super().__init__(f"answer to item {quoted(item_id)}: {problem}")


class ProfileError(ValueprintError):
    """A serialised profile cannot be read."""


class SessionFileError(ClientError):
    """A saved questionnaire session cannot be read; it is left untouched."""


class KeyStoreError(ValueprintError):
    """Signing keys are missing or unusable."""


class TokenError(ClientError):
    """A value token was refused. `code` is a stable machine-readable reason; the HTTP code is `token_<code>`."""

    http_status = 401
    code: ClassVar[str] = "invalid_token"
    error_code = "token_invalid_token"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "error_code" not in cls.__dict__:
            cls.error_code = f"token_{cls.code}"


class MalformedTokenError(TokenError):
    code = "malformed"


class UnsupportedAlgorithmError(TokenError):
    code = "unsupported_algorithm"


class UnknownKeyError(TokenError):
    code = "unknown_key"


class BadSignatureError(TokenError):
    code = "bad_signature"


class ExpiredTokenError(TokenError):
    code = "expired"


class NotYetValidError(TokenError):
    code = "not_yet_valid"


class WrongAudienceError(TokenError):
    code = "wrong_audience"


class WrongIssuerError(TokenError):
    code = "wrong_issuer"


class InvalidClaimsError(TokenError):
    code = "invalid_claims"


class RevokedTokenError(TokenError):
    code = "revoked"


class AuthError(ClientError):
    """Authentication failed or is missing."""

    http_status, error_code = 401, "unauthenticated"


class BasicAuthError(AuthError):
    """A call to the Label Studio ML backend without the configured password; asks for HTTP basic auth."""

    def http_headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": 'Basic realm="valueprint Label Studio backend"'}


class ForbiddenError(ClientError):
    """The caller is known but may not do this."""

    http_status, error_code = 403, "forbidden"


class NotFoundError(ClientError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    http_status, error_code = 404, "not_found"


class ModelNotFoundError(NotFoundError):
    """A chat request names a model this server does not serve (OpenAI's code for it)."""

    error_code = "model_not_found"


class RateLimitedError(ClientError):
    """Too many requests; `retry_after` seconds until the next is allowed."""

    http_status, error_code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def http_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(max(1, round(self.retry_after)))}


class HandleError(ClientError):
    """A four-word handle cannot be parsed; the message names the bad word."""


class DatasetError(ValueprintError):
    """An external data set (../shared/data) is missing or not in the expected format."""


class EvaluatorError(ValueprintError):
    """The value evaluator cannot be loaded or trained; the message names the fix."""


class MissingDependencyError(ValueprintError):
    """An optional dependency is missing; the message names the pip extra that installs it."""

    error_code = "server_misconfigured"


class InputFileError(ClientError):
    """A file given on the command line cannot be read; the message names the line or column."""


class AlignmentError(ClientError):
    """A target or response cannot be compared; the message names the fix."""


class FitError(ClientError):
    """The persona-fit harness was asked for something it cannot do; the message names the fix."""


class EndpointError(ValueprintError):
    """A model endpoint cannot be used; the message names the URL and the fix."""

    http_status, error_code = 502, "upstream_failed"


class EndpointUnreachableError(EndpointError):
    """Connection refused, DNS failure or timeout."""


class EndpointStatusError(EndpointError):
    """The endpoint answered with an HTTP status other than 200."""


class EndpointResponseError(EndpointError):
    """The endpoint answered 200 but not with chat-completions JSON."""


class StrategyError(ClientError):
    """An unknown personalisation strategy, or one that cannot run here; the message lists the options."""


class AdapterError(ClientError):
    """A personal adapter cannot be trained or used; the message says what is missing."""

    http_status, error_code = 422, "adapter_unavailable"


class ConflictError(ClientError):
    """The request clashes with work already under way; retry when it has finished."""

    http_status, error_code = 409, "conflict"


class LabelError(ClientError):
    """Labels (an annotation, an imported prediction) do not fit the project's label schema; the message says how."""

    http_status, error_code = 422, "invalid_labels"


class LabelConfigError(LabelError):
    """A Label Studio labelling config (or task) that valueprint's ML backend cannot serve; the message says why."""

    http_status, error_code = 422, "invalid_label_config"


class CardError(ClientError):
    """A values card (or context, story, vote) the moral graph cannot take as sent; the message names the field
    and the rule (3-7 attentional policies, lengths, an answer of yes / no / not sure)."""

    http_status, error_code = 422, "invalid_card"
