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
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from valueprint.errors import ConfigError
from valueprint.settings import Settings

KEY_BYTES = 32
MIN_SECRET_CHARS = 32


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The secret in `path`, created once if absent; written whole or not at all (temp file + link)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(make() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with suppress(FileExistsError):  # another process won the race: use its secret
                os.link(staging, path)  # atomic, and never replaces an existing secret
        finally:
            os.unlink(staging)
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_CHARS:
        raise ConfigError(f"{path} holds a secret shorter than {MIN_SECRET_CHARS} characters: delete it to regenerate")
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
        secret = settings.session_secret.get_secret_value()
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(f"VALUEPRINT_SESSION_SECRET must be at least {MIN_SECRET_CHARS} characters")
        return secret
    settings.check_safe()
    return _read_or_create(settings.secrets_dir / "session.secret", lambda: secrets.token_urlsafe(48))
