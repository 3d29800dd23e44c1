"""The data directory and the files in it are Doorstep's user's alone (private_files.py)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.config import load_settings
from doorstep.private_files import (
    create_private_file,
    make_private_dir,
    warn_if_readable_by_others,
    write_private_text,
)
from doorstep.store.engine import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of most shells: new files readable by everyone, unless made otherwise."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


async def test_the_database_and_its_log_are_private(tmp_path: Path, usual_umask) -> None:
    data_dir = tmp_path / "new" / "data"
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'doorstep.db'}")
    try:
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with db.read() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))
        names = ["doorstep.db", "doorstep.db-wal", "doorstep.db-shm"]
        assert {name: oct(mode(data_dir / name)) for name in names} == dict.fromkeys(
            names, oct(0o600)
        )
        assert mode(data_dir) == 0o700
        assert mode(data_dir.parent) == 0o755  # a parent is not Doorstep's to close
    finally:
        await db.dispose()


def test_the_secret_key_and_its_directory_are_private(tmp_path: Path, usual_umask) -> None:
    data_dir = tmp_path / "data"
    settings = load_settings({"DOORSTEP_DATA_DIR": str(data_dir)})
    assert (data_dir / "secret_key").read_text() == settings.secret_key
    assert mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir) == 0o700
    again = load_settings({"DOORSTEP_DATA_DIR": str(data_dir)})
    assert again.secret_key == settings.secret_key


async def test_files_others_can_read_are_warned_about_and_left_alone(
    tmp_path: Path, usual_umask, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "doorstep.db").touch(mode=0o644)
    (tmp_path / "secret_key").write_text("kept")
    (tmp_path / "secret_key").chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="doorstep.private_files"):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}")
        await db.dispose()
        assert load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)}).secret_key == "kept"
    warned = [record.getMessage() for record in caplog.records]
    assert any(f"chmod 600 {tmp_path / 'doorstep.db'}" in line for line in warned)
    assert any(f"chmod 600 {tmp_path / 'secret_key'}" in line for line in warned)
    assert mode(tmp_path / "doorstep.db") == 0o644
    assert mode(tmp_path / "secret_key") == 0o640


def test_private_modes_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0)  # everything made readable and writable by all, unless made otherwise
    try:
        make_private_dir(tmp_path / "d")
        assert create_private_file(tmp_path / "d" / "f")
        assert not create_private_file(tmp_path / "d" / "f")  # there already: left alone
        write_private_text(tmp_path / "d" / "s", "secret")
    finally:
        os.umask(before)
    assert mode(tmp_path / "d") == 0o700
    assert mode(tmp_path / "d" / "f") == 0o600
    assert mode(tmp_path / "d" / "s") == 0o600
    assert warn_if_readable_by_others(tmp_path / "d" / "f", tmp_path / "absent") == []


def test_a_secret_rewritten_over_an_open_file_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "demo_password"
    path.write_text("old")
    path.chmod(0o644)
    write_private_text(path, "new")
    assert (path.read_text(), mode(path)) == ("new", 0o600)
