"""Secrets of a running installation: the personal-data key and the session secret.

Configured values (environment or key file) always win. In development and tests,
missing secrets are generated once into DATA_DIR/secrets (mode 0600), never into the
repository; in production `Settings.check_safe` refuses to start without them.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from valueprint.errors import ConfigError
from valueprint.settings import Settings

KEY_BYTES = 32


def _read_or_create(path: Path, make: callable) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def _decode_key(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConfigError(f"{where} is not base64: {error}") from error
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{where} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def data_key(settings: Settings) -> bytes:
    """The AES-256-GCM key for personal data."""
    if settings.data_key is not None:
        return _decode_key(settings.data_key.get_secret_value(), "VALUEPRINT_DATA_KEY")
    if settings.data_key_file is not None:
        try:
            return _decode_key(settings.data_key_file.read_text().strip(), str(settings.data_key_file))
        except OSError as error:
            raise ConfigError(f"cannot read VALUEPRINT_DATA_KEY_FILE {settings.data_key_file}: {error}") from error
    settings.check_safe()
    encoded = _read_or_create(
        settings.secrets_dir / "data.key", lambda: base64.b64encode(os.urandom(KEY_BYTES)).decode()
    )
    return _decode_key(encoded, str(settings.secrets_dir / "data.key"))


def session_secret(settings: Settings) -> str:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    settings.check_safe()
    return _read_or_create(settings.secrets_dir / "session.secret", lambda: secrets.token_urlsafe(48))
