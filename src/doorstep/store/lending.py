"""Write connections checked out of the Core's pool once and lent, one transaction at a time.

Checking a connection out of SQLAlchemy's pool and back in costs about 0.5 ms of Python for
each write transaction (a greenlet switch each way and the pool's bookkeeping): more than
SQLite takes to store a chat message, and as much as a PostgreSQL round trip
(docs/benchmarks.md). Writers therefore borrow from a few connections kept checked out:
SQLite's one writer connection, or up to `size` of PostgreSQL's pool.

A connection goes back to the pool, to be reset or replaced there, when it is invalidated or
closed, or when the borrower was cancelled: a query cut off half-way may leave the driver
busy, and the pool's reset is the one place that deals with that.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Lent = tuple[AsyncConnection, Any]  # the Core's connection and the driver's under it


class ConnectionLender:
    def __init__(self, engine: AsyncEngine, size: int, *, autocommit: bool = False) -> None:
        self.engine = engine
        self.size = size
        self.autocommit = autocommit
        self.idle: list[Lent] = []
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    def lend(self) -> Loan:
        """A connection for one borrower at a time (`async with`); at most `size` are out
        at once."""
        return Loan(self)

    async def close(self) -> None:
        """Give every idle connection back to the pool."""
        idle, self.idle = self.idle, []
        for conn, _driver in idle:
            await conn.close()

    async def _connect(self) -> Lent:
        conn = await self.engine.connect()
        if self.autocommit:
            # Transactions are the driver's own (Database.transaction); the Core never begins.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn, (await conn.get_raw_connection()).driver_connection

    def _slots_of_this_loop(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a command may run a few, one after another.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self.size), loop
        return self._slots


class Loan:
    """One borrowing of a lent connection, as an async context manager.

    A class rather than a generator-based context manager: it is entered and left around
    every write, and each generator layer costs a few microseconds on the way of a message.
    """

    __slots__ = ("_lender", "_lent", "_slots")

    def __init__(self, lender: ConnectionLender) -> None:
        self._lender = lender
        self._lent: Lent | None = None
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Lent:
        lender = self._lender
        slots = lender._slots_of_this_loop()
        await slots.acquire()
        self._slots = slots
        try:
            self._lent = lender.idle.pop() if lender.idle else await lender._connect()
        except BaseException:
            slots.release()
            raise
        return self._lent

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        lent, slots = self._lent, self._slots
        assert lent is not None and slots is not None, "a loan is left only once entered"
        self._lent = None
        try:
            # The borrower's own error leaves the connection as it was; a cancellation or
            # an exit may have cut a query off half-way.
            reusable = exc_type is None or issubclass(exc_type, Exception)
            if reusable and _usable(lent):
                self._lender.idle.append(lent)
            else:
                await lent[0].close()
        finally:
            slots.release()


def _usable(lent: Lent) -> bool:
    conn, driver = lent
    if conn.invalidated or conn.closed:
        return False
    is_closed = getattr(driver, "is_closed", None)  # asyncpg's; aiosqlite's dies invalidated
    return not (is_closed is not None and is_closed())
