"""SQLite: a segment's members found in a worker process, away from the event loop.

docs/security.md ("Expensive queries"). SQLite has no regular expressions, so the regex
engine of the domain runs as a Python function called by SQLite for every URL it compares.
Each call holds the GIL; on a reader thread of the server, a preview over long URLs made the
event loop wait for the GIL again and again, and visitors' acknowledgements went from 3 to
67 ms. Here the whole filter is evaluated in a worker process, at a lower scheduling priority
than the server, on its own connection: the server's event loop never waits for it. The
worker answers the matching contacts' ids; the server loads the few it shows.

The worker stops its statement when the read's deadline passes (a progress handler, and a
look at the clock before each regex call) and answers QueryTooSlow. Workers start on first
use, one per concurrent read allowed (store/bounded_reads.py), and last as long as the server;
the time left is counted from when the worker begins, so the first query after a start is not
charged with the worker's own start (up to STARTUP_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, literal, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from doorstep.domain import segments as rules
from doorstep.domain.segments import Group
from doorstep.store.bounded_reads import AT_ONCE, Deadline, QueryTooSlow
from doorstep.store.segment_sql import REGEX_FUNCTION, regex_function, scope
from doorstep.store.tables import contacts
from doorstep.store.visitors import matching_name_or_email

# Below the server's priority: on a busy machine the event loop gets the CPU first.
NICENESS = 10
# SQLite calls the progress handler every this many virtual-machine steps (well under a
# millisecond of its work).
PROGRESS_STEPS = 10_000
# How long a worker may take to start (import the code) before a read gives up on it.
STARTUP_SECONDS = 20.0

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the server has threads (aiosqlite's) that a fork would copy
        # half-way through whatever they were doing.
        _pool = ProcessPoolExecutor(
            AT_ONCE, mp_context=multiprocessing.get_context("spawn"), initializer=_start
        )
    return _pool


async def matching_ids(
    conn: AsyncConnection,
    site_id: int,
    group: Group,
    now: datetime,
    *,
    deadline: Deadline,
    limit: int,
    count: bool = False,
    before_id: int | None = None,
    query: str | None = None,
) -> tuple[int | None, list[int]]:
    """The ids of the first `limit` members, newest first, and with `count` how many there
    are in all (one pass over the data for both). QueryTooSlow after the deadline."""
    path = conn.engine.url.database
    assert path, "SQLite's readers and writer share a file"
    job = (path, site_id, rules.filter_to_json(group), now, limit, count, before_id, query)
    future = asyncio.get_running_loop().run_in_executor(
        _executor(), _evaluate, deadline.remaining(), *job
    )
    try:
        # The worker keeps the deadline itself; the margin covers a worker's first start.
        async with asyncio.timeout(max(0.0, deadline.remaining()) + STARTUP_SECONDS):
            return await future
    except TimeoutError:
        raise QueryTooSlow from None


# In the worker process -------------------------------------------------------------------


def _start() -> None:
    os.nice(NICENESS)
    # Linux: run only when no other process wants the CPU, so the server's event loop (and
    # its database) never waits for a core behind a preview; the time limit still stops it.
    if hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


@lru_cache(maxsize=8)
def _engine(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")
        dbapi_connection.execute("PRAGMA busy_timeout=5000")

    return engine


def _evaluate(
    seconds: float,
    path: str,
    site_id: int,
    filter_json: dict[str, Any],
    now: datetime,
    limit: int,
    count: bool,
    before_id: int | None,
    query: str | None,
) -> tuple[int | None, list[int]]:
    deadline = Deadline.after(seconds)
    group = rules.parse_filter(filter_json)
    # With `count`, the count of all matching rows beside each of the first ones: one pass.
    total = func.count().over() if count else literal(None)
    stmt = select(contacts.c.id, total).where(*scope("sqlite", site_id, group, now))
    if query:
        stmt = stmt.where(matching_name_or_email(query))
    if before_id is not None:
        stmt = stmt.where(contacts.c.id < before_id)
    stmt = stmt.order_by(contacts.c.id.desc()).limit(max(1, limit))
    with _engine(path).connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.create_function(REGEX_FUNCTION, 2, regex_function(group, deadline), deterministic=True)
        raw.set_progress_handler(_stop_after(deadline), PROGRESS_STEPS)
        try:
            rows = conn.execute(stmt).all()
        except OperationalError:
            if deadline.passed():
                raise QueryTooSlow from None
            raise
        finally:
            raw.set_progress_handler(None, PROGRESS_STEPS)
    matching = (rows[0][1] if rows else 0) if count else None
    return matching, [row[0] for row in rows[:limit]]


def _stop_after(deadline: Deadline) -> Any:
    passed = deadline.passed

    def handler() -> int:  # non-zero interrupts the statement
        return 1 if passed() else 0

    return handler
