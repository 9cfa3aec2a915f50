"""The one exception hierarchy of valueprint.

Every error the project raises on purpose derives from `ValueprintError`, and every
message says what to do about it. Entry points (the CLI, the web app) catch
`ValueprintError` in one place and show `str(error)`; anything else is a bug.

    ValueprintError
    ├── ConfigError              settings or data files are wrong
    ├── CatalogueError           value space, question bank or personas fail validation
    ├── AnswerError              an answer is out of range, of the wrong type or for an unknown item
    ├── ProfileError             a stored profile cannot be read (bad JSON, other space version)
    ├── SessionFileError         a saved questionnaire session is corrupt
    ├── KeyStoreError            signing keys missing, unreadable or inconsistent
    ├── HandleError              a four-word handle has a word outside the BIP-39 list
    ├── DatasetError             an external data set is missing or not in the expected format
    ├── EvaluatorError           evaluator artefacts are missing, from another version, or unusable
    ├── MissingDependencyError   an optional heavy dependency is not installed (names the pip extra)
    ├── StrategyError            an unknown personalisation strategy, or one this model cannot run
    ├── AdapterError             a personal adapter cannot be trained or used (no preference to learn, bad folder)
    ├── ConflictError            the request clashes with work under way, e.g. a training already running (HTTP 409)
    ├── InputFileError           a file to evaluate is unreadable, or a line or column is wrong
    ├── AlignmentError           a target or response cannot be compared (NaN, out of range, target takes no side)
    ├── FitError                 the persona-fit harness got a wrong prompt count, persona id or condition
    ├── EndpointError            a remote model endpoint cannot be used (bad URL, API key variable unset)
    │   ├── EndpointUnreachableError  connection refused, DNS failure or timeout
    │   ├── EndpointStatusError       answered with an HTTP status other than 200
    │   └── EndpointResponseError     answered 200, but not with chat-completions JSON
    ├── AuthError                not signed in, wrong resume code, unknown API key (HTTP 401)
    ├── ForbiddenError           signed in but not allowed: admin only, no consent (HTTP 403)
    ├── NotFoundError            no such handle, app or token (HTTP 404)
    ├── RateLimitedError         too many look-ups; retry later (HTTP 429)
    └── TokenError               a value token is refused (the subclasses say why)
        ├── MalformedTokenError      not a compact JWS with a valid JSON header and payload
        ├── UnsupportedAlgorithmError  any `alg` other than Ed25519 (incl. `none`, HS256, EdDSA)
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


class ValueprintError(Exception):
    """Base of every deliberate valueprint error; the message names the fix."""


class ConfigError(ValueprintError):
    """Settings are invalid or unsafe for the environment."""


class CatalogueError(ValueprintError):
    """Package data (value space, question bank, personas) failed validation."""


class AnswerError(ValueprintError):
    """An answer cannot be used; the message names the item."""

    def __init__(self, item_id: str, problem: str) -> None:
        self.item_id = item_id
        self.problem = problem
        super().__init__(f"answer to item {item_id!r}: {problem}")


class ProfileError(ValueprintError):
    """A serialised profile cannot be read."""


class SessionFileError(ValueprintError):
    """A saved questionnaire session cannot be read; it is left untouched."""


class KeyStoreError(ValueprintError):
    """Signing keys are missing or unusable."""


class TokenError(ValueprintError):
    """A value token was refused. `code` is a stable machine-readable reason."""

    code = "invalid_token"


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


class AuthError(ValueprintError):
    """Authentication failed or is missing."""


class ForbiddenError(ValueprintError):
    """The caller is known but may not do this."""


class NotFoundError(ValueprintError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class RateLimitedError(ValueprintError):
    """Too many requests; `retry_after` seconds until the next is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HandleError(ValueprintError):
    """A four-word handle cannot be parsed; the message names the bad word."""


class DatasetError(ValueprintError):
    """An external data set (../shared/data) is missing or not in the expected format."""


class EvaluatorError(ValueprintError):
    """The value evaluator cannot be loaded or trained; the message names the fix."""


class MissingDependencyError(ValueprintError):
    """An optional dependency is missing; the message names the pip extra that installs it."""


class InputFileError(ValueprintError):
    """A file given on the command line cannot be read; the message names the line or column."""


class AlignmentError(ValueprintError):
    """A target or response cannot be compared; the message names the fix."""


class FitError(ValueprintError):
    """The persona-fit harness was asked for something it cannot do; the message names the fix."""


class EndpointError(ValueprintError):
    """A model endpoint cannot be used; the message names the URL and the fix."""


class EndpointUnreachableError(EndpointError):
    """Connection refused, DNS failure or timeout."""


class EndpointStatusError(EndpointError):
    """The endpoint answered with an HTTP status other than 200."""


class EndpointResponseError(EndpointError):
    """The endpoint answered 200 but not with chat-completions JSON."""


class StrategyError(ValueprintError):
    """An unknown personalisation strategy, or one that cannot run here; the message lists the options."""


class AdapterError(ValueprintError):
    """A personal adapter cannot be trained or used; the message says what is missing."""


class ConflictError(ValueprintError):
    """The request clashes with work already under way; retry when it has finished."""
