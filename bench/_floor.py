"""The storage half of the floor: one durable single-row commit, and bench databases.

SQLite as Doorstep opens it (src/doorstep/store/engine.py): WAL, synchronous=FULL, a write
transaction opened with BEGIN IMMEDIATE. PostgreSQL through asyncpg with the server's default
synchronous_commit: one INSERT in autocommit, i.e. one round trip and one WAL flush.

Commits are made back to back (`interval` 0) or one every `interval` seconds, as messages
arrive at a given rate: a commit after an idle spell costs several times one in a tight loop
on this kind of machine (the disk and the CPU have gone quiet), and Doorstep's messages at
that rate pay the same.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from pathlib import Path

import asyncpg

ROW_TEXT = "Hi, a question about order #123: where is my parcel? (sent 1234567890123)"


def _until_next(interval: float, started_ns: int) -> float:
    """Seconds left until `interval` after the start of the previous commit."""
    return max(0.0, interval - (time.monotonic_ns() - started_ns) / 1e9)


def sqlite_commits(
    path: Path, count: int, synchronous: str = "FULL", interval: float = 0.0
) -> list[int]:
    """Nanoseconds of each BEGIN IMMEDIATE + INSERT + COMMIT on a WAL database."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY,"
            " conversation_id INTEGER NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL,"
            " created_at TEXT NOT NULL)"
        )
        timings: list[int] = []
        started = time.monotonic_ns()
        for i in range(count):
            if i and interval > 0:
                time.sleep(_until_next(interval, started))
            started = time.monotonic_ns()
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO t (conversation_id, seq, text, created_at) VALUES (?, ?, ?, ?)",
                (i % 100, i, ROW_TEXT, "2026-11-25 12:00:00.123000"),
            )
            db.execute("COMMIT")
            timings.append(time.monotonic_ns() - started)
        return timings
    finally:
        db.close()


async def _pg_commits(dsn: str, count: int, interval: float) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE bench_floor (id BIGSERIAL PRIMARY KEY, conversation_id BIGINT NOT NULL,"
            " seq INTEGER NOT NULL, text TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
        )
        insert = await conn.prepare(
            "INSERT INTO bench_floor (conversation_id, seq, text, created_at)"
            " VALUES ($1, $2, $3, now())"
        )
        timings: list[int] = []
        started = time.monotonic_ns()
        for i in range(count):
            if i and interval > 0:
                await asyncio.sleep(_until_next(interval, started))
            started = time.monotonic_ns()
            await insert.fetch(i % 100, i, ROW_TEXT)  # autocommit: one statement, one commit
            timings.append(time.monotonic_ns() - started)
        await conn.execute("DROP TABLE bench_floor")
        return timings
    finally:
        await conn.close()


def pg_commits(dsn: str, count: int, interval: float = 0.0) -> list[int]:
    return asyncio.run(_pg_commits(dsn, count, interval))


def pg_setting(dsn: str, name: str) -> str:
    async def go() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            return str(await conn.fetchval(f"SHOW {name}"))
        finally:
            await conn.close()

    return asyncio.run(go())


def create_pg_database(admin_dsn: str) -> str:
    """A fresh database `doorstep_bench_<random>`; returns its name."""
    name = f"doorstep_bench_{secrets.token_hex(4)}"

    async def go() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(go())
    return name


def drop_pg_database(admin_dsn: str, name: str) -> None:
    assert name.startswith("doorstep_bench_")

    async def go() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(go())


def with_database(dsn: str, name: str) -> str:
    """The DSN with its database path replaced: postgresql://u@h:p/ -> postgresql://u@h:p/name."""
    head, sep, tail = dsn.partition("://")
    authority = tail.split("/", 1)[0]
    return f"{head}{sep}{authority}/{name}"
