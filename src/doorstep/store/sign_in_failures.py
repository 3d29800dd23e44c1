"""Failed console sign-ins, kept for every node to throttle the next attempt (docs/security.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.throttling import RecentFailures
from doorstep.store.tables import sign_in_failures as failures

# The rules never need more than the newest few dozen of each kind; a bound keeps the read
# small whatever got recorded by attempts that raced each other.
_NEWEST = 100


async def recent_failures(
    conn: AsyncConnection, *, email: str, address: str, since: datetime
) -> RecentFailures:
    return RecentFailures(
        pair=await _times(conn, since, failures.c.email == email, failures.c.address == address),
        email=await _times(conn, since, failures.c.email == email),
        address=await _times(conn, since, failures.c.address == address),
    )


async def _times(conn: AsyncConnection, since: datetime, *where: Any) -> list[datetime]:
    query = (
        select(failures.c.created_at)
        .where(*where, failures.c.created_at > since)
        .order_by(failures.c.created_at.desc())
        .limit(_NEWEST)
    )
    return list((await conn.execute(query)).scalars())


async def record_failure(conn: AsyncConnection, *, email: str, address: str, at: datetime) -> None:
    await conn.execute(insert(failures).values(email=email, address=address, created_at=at))


async def clear_failures(conn: AsyncConnection, *, email: str, address: str) -> None:
    """After a right password: this address's mistakes for this email are forgiven."""
    await conn.execute(
        delete(failures).where(and_(failures.c.email == email, failures.c.address == address))
    )


async def delete_failures_before(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(failures).where(failures.c.created_at <= before))
    return result.rowcount
