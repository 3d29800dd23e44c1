"""Write connections lent one transaction at a time (store/lending.py), on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from doorstep.store.engine import Database
from doorstep.store.lending import ConnectionLender


@pytest.fixture
async def db(database_url: str):
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


async def _server_pid(db: Database) -> int:
    async with db.transaction() as conn:
        if db.is_sqlite:
            return id((await conn.get_raw_connection()).driver_connection)
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_one_writer_after_another_gets_the_same_connection(db) -> None:
    first = await _server_pid(db)
    assert await _server_pid(db) == first


async def test_no_more_than_size_writers_at_once(db) -> None:
    out = most = 0

    async def write() -> None:
        nonlocal out, most
        async with db.transaction() as conn:
            out += 1
            most = max(most, out)
            await asyncio.sleep(0.005)
            await conn.execute(text("SELECT 1"))
            out -= 1

    await asyncio.gather(*(write() for _ in range(8)))
    assert most == db.lender.size


async def test_a_borrowers_error_rolls_back_and_keeps_the_connection(db) -> None:
    before = await _server_pid(db)
    with pytest.raises(ValueError):
        async with db.transaction() as conn:
            await conn.execute(text("SELECT 1"))
            raise ValueError("the work failed")
    assert await _server_pid(db) == before


async def test_a_connection_the_server_ended_is_replaced(db) -> None:
    if db.is_sqlite:
        pytest.skip("a server ends connections only on PostgreSQL")
    doomed = await _server_pid(db)
    async with db.read() as conn:
        await conn.execute(text(f"SELECT pg_terminate_backend({doomed})"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error for a lost connection
        async with db.transaction() as conn:
            await conn.execute(text("SELECT 1"))
    assert await _server_pid(db) != doomed


async def test_a_cancelled_borrower_leaves_nothing_busy(db) -> None:
    query = "SELECT 1" if db.is_sqlite else "SELECT pg_sleep(5)"

    async def slow() -> None:
        async with db.transaction() as conn:
            await asyncio.sleep(1 if db.is_sqlite else 0)
            await conn.execute(text(query))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.wait([task])
    # Cancelled, or (asyncpg) failed because the cancel closed the driver's connection.
    assert task.cancelled() or task.exception() is not None
    async with asyncio.timeout(3):  # not the 5 s of the cancelled query
        async with db.transaction() as conn:
            assert (await conn.execute(text("SELECT 41 + 1"))).scalar_one() == 42


async def test_a_failed_connect_gives_its_turn_back() -> None:
    # Nothing listens on port 1: every connect fails at once.
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    lender = ConnectionLender(engine, 1, autocommit=True)
    try:
        for _ in range(3):  # with its one turn kept, the second borrower would wait forever
            with pytest.raises(ConnectionRefusedError):
                async with asyncio.timeout(5):  # TimeoutError is not the error awaited
                    async with lender.lend():
                        pass
        assert lender.idle == []
    finally:
        await engine.dispose()
