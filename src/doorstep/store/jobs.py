"""Durable timers: rows with a due time, claimed by the worker on every node (docs/jobs.md).

Claiming takes a lease: a claimed job is invisible to other workers until its lease runs out,
so a worker that dies mid-job leaves the job to be claimed again, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.prepared import Prepared
from doorstep.store.tables import jobs

PARKED = datetime(9999, 1, 1, tzinfo=UTC)  # a lease that never ends: given up after retries


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int


async def enqueue(
    conn: AsyncConnection,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Schedule a job; a job with the same key is rescheduled, not doubled."""
    await _ENQUEUE[conn.dialect.name].rows(
        conn, kind=kind, key=key, due_at=due_at, payload=payload, created_at=now
    )


def _enqueue(dialect: Any) -> Prepared:
    stmt = rescheduling(dialect.insert(jobs).values(attempts=0))
    return Prepared(stmt, keys=("kind", "key", "due_at", "payload", "created_at"))


def rescheduling(stmt: Any) -> Any:
    """An INSERT into jobs (SQLite's or PostgreSQL's) that reschedules a job with the same
    key instead of doubling it."""
    return stmt.on_conflict_do_update(
        index_elements=[jobs.c.key],
        set_={
            "kind": stmt.excluded.kind,
            "due_at": stmt.excluded.due_at,
            "payload": stmt.excluded.payload,
            "attempts": 0,
            "last_error": None,
            "locked_until": None,
        },
    )


_ENQUEUE = {"sqlite": _enqueue(sqlite), "postgresql": _enqueue(postgresql)}


async def cancel(conn: AsyncConnection, key: str) -> bool:
    result = await conn.execute(delete(jobs).where(jobs.c.key == key))
    return result.rowcount > 0


async def claim_due(
    conn: AsyncConnection, now: datetime, *, limit: int, lease: timedelta
) -> list[Job]:
    query = (
        select(jobs)
        .where(jobs.c.due_at <= now, or_(jobs.c.locked_until.is_(None), jobs.c.locked_until < now))
        .order_by(jobs.c.due_at, jobs.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    await conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(ids))
        .values(locked_until=now + lease, attempts=jobs.c.attempts + 1)
    )
    return [Job(r.id, r.kind, r.key, dict(r.payload or {}), r.due_at, r.attempts + 1) for r in rows]


async def complete(conn: AsyncConnection, job: Job) -> None:
    # Only the claimed version: a job rescheduled meanwhile (same key, new due time) stays.
    await conn.execute(delete(jobs).where(jobs.c.id == job.id, jobs.c.due_at == job.due_at))


async def fail(conn: AsyncConnection, job: Job, *, error: str, retry_at: datetime | None) -> None:
    """Retry at `retry_at`, or with None park the job: kept with its error for a look."""
    values: dict[str, Any] = {"last_error": error[:2000], "locked_until": None}
    if retry_at is None:
        values["locked_until"] = PARKED
    else:
        values["due_at"] = retry_at
    await conn.execute(update(jobs).where(jobs.c.id == job.id).values(**values))


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """When the next job becomes claimable: unleased ones at their due time, leased ones when
    their lease runs out; parked jobs never."""
    free = (
        await conn.execute(select(func.min(jobs.c.due_at)).where(jobs.c.locked_until.is_(None)))
    ).scalar()
    leased = (
        await conn.execute(
            select(func.min(jobs.c.locked_until)).where(jobs.c.locked_until < PARKED)
        )
    ).scalar()
    # Aggregates lose the column type on SQLite; read them back through it.
    moments = [_as_utc(m) for m in (free, leased) if m is not None]
    return min(moments) if moments else None


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def pending(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(jobs).order_by(jobs.c.due_at, jobs.c.id))
    return [dict(r._mapping) for r in rows]
