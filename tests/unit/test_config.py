from pathlib import Path

import pytest

from doorstep.config import load_settings, normalise_database_url
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
