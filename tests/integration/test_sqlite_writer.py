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

    async with db.writer_connection() as (_conn, driver):  # the one writer connection
        pass
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


async def test_commits_go_to_the_connections_thread_while_a_checkpoint_runs(db) -> None:
    async def work(db, _driver):
        db.checkpointer.running = True  # as while the checkpoint thread syncs the database
        try:
            async with db.transaction() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        finally:
            db.checkpointer.running = False

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


async def test_writers_take_turns_on_the_one_held_connection(db) -> None:
    inside = 0
    most = 0

    async def write(n: int) -> None:
        nonlocal inside, most
        async with db.transaction() as conn:
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)  # let the others try to come in
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            inside -= 1

    await asyncio.gather(*(write(n) for n in range(20)))
    assert most == 1
    async with db.writer_connection() as (first, _), db.read() as reader:
        assert sorted((await reader.execute(text("SELECT n FROM t"))).scalars()) == list(range(20))
    async with db.writer_connection() as (again, _):
        assert again is first  # held, not checked out of the pool each time


async def test_a_writer_that_cannot_roll_back_is_replaced(db) -> None:
    async with db.writer_connection() as (before, _):
        pass
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (6)"))
            driver = (await conn.get_raw_connection()).driver_connection
            driver._conn.close()  # the connection died: its rollback fails
            raise RuntimeError("the work failed")
    async with db.transaction() as conn:
        await conn.execute(text("INSERT INTO t VALUES (7)"))
    async with db.writer_connection() as (after, _), db.read() as reader:
        assert after is not before
        assert (await reader.execute(text("SELECT n FROM t"))).scalars().all() == [7]


def test_one_database_serves_event_loops_one_after_another(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'loops.db'}")

    async def write(n: int) -> None:
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    asyncio.run(write(1))
    asyncio.run(write(2))

    async def count_and_close() -> int:
        async with db.read() as conn:
            found = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        await db.dispose()
        return found

    assert asyncio.run(count_and_close()) == 2
