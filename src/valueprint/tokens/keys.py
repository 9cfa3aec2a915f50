"""Signing keys (ECDSA P-256, `ES256`): creation, key ids, rotation, JWKS export.

ES256 is the one asymmetric algorithm that PyJWT, joserfc *with its defaults* (its
recommended list is HS256, RS256, ES256) and the npm `jose` library all verify, so an app
needs no algorithm list of ours. Installations created before this signed with Ed25519
(`alg: Ed25519`); such keys stay in the JWKS (published with their own `alg`) and keep
verifying the tokens they signed, but never sign again: the first issue after the upgrade
creates an ES256 key (an ordinary rotation).

Keys live as one JSON file each in a key directory (mode 0600), named by key id
(the first 16 characters of the RFC 7638 thumbprint). The newest key that is not
retired signs; every non-retired key verifies, so tokens signed before a rotation
stay valid until they expire. Retire a key only once its last token has expired.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock
from joserfc.jwk import ECKey, OKPKey

from valueprint.errors import KeyStoreError

ALGORITHM = "ES256"
LEGACY_ALGORITHM = "Ed25519"  # keys (and tokens) from before ES256; verify only
KID_LENGTH = 16


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: ECKey | OKPKey
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.retired_at is None

    @property
    def algorithm(self) -> str:
        return ALGORITHM if isinstance(self.key, ECKey) else LEGACY_ALGORITHM

    @property
    def signs(self) -> bool:
        """Whether this key may sign new tokens (active, and not a legacy Ed25519 key)."""
        return self.active and self.algorithm == ALGORITHM

    def public_jwk(self) -> dict[str, str]:
        jwk = self.key.as_dict(private=False)
        public = {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}
        return {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def new_signing_key() -> SigningKey:
    key = ECKey.generate_key("P-256")
    return SigningKey(kid=key.thumbprint()[:KID_LENGTH], key=key, created_at=datetime.now(UTC))


class KeyStore:
    """The issuer's key directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, kid: str) -> Path:
        return self.directory / f"{kid}.json"

    def _write(self, signing_key: SigningKey) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {
            "kid": signing_key.kid,
            "created_at": signing_key.created_at.isoformat(),
            "retired_at": signing_key.retired_at.isoformat() if signing_key.retired_at else None,
            "jwk": signing_key.key.as_dict(private=True),
        }
        temporary = self._path(signing_key.kid).with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(record, handle)
        os.replace(temporary, self._path(signing_key.kid))

    def _read(self, path: Path) -> SigningKey:
        try:
            record = json.loads(path.read_text())
            jwk = record["jwk"]
            key = ECKey.import_key(jwk) if jwk.get("kty") == "EC" else OKPKey.import_key(jwk)
            retired = record.get("retired_at")
            return SigningKey(
                kid=record["kid"],
                key=key,
                created_at=datetime.fromisoformat(record["created_at"]),
                retired_at=datetime.fromisoformat(retired) if retired else None,
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise KeyStoreError(
                f"key file {path} is unreadable ({error}); restore it from a backup or delete it "
                "and run `valueprint keys new` (tokens signed with it will stop verifying)"
            ) from error

    def keys(self) -> list[SigningKey]:
        """All keys, oldest first."""
        if not self.directory.is_dir():
            return []
        keys = [self._read(path) for path in self.directory.glob("*.json")]
        return sorted(keys, key=lambda k: (k.created_at, k.kid))

    def create(self) -> SigningKey:
        """Create a new key; it becomes the signing key (a rotation if keys exist)."""
        signing_key = new_signing_key()
        self._write(signing_key)
        return signing_key

    def signing_key(self) -> SigningKey:
        active = [k for k in self.keys() if k.signs]
        if not active:
            raise KeyStoreError(f"no signing key in {self.directory}; create one with `valueprint keys new`")
        return active[-1]

    def ensure_signing_key(self) -> SigningKey:
        """The signing key, creating one if there is none (or only legacy Ed25519 keys); workers starting
        together on a new key directory create one key between them, not one each."""
        if not any(k.signs for k in self.keys()):
            self.directory.mkdir(parents=True, exist_ok=True)
            with FileLock(self.directory / ".create.lock", mode=0o600):
                if not any(k.signs for k in self.keys()):
                    return self.create()
        return self.signing_key()

    def retire(self, kid: str) -> SigningKey:
        path = self._path(kid)
        if not path.exists():
            raise KeyStoreError(f"no key {kid!r} in {self.directory}; see `valueprint keys list`")
        key = self._read(path)
        retired = SigningKey(kid=key.kid, key=key.key, created_at=key.created_at, retired_at=datetime.now(UTC))
        self._write(retired)
        return retired

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS of every non-retired key, as served at /.well-known/jwks.json."""
        return {"keys": [k.public_jwk() for k in self.keys() if k.active]}
