"""Issuing and verifying value tokens: compact JWS (a JWT), algorithm `ES256` (ECDSA P-256).

Header: ``{"alg": "ES256", "kid": <key id>, "typ": "vp+jwt"}``. Any JOSE library verifies a
token with the issuer's JWKS and its default settings (PyJWT, joserfc, npm `jose`; see the
tests in tests/test_interop.py). Tokens signed before ES256 carry ``alg: Ed25519``; this
verifier still accepts them while their Ed25519 key is in the JWKS (each key verifies only
its own algorithm). Payload claims:

======  =====================================================================
iss     issuer (URL of the issuing server)
sub     pseudonymous subject id (never a name or an email)
aud     audience
iat     issued at (Unix seconds)
exp     expiry (Unix seconds)
jti     token id (random, 128 bits, base64url)
vsv     value-space version of the profile
vp      the quantised profile (see `codec`; GET /.well-known/vp-format.json decodes it)
bnd     the person's boundaries, as a bit mask (see `codec`)
hdl     the person's four-word handle
ins     only when the person edited their précis: their own custom instructions, as
        plain text (at most 1200 characters), carried beside the measured profile
======  =====================================================================

The payload is UTF-8 JSON (non-ASCII text in `ins` is not escaped), so any JOSE library
reads `ins` as an ordinary string claim. A token without edited text has no `ins` and is
under 600 characters; with 1200 characters of text it stays under MAX_TOKEN_CHARS.

Verification is offline: a verifier needs only the issuer's JWKS. Every refusal is
a specific `TokenError` subclass; no input, however broken, raises anything else.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
from joserfc import errors as jose_errors
from joserfc import jws
from joserfc.jwk import ECKey, GuestProtocol, OKPKey

from valueprint.errors import (
    BadSignatureError,
    ExpiredTokenError,
    HandleError,
    InvalidClaimsError,
    KeyStoreError,
    MalformedTokenError,
    NotYetValidError,
    TokenError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    WrongAudienceError,
    WrongIssuerError,
)
from valueprint.tokens.codec import decode_boundaries, decode_vectors, encode_boundaries, encode_profile
from valueprint.tokens.handle import generate_handle, parse_handle
from valueprint.tokens.keys import ALGORITHM, LEGACY_ALGORITHM, SigningKey
from valueprint.values.precis import MAX_INSTRUCTIONS_CHARS
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

TOKEN_TYPE = "vp+jwt"
ACCEPTED_ALGORITHMS = (ALGORITHM, LEGACY_ALGORITHM)
MAX_TOKEN_CHARS = 8192  # room for `ins`: 1200 characters of any script, as UTF-8 in base64url
REQUIRED_STRING_CLAIMS = ("iss", "sub", "jti", "vsv", "vp", "hdl")
MAX_TIMESTAMP = 2**33  # year 2242: later times are refused rather than overflowing datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    handle: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and claims all checked out."""

    claims: dict[str, Any]
    kid: str
    space: ValueSpace
    means: np.ndarray
    sds: np.ndarray
    boundaries: tuple[str, ...]

    @cached_property
    def profile(self) -> ValueProfile:
        """The carried profile (built on first use: verification itself needs only the arrays)."""
        return ValueProfile.from_arrays(self.space, self.means, self.sds, boundaries=self.boundaries)

    @property
    def handle(self) -> str:
        return str(self.claims["hdl"])

    @property
    def instructions(self) -> str | None:
        """The person's own custom instructions (claim `ins`), when they edited their précis."""
        return self.claims.get("ins")

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["exp"], UTC)


