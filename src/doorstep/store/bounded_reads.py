"""Reads with one time limit for all their statements: segment counts and lists.

docs/security.md ("Expensive queries"). An operator's filter decides how much work a segment
query is, so the whole read (waiting for its turn, every statement, every regex call) gets
one deadline, and passing it ends the read with `QueryTooSlow`:

- on PostgreSQL, each statement runs with `statement_timeout` set (for this transaction only)
  to the time left;
- on SQLite, the filter is evaluated in a worker process (store/segment_worker.py), where a
  progress handler stops the statement once the deadline has passed and the regex function
  checks it too, so no statement outlives it by more than a few thousand steps of SQLite or
  one text matched. What the read runs here (access checks, loading a page of contacts by
  id) is quick, and only checked against the deadline before it starts.

At most `AT_ONCE` such reads (half the cores) run at a time on a node: the others wait their
turn within their deadline, so they never hold all of SQLite's read connections, nor more than
half the machine, away from visitors.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.engine import Database

# Half the cores (at least one) for operators' expensive reads; visitors keep the rest.
AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for statement_timeout


class QueryTooSlow(Exception):
    """The read did not finish before its deadline; nothing it started is still running."""


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def check(self) -> None:
        if self.passed():
            raise QueryTooSlow


@dataclass(frozen=True, slots=True)
class BoundedRead:
    conn: AsyncConnection
    deadline: Deadline


# One gate per database and event loop: a semaphore belongs to the loop it first waits on.
_gates: weakref.WeakKeyDictionary[Database, tuple[Any, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _gate(db: Database) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    found = _gates.get(db)
    if found is None or found[0] is not loop:
        found = _gates[db] = (loop, asyncio.Semaphore(AT_ONCE))
    return found[1]


@asynccontextmanager
async def bounded_read(db: Database, seconds: float) -> AsyncIterator[BoundedRead]:
    """A read snapshot whose statements must all be done within `seconds` from now;
    QueryTooSlow otherwise. Run each statement after `before_statement`."""
    deadline = Deadline.after(seconds)
    gate = _gate(db)
    try:
        async with asyncio.timeout(max(0.0, deadline.remaining())):
            await gate.acquire()
    except TimeoutError:
        raise QueryTooSlow from None
    try:
        async with db.read() as conn:
            try:
                yield BoundedRead(conn, deadline)
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) == _QUERY_CANCELED:
                    raise QueryTooSlow from None
                raise
    finally:
        gate.release()


async def before_statement(conn: AsyncConnection, deadline: Deadline | None) -> None:
    """Give the next statement the time left (PostgreSQL: for this transaction only)."""
    if deadline is None:
        return
    deadline.check()
    if conn.dialect.name == "postgresql":
        milliseconds = max(1, int(deadline.remaining() * 1000))
        # SET cannot take a parameter; set_config(..., true) is SET LOCAL that can. No
        # parallel workers: an operator's read takes one backend's core, never all of them.
        await conn.execute(
            select(
                func.set_config("statement_timeout", f"{milliseconds}ms", True),
                func.set_config("max_parallel_workers_per_gather", "0", True),
            )
        )
