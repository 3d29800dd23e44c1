import os
from pathlib import Path

import pytest

from doorstep.config import load_settings, normalise_database_url
from doorstep.domain.rate_limits import AbuseLimits, Rate
from doorstep.errors import InvalidInput


def test_defaults_put_everything_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert len(settings.secret_key) > 40
    # The generated key is kept, so visitor tokens survive a restart.
    assert load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_plain_database_urls_get_the_async_driver(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_unsupported_settings_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="mysql"):
        load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_DATABASE_URL": "mysql://x"})
    with pytest.raises(InvalidInput, match="SYNCHRONOUS"):
        load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_SQLITE_SYNCHRONOUS": "fast"})
    with pytest.raises(InvalidInput, match="true or false"):
        load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_SECURE_COOKIES": "maybe"})


def test_public_url_and_secure_cookies(tmp_path: Path) -> None:
    settings = load_settings(
        {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_PUBLIC_URL": "https://chat.example.com/"}
    )
    assert settings.public_url == "https://chat.example.com"
    assert settings.cookies_secure is True


def test_password_concurrency_defaults_to_half_the_cores_and_is_bounded(tmp_path: Path) -> None:
    env = {"DOORSTEP_DATA_DIR": str(tmp_path)}
    assert load_settings(env).password_concurrency == max(1, (os.cpu_count() or 2) // 2)
    assert load_settings({**env, "DOORSTEP_PASSWORD_CONCURRENCY": "3"}).password_concurrency == 3
    for wrong in ("0", "65", "two"):
        with pytest.raises(InvalidInput, match="DOORSTEP_PASSWORD_CONCURRENCY"):
            load_settings({**env, "DOORSTEP_PASSWORD_CONCURRENCY": wrong})


def test_segment_query_seconds_default_to_two_and_are_bounded(tmp_path: Path) -> None:
    env = {"DOORSTEP_DATA_DIR": str(tmp_path)}
    assert load_settings(env).segment_query_seconds == 2.0
    settings = load_settings({**env, "DOORSTEP_SEGMENT_QUERY_SECONDS": "0.5"})
    assert settings.segment_query_seconds == 0.5
    for wrong in ("0", "601", "nan", "soon"):
        with pytest.raises(InvalidInput, match="DOORSTEP_SEGMENT_QUERY_SECONDS"):
            load_settings({**env, "DOORSTEP_SEGMENT_QUERY_SECONDS": wrong})


def test_abuse_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    base = {"DOORSTEP_DATA_DIR": str(tmp_path)}
    assert load_settings(base).abuse_limits == AbuseLimits()
    settings = load_settings(
        base | {"DOORSTEP_LIMIT_SESSIONS": "10/m", "DOORSTEP_LIMIT_SOCKETS": "off"}
    )
    assert settings.abuse_limits.sessions == Rate(10, 60)
    assert settings.abuse_limits.sockets is None
    assert settings.abuse_limits.messages == AbuseLimits().messages
    with pytest.raises(InvalidInput, match="DOORSTEP_LIMIT_MESSAGES"):
        load_settings(base | {"DOORSTEP_LIMIT_MESSAGES": "lots"})
    with pytest.raises(InvalidInput, match="DOORSTEP_LIMIT_SOCKETS"):
        load_settings(base | {"DOORSTEP_LIMIT_SOCKETS": "1/m"})