def issue_token(
    profile: ValueProfile,
    space: ValueSpace,
    signing_key: SigningKey,
    *,
    issuer: str,
    audience: str,
    subject: str,
    ttl_seconds: int,
    handle: str | None = None,
    instructions: str | None = None,
    now: float | None = None,
) -> IssuedToken:
    """Sign `profile` as a compact JWS. `handle` stays the same across re-issues of one person;
    `instructions` (the person's edited précis) becomes the claim `ins`."""
    issued_at = int(time.time() if now is None else now)
    handle = parse_handle(handle) if handle else generate_handle()
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": secrets.token_urlsafe(16),
        "vsv": space.version,
        "vp": encode_profile(profile, space),
        "bnd": encode_boundaries(profile.boundaries, space),
        "hdl": handle,
    }
    if instructions is not None:
        if not isinstance(instructions, str) or not 0 < len(instructions) <= MAX_INSTRUCTIONS_CHARS:
            raise ValueError(f"custom instructions are 1-{MAX_INSTRUCTIONS_CHARS} characters of text")
        claims["ins"] = instructions
    header = {"alg": signing_key.algorithm, "kid": signing_key.kid, "typ": TOKEN_TYPE}
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False)
    token = jws.serialize_compact(header, payload, signing_key.key, algorithms=[signing_key.algorithm])
    return IssuedToken(
        token=token, handle=handle, jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC)
    )


# The JWK members each accepted key type is built from, and the algorithm it verifies.
_KEY_TYPES: dict[tuple[str, str], tuple[str, type[ECKey] | type[OKPKey], tuple[str, ...]]] = {
    ("EC", "P-256"): (ALGORITHM, ECKey, ("kty", "crv", "x", "y")),
    ("OKP", "Ed25519"): (LEGACY_ALGORITHM, OKPKey, ("kty", "crv", "x")),
}


def _public_keys(jwks: dict[str, Any]) -> dict[str, tuple[str, ECKey | OKPKey]]:
    """kid -> (algorithm, public key) for every P-256 (ES256) and legacy Ed25519 entry of a JWKS;
    other key types are ignored."""
    keys: dict[str, tuple[str, ECKey | OKPKey]] = {}
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list):
        raise KeyStoreError('a JWKS is a JSON object with a "keys" list')
    for entry in entries:
        kind = (entry.get("kty"), entry.get("crv")) if isinstance(entry, dict) else None
        if kind not in _KEY_TYPES:
            continue
        algorithm, key_class, members = _KEY_TYPES[kind]
        if entry.get("alg", algorithm) != algorithm:
            continue
        try:
            keys[str(entry["kid"])] = (algorithm, key_class.import_key({k: entry[k] for k in members}))
        except (KeyError, ValueError, TypeError, jose_errors.JoseError) as error:
            raise KeyStoreError(
                f"JWKS entry {entry.get('kid')!r} is not a valid {kind[1]} public key: {error}"
            ) from None
    return keys


