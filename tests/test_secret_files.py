"""Installation secrets: generated once, whole, private; short or empty secrets are refused."""

from __future__ import annotations

import stat

import pytest
from pydantic import SecretStr

from valueprint.errors import ConfigError
from valueprint.settings import Settings
from valueprint.store.secret_files import data_key, session_secret


def test_development_secrets_are_created_once_with_mode_0600(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    first, key = session_secret(settings), data_key(settings)
    assert session_secret(settings) == first and data_key(settings) == key and len(key) == 32
    for name in ("session.secret", "data.key"):
        assert stat.S_IMODE((tmp_path / "secrets" / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == ["data.key", "session.secret"]


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_an_empty_or_short_secret_file_is_refused_not_trusted(tmp_path, content) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "session.secret").write_text(content)
    with pytest.raises(ConfigError, match="delete it to regenerate"):
        session_secret(Settings(data_dir=tmp_path))


def test_a_configured_session_secret_must_be_long_enough(tmp_path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        session_secret(Settings(data_dir=tmp_path, session_secret=SecretStr("hunter2")))
