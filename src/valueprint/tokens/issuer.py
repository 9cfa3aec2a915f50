"""The issuer side wired to settings: the key store, issuing, and a local verifier."""

from __future__ import annotations

import json
from pathlib import Path

from valueprint.errors import KeyStoreError
from valueprint.settings import Settings
from valueprint.tokens.jws import IssuedToken, TokenVerifier, issue_token
from valueprint.tokens.keys import KeyStore
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace


def key_store(settings: Settings) -> KeyStore:
    return KeyStore(settings.keys_dir)


def issue(
    profile: ValueProfile, space: ValueSpace, settings: Settings, subject: str, handle: str | None
) -> IssuedToken:
    """Issue a token with this installation's signing key (created on first use)."""
    return issue_token(
        profile,
        space,
        key_store(settings).ensure_signing_key(),
        issuer=settings.issuer,
        audience=settings.audience,
        subject=subject,
        ttl_seconds=settings.token_ttl_days * 86400,
        handle=handle,
    )


def verifier(settings: Settings, space: ValueSpace, jwks_file: Path | None = None) -> TokenVerifier:
    """A verifier for this installation's keys, or for another issuer's JWKS file."""
    if jwks_file is None:
        jwks = key_store(settings).jwks()
        issuer: str | None = settings.issuer
    else:
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError) as error:
            raise KeyStoreError(f"cannot read JWKS file {jwks_file}: {error}") from error
        issuer = None
    if not isinstance(jwks, dict) or not jwks.get("keys"):
        raise KeyStoreError("no public keys to verify with; create one with `valueprint keys new` or pass --jwks")
    return TokenVerifier(jwks, space, issuer=issuer, audience=settings.audience, leeway_s=settings.verify_leeway_s)
