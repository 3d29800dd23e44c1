"""SQLite's writer connection: statements on the event loop's thread, durable work on its own.

aiosqlite hands every call (cursor, execute, fetch, close) to the connection's thread and
wakes the event loop when it is done: about twenty hand-offs for one small write transaction,
each one a thread wake-up, an event-loop wake-up and a wait for the GIL, which together cost
more than SQLite's own work (docs/benchmarks.md). Inside a write transaction that this
connection already holds, SQLite answers from memory in microseconds and never waits for a
lock, so those calls run right here, on the event loop's thread. What can take long runs on
the connection's thread as before:

- a statement outside a transaction (it commits itself, or reads at length);
- COMMIT when the disk is slow: a commit is made here while recent commits took under 2 ms
  on average (waking the connection's thread and then the event loop again costs more than
  a quick fsync), and on the connection's thread otherwise, so that a slow disk holds up
  only the writers, never every socket. It also goes to the thread while a WAL checkpoint
  runs (store/sqlite_checkpoint.py): the checkpoint syncs megabytes into the database
  file, and the log's sync may wait behind it;
- BEGIN IMMEDIATE when another process holds the write lock: the wait for it. It is first
  tried here with no waiting at all; only when that finds the lock taken does it go to the
  thread, which waits up to the connection's busy timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 30_000
# A commit runs on the event loop's thread while commits take less than this on average:
# waking the connection's thread and then the event loop costs more than a quick fsync.
INLINE_COMMIT_SECONDS = 0.002
# Calls that run SQL; outside a transaction they may commit or read at length. Everything else
# (making or closing a cursor, ROLLBACK) is quick wherever it runs.
_STATEMENT_WORK = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "fetchone",
        "fetchmany",
        "fetchall",
        "_execute_fetchall",
        "_execute_insert",
    }
)


class InlineWriterConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs in-transaction calls on the caller's thread."""

    # Moving average of recent commits' durations, in seconds.
    commit_seconds = 0.0
    # True while something else makes the disk slow for a moment (a checkpoint).
    disk_busy: Callable[[], bool] = staticmethod(lambda: False)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._connection
        if not self._running or connection is None:
            raise ValueError("Connection closed")
        name = getattr(fn, "__name__", "")
        if name == "commit" or _is_commit(args):
            if self.commit_seconds < INLINE_COMMIT_SECONDS and not self.disk_busy():
                return self._timed(fn, *args, **kwargs)
            return await super()._execute(self._timed, fn, *args, **kwargs)
        if connection.in_transaction or name not in _STATEMENT_WORK:
            return fn(*args, **kwargs)
        if _is_begin(args):
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
            return await super()._execute(_waiting_for_lock, connection, fn, *args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)

    def _timed(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            self.commit_seconds += (took - self.commit_seconds) / 8


def connect_writer(
    database: str, *, disk_busy: Callable[[], bool] | None = None, **kwargs: Any
) -> InlineWriterConnection:
    """Like `aiosqlite.connect`, for the writer: usable from the event loop's thread too.
    `disk_busy` says when commits are to wait on the connection's thread regardless."""

    def connector() -> sqlite3.Connection:
        connection = sqlite3.connect(database, check_same_thread=False, **kwargs)
        # No busy handler on the event loop's thread: a BEGIN that would wait goes to the
        # connection's thread instead (`_waiting_for_lock`).
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    writer = InlineWriterConnection(connector, iter_chunk_size=64)
    if disk_busy is not None:
        writer.disk_busy = disk_busy
    writer._thread.daemon = True  # as aiosqlite's own connections under SQLAlchemy
    return writer


def _statement(args: tuple[Any, ...]) -> str:
    return args[0].lstrip()[:16].upper() if args and isinstance(args[0], str) else ""


def _is_begin(args: tuple[Any, ...]) -> bool:
    return _statement(args).startswith("BEGIN")


def _is_commit(args: tuple[Any, ...]) -> bool:
    return _statement(args).startswith(("COMMIT", "END"))


def _waiting_for_lock(
    connection: sqlite3.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """On the connection's thread: run `fn` with the busy timeout, then take it away again."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return fn(*args, **kwargs)
    finally:
        connection.execute("PRAGMA busy_timeout=0")