class TokenVerifier:
    """Verifies tokens offline against an issuer's JWKS (e.g. from /.well-known/jwks.json)."""

    def __init__(
        self, jwks: dict[str, Any], space: ValueSpace, *, issuer: str | None, audience: str, leeway_s: int = 60
    ) -> None:
        self.keys = _public_keys(jwks)
        self.space, self.issuer, self.audience, self.leeway = space, issuer, audience, leeway_s

    def _resolve_key(self, obj: GuestProtocol) -> ECKey | OKPKey:
        header = obj.headers()
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            raise UnsupportedAlgorithmError(f"token algorithm {alg!r} is not accepted; only {ALGORITHM!r} is")
        kid = header.get("kid")
        entry = self.keys.get(kid) if isinstance(kid, str) else None
        if entry is not None and entry[0] != alg:  # a key verifies only its own algorithm
            raise UnsupportedAlgorithmError(f"token algorithm {alg!r} is not the algorithm of key {kid!r}")
        key = entry[1] if entry is not None else None
        if key is None:
            raise UnknownKeyError(
                f"token was signed with key {kid!r}, which this verifier does not know; "
                "refresh the issuer's JWKS, or the token is not from this issuer"
            )
        return key

    def verify(self, token: object, now: float | None = None) -> VerifiedToken:
        """Verify signature and claims; raise a specific TokenError on any problem."""
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedTokenError("a token is ASCII text") from None
        if not isinstance(token, str):
            raise MalformedTokenError(f"a token is a string, got {type(token).__name__}")
        token = token.strip()
        if len(token) > MAX_TOKEN_CHARS:
            raise MalformedTokenError(f"token is longer than {MAX_TOKEN_CHARS} characters")
        if token.count(".") != 2:
            raise MalformedTokenError("a token is three base64url parts joined by dots (a compact JWS)")
        try:
            signed = jws.deserialize_compact(token, self._resolve_key, algorithms=list(ACCEPTED_ALGORITHMS))
        except TokenError:
            raise
        except jose_errors.BadSignatureError:
            raise BadSignatureError("token signature does not verify: it was altered or forged") from None
        except jose_errors.UnsupportedAlgorithmError as error:
            raise UnsupportedAlgorithmError(
                f"token algorithm is not accepted ({error.description}); only {ALGORITHM!r} is"
            ) from None
        except (jose_errors.JoseError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise MalformedTokenError(f"token is not a valid compact JWS: {error}") from None
        header = signed.headers()
        if header.get("typ", TOKEN_TYPE) != TOKEN_TYPE:
            raise MalformedTokenError(f"token type {header.get('typ')!r} is not {TOKEN_TYPE!r}")
        claims = self._claims(signed.payload)
        self._check_claims(claims, time.time() if now is None else now)
        boundaries = decode_boundaries(claims.get("bnd"), self.space)
        means, sds = decode_vectors(claims["vp"], self.space)
        return VerifiedToken(claims, str(header["kid"]), self.space, means, sds, boundaries)

    @staticmethod
    def _claims(payload: bytes) -> dict[str, Any]:
        try:
            claims = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MalformedTokenError("token payload is not JSON") from None
        if not isinstance(claims, dict):
            raise MalformedTokenError("token payload is not a JSON object")
        return claims

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        for name in REQUIRED_STRING_CLAIMS:
            if not isinstance(claims.get(name), str):
                raise InvalidClaimsError(f"claim {name!r} is missing or not a string")
        for name in ("iat", "exp", "nbf"):
            value = claims.get(name, 0 if name == "nbf" else None)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_TIMESTAMP:
                raise InvalidClaimsError(f"claim {name!r} is missing or not a Unix time in seconds")
        if self.issuer is not None and claims["iss"] != self.issuer:
            raise WrongIssuerError(f"token issuer {claims['iss']!r} is not {self.issuer!r}")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise WrongAudienceError(f"token is for audience {audience!r}, not {self.audience!r}")
        if now > claims["exp"] + self.leeway:
            expired = datetime.fromtimestamp(claims["exp"], UTC).isoformat()
            raise ExpiredTokenError(f"token expired at {expired}; ask the person to re-issue it")
        if max(claims.get("nbf", 0), claims["iat"]) > now + self.leeway:
            raise NotYetValidError("token is not valid yet (issued in the future); check the clocks")
        if claims["vsv"] != self.space.version:
            raise InvalidClaimsError(
                f"token is for value space {claims['vsv']!r}; this verifier knows {self.space.version!r}"
            )
        try:
            parse_handle(claims["hdl"])
        except HandleError as error:
            raise InvalidClaimsError(f"claim 'hdl' is not a handle: {error}") from None
        instructions = claims.get("ins")
        if "ins" in claims and (not isinstance(instructions, str) or len(instructions) > MAX_INSTRUCTIONS_CHARS):
            raise InvalidClaimsError(f"claim 'ins' must be text of at most {MAX_INSTRUCTIONS_CHARS} characters")


def peek_claims(token: str) -> dict[str, Any]:
    """Read a token's payload WITHOUT verifying it (for display and debugging only)."""
    try:
        return TokenVerifier._claims(jws.extract_compact(token.strip().encode("ascii")).payload)
    except TokenError:
        raise
    except (jose_errors.JoseError, ValueError, TypeError, UnicodeError) as error:
        raise MalformedTokenError(f"token is not a valid compact JWS: {error}") from None
