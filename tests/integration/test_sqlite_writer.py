"""SQLite's writer connection: where each call runs (store/sqlite_writer.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.store.engine import Database
from doorstep.store.sqlite_writer import INLINE_COMMIT_SECONDS


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield database
    await database.dispose()


async def _threads_of_statements(db: Database, work) -> dict[str, int]:
    """Run `work(db, driver)`; which thread ran each statement, by its first word."""
    seen: dict[str, int] = {}

    def trace(statement: str) -> None:
        seen[statement.split()[0].upper()] = threading.get_ident()

    async with db.writer.connect() as conn:  # the pool's one writer connection
        driver = (await conn.get_raw_connection()).driver_connection
    driver._conn.set_trace_callback(trace)
    try:
        await work(db, driver)
    finally:
        driver._conn.set_trace_callback(None)
    return seen


async def test_statements_and_quick_commits_run_on_the_event_loops_thread(db) -> None:
    async def work(db, _driver):
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.execute(text("SELECT n FROM t"))

    seen = await _threads_of_statements(db, work)
    here = threading.get_ident()
    assert seen == {"BEGIN": here, "INSERT": here, "SELECT": here, "COMMIT": here}


async def test_commits_go_to_the_connections_thread_when_the_disk_is_slow(db) -> None:
    async def work(db, driver):
        driver.commit_seconds = INLINE_COMMIT_SECONDS * 10  # as after slow commits
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    seen = await _threads_of_statements(db, work)
    assert seen["INSERT"] == threading.get_ident()
    assert seen["COMMIT"] != threading.get_ident()


async def test_a_statement_outside_a_transaction_runs_on_the_connections_thread(db) -> None:
    async def work(_db, driver):
        await driver.execute("INSERT INTO t VALUES (2)")

    seen = await _threads_of_statements(db, work)
    assert seen["INSERT"] != threading.get_ident()


async def test_waiting_for_another_process_lock_does_not_block_the_event_loop(
    db, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (3)"))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # still waiting for the lock, on the connection's thread
    assert ticks >= 10  # while the event loop kept running
    other.execute("COMMIT")
    await asyncio.wait_for(writing, timeout=5)
    ticking.cancel()
    other.close()
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [3]


async def test_a_failing_statement_rolls_back_and_leaves_the_writer_usable(db) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (4)"))
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    async with db.transaction() as conn:
        await conn.execute(text("INSERT INTO t VALUES (5)"))
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [5]
