"""SQLite's WAL checkpoints on their own thread (store/sqlite_checkpoint.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.store.engine import Database
from doorstep.store.sqlite_checkpoint import Checkpointer

BLOB_BYTES = 256 * 1024  # 64 pages of 4 KiB


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    assert database.checkpointer is not None
    database.checkpointer.interval = 3600  # tests call checkpoint() themselves
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER, data BLOB)"))
    yield database
    await database.dispose()


async def _write(db: Database, transactions: int, start: int = 0) -> None:
    for n in range(start, start + transactions):
        async with db.transaction() as conn:
            await conn.execute(
                text("INSERT INTO t VALUES (:n, randomblob(:size))"), {"n": n, "size": BLOB_BYTES}
            )


async def test_commits_leave_the_log_to_the_checkpointer(db) -> None:
    # 20 transactions of 64 pages: past the 1,000 pages at which a commit would checkpoint.
    await _write(db, 20)
    result = db.checkpointer.checkpoint()
    assert result.log_pages > 1000, "a commit checkpointed the log itself"
    assert result.copied_pages == result.log_pages
    assert not result.restarted


async def test_a_long_log_is_restarted(db, tmp_path: Path) -> None:
    checkpointer = Checkpointer(str(tmp_path / "c.db"), restart_pages=100)
    await _write(db, 5)
    first = checkpointer.checkpoint()
    assert first.log_pages >= 5 * 64 and first.restarted
    await _write(db, 1, start=5)
    # The next commit wrote from the log's beginning: the log holds just that transaction.
    after = checkpointer.checkpoint()
    assert after.log_pages < 2 * 64 and after.copied_pages == after.log_pages


async def test_nothing_is_lost_while_checkpoints_run_beside_the_writer(db, tmp_path) -> None:
    checkpointer = Checkpointer(str(tmp_path / "c.db"), restart_pages=200)
    stop = threading.Event()

    def keep_checkpointing() -> None:
        while not stop.is_set():
            checkpointer.checkpoint()

    thread = threading.Thread(target=keep_checkpointing)
    thread.start()
    try:
        await _write(db, 60)
    finally:
        stop.set()
        thread.join()
    assert checkpointer.passes > 0
    checkpointer.checkpoint()
    check = sqlite3.connect(tmp_path / "c.db")
    try:
        assert check.execute("SELECT count(*), sum(n) FROM t").fetchone() == (60, sum(range(60)))
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        check.close()


async def test_the_thread_checkpoints_until_the_database_is_disposed(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    checkpointer = db.checkpointer
    assert checkpointer is not None
    checkpointer.interval = 0.01
    async with db.transaction() as conn:  # the first write transaction starts the thread
        await conn.execute(text("CREATE TABLE t (n INTEGER, data BLOB)"))
    await _write(db, 3)
    for _ in range(500):
        if checkpointer.passes >= 2:
            break
        await asyncio.sleep(0.01)
    assert checkpointer.passes >= 2
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    await db.dispose()
    assert not thread.is_alive()


async def test_a_restart_gives_up_on_a_long_read(db, tmp_path: Path) -> None:
    checkpointer = Checkpointer(str(tmp_path / "c.db"), restart_pages=100)
    await _write(db, 2)
    reader = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot on the log
        await _write(db, 3, start=2)
        started = time.monotonic()
        result = checkpointer.checkpoint()
        took = time.monotonic() - started
    finally:
        reader.close()
    assert not result.restarted
    assert took < 2  # gave up after RESTART_WAIT_MS, not the connection's 30 s
    await _write(db, 1, start=5)  # and writers go on
    assert checkpointer.checkpoint().restarted


async def test_a_truncate_empties_the_log_file_once_no_reader_needs_it(db, tmp_path) -> None:
    log_file = tmp_path / "c.db-wal"
    await _write(db, 2)
    reader = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot on the log
        await _write(db, 1, start=2)
        assert not db.checkpointer.truncate()
    finally:
        reader.close()
    assert log_file.stat().st_size > 0
    assert db.checkpointer.checkpoint().truncated  # the next pass does it
    assert log_file.stat().st_size == 0
    await _write(db, 1, start=3)
    assert not db.checkpointer.checkpoint().truncated  # and then passes are as before
