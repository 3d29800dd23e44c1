"""Database engines: SQLite (WAL, one writer connection) or PostgreSQL (asyncpg pool).

See docs/architecture.md. Writes on SQLite go through a single connection that opens its
transactions with BEGIN IMMEDIATE, so concurrent writers queue in the pool instead of meeting
"database is locked"; reads use their own connections and never wait for the writer (WAL).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from doorstep.private_files import (
    create_private_file,
    make_private_dir,
    warn_if_readable_by_others,
)
from doorstep.store.lending import ConnectionLender, Loan
from doorstep.store.sqlite_checkpoint import Checkpointer
from doorstep.store.sqlite_writer import BUSY_TIMEOUT_MS, connect_writer


class Database:
    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Whether a statement can change several tables at once and commit by itself
        # (`autocommitted`): PostgreSQL's data-modifying WITH; SQLite has no such statement.
        self.writes_in_one_statement = not self.is_sqlite
        # Whether a write transaction excludes every other writer from its start (SQLite's
        # BEGIN IMMEDIATE), so that what it reads cannot change under it and needs no lock.
        self.serial_writes = self.is_sqlite
        # Whether what a transaction deletes is overwritten in the database's files as it is
        # deleted (SQLite's secure_delete), rather than left as dead rows until a VACUUM
        # (PostgreSQL).
        self.overwrites_deleted = self.is_sqlite
        self.checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            # The writer leaves WAL checkpoints to a thread of their own.
            self.checkpointer = Checkpointer(_ensure_sqlite_dir(url))
            self.writer = _sqlite_engine(
                url, sqlite_synchronous, immediate=True, pool_size=1, checkpointer=self.checkpointer
            )
            self.lender = ConnectionLender(self.writer, 1)
            self.reader = _sqlite_engine(url, sqlite_synchronous, immediate=False, pool_size=4)
        else:
            self.writer = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
            )
            self.reader = self.writer
            self.lender = ConnectionLender(self.writer, pool_size, autocommit=True)

    @asynccontextmanager
    async def transaction(self, *, schema_change: bool = False) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an exception.

        The transaction is the driver's own (BEGIN IMMEDIATE on SQLite, asyncpg's on
        PostgreSQL) and the Core's connection is in autocommit mode, so statements run by the
        Core and statements run on the driver (store/prepared.py) belong to it alike, and no
        Core bookkeeping runs around BEGIN and COMMIT.

        `schema_change`: on SQLite, foreign keys are not enforced during the transaction and
        are checked as a whole before it commits. A migration that has to copy a table drops
        the old one, and with foreign keys on, that drop would delete every row that refers
        to it (a contact's conversations and their messages).
        """
        if self.checkpointer is not None:
            self.checkpointer.start()
        async with self.writer_connection() as (conn, driver):
            if not self.is_sqlite:
                async with driver.transaction():
                    yield conn
                return
            if schema_change:  # only outside a transaction does SQLite take this pragma
                await driver.execute_fetchall("PRAGMA foreign_keys=OFF")
            try:
                # The transaction holds the event loop until it commits
                # (store/sqlite_writer.py): first let what is ready run, such as the sends of
                # the message before.
                await asyncio.sleep(0)
                # Runs here, or waits for another process's lock on SQLite's thread.
                await driver.execute_fetchall("BEGIN IMMEDIATE")
                try:
                    yield conn
                    if schema_change:
                        await _check_foreign_keys(driver)
                    await driver.commit()
                except BaseException:
                    try:
                        await driver.rollback()
                    except (sqlite3.Error, ValueError):
                        await conn.invalidate()  # never hand back a connection in a transaction
                    raise
            finally:
                if schema_change and not conn.invalidated:
                    await driver.execute_fetchall("PRAGMA foreign_keys=ON")

    async def empty_log(self) -> bool:
        """SQLite: copy the write-ahead log into the database file and cut the log to
        nothing, so that the images of pages from before a deletion (the deleted text) are
        left in no file. Call it after the deletion has committed.

        Returns whether the log is empty now. While a reader still reads a snapshot from
        before the deletion, the log cannot go: the checkpointer's thread then tries again
        on each of its passes until it can. PostgreSQL keeps its log itself: True.
        """
        if self.checkpointer is None:
            return True
        return await asyncio.to_thread(self.checkpointer.truncate)

    def autocommitted(self) -> Loan:
        """PostgreSQL: a write connection and its driver's (`async with`), outside any
        transaction, each statement committed when it returns; for a write that is one
        statement, saving BEGIN and COMMIT's round trips."""
        if not self.writes_in_one_statement:
            raise RuntimeError("SQLite writes in transactions (Database.transaction)")
        return self.lender.lend()

    def writer_connection(self) -> Loan:
        """A connection for writing and its driver connection (`async with`), outside any
        transaction.

        Lent by `store/lending.py`: SQLite's one writer connection, taken in turn, or one of
        PostgreSQL's, in autocommit mode.
        """
        return self.lender.lend()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot; never blocks on the SQLite writer."""
        async with self.reader.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        await self.lender.close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


async def _check_foreign_keys(driver: Any) -> None:
    """Refuse to commit rows that refer to rows that are not there."""
    broken = await driver.execute_fetchall("PRAGMA foreign_key_check")
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(
            f"rows of {', '.join(tables)} refer to rows that are not there; rolled back"
        )


def _ensure_sqlite_dir(url: str) -> str:
    """Create the database file's directory and the file itself, both private; return the
    file's path.

    SQLite gives the `-wal` and `-shm` files it makes the database file's mode, so the file
    is created 0600 here before SQLite first opens it (an empty file is an empty database).
    """
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an SQLite database must be a file: readers and the writer share it")
    path = Path(database).expanduser()
    make_private_dir(path.parent)
    if not create_private_file(path):
        warn_if_readable_by_others(
            path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        )
    return str(path)


def _sqlite_engine(
    url: str,
    synchronous: str,
    *,
    immediate: bool,
    pool_size: int,
    checkpointer: Checkpointer | None = None,
) -> AsyncEngine:
    options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if immediate:
        # The writer runs its in-transaction statements on the event loop's thread.
        assert checkpointer is not None, "the writer leaves its checkpoints to the checkpointer"
        writer_of = checkpointer
        options = {
            "async_creator": lambda: connect_writer(
                writer_of.path, disk_busy=lambda: writer_of.running
            )
        }
    if immediate:
        # Database.transaction begins and commits on the driver; the Core never does.
        options["isolation_level"] = "AUTOCOMMIT"
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        **options,
        # Every write ends in its own COMMIT or ROLLBACK; a rollback on return to the pool
        # would be one more hop to SQLite's thread for nothing.
        pool_reset_on_return=None if immediate else "rollback",
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # secure_delete: SQLite overwrites with zeros what it deletes (a row, the earlier
        # version of an updated row, a freed page) instead of leaving it in the file until
        # the space is reused; with the log emptied after an erasure (`empty_log`), an
        # erased person's text is in no file (docs/security.md, "Data at rest").
        pragmas = [
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "foreign_keys=ON",
            "secure_delete=ON",
        ]
        if immediate:  # checkpoints are made on their own thread (store/sqlite_checkpoint.py)
            pragmas.append("wal_autocheckpoint=0")
        else:  # the writer waits for locks its own way (store/sqlite_writer.py)
            pragmas.append(f"busy_timeout={BUSY_TIMEOUT_MS}")
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    if not immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Straight to the driver: a statement through the Core costs more than the BEGIN.
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute("BEGIN")
            finally:
                cursor.close()

    return engine
