"""AES-256-GCM for personal data at rest (cryptography's AESGCM), and the hash that stores look-up keys.

A sealed value is base64(nonce ‖ ciphertext‖tag); the participant id is the
associated data, so a ciphertext moved to another participant's row fails to open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from valueprint.errors import ConfigError

NONCE_BYTES = 12


def lookup_hash(*parts: str) -> str:
    """SHA-256 (hex) of `parts`, NUL-separated: what the database keeps instead of a secret it must find a row
    by (an API key, a session id, a resume code's look-up prefix) or a client address it must not keep in
    readable form. Plain SHA-256 is right for random secrets of 128+ bits (no stretching needed); a low-entropy
    secret such as a resume code is also stretched with Argon2 where it is checked (accounts.service)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: dict[str, Any], participant_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(data, separators=(",", ":")).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, participant_id.encode())).decode()

    def open(self, sealed: str, participant_id: str) -> dict[str, Any]:
        raw = base64.b64decode(sealed)
        try:
            plaintext = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], participant_id.encode())
        except InvalidTag as error:
            raise ConfigError(
                "personal data cannot be decrypted: VALUEPRINT_DATA_KEY is not the key it was written with"
            ) from error
        return json.loads(plaintext)
