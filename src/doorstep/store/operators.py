"""Operators, their console sessions and their API tokens (stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Operator
from doorstep.store.rows import to_operator
from doorstep.store.tables import api_tokens, operator_sessions, operators


async def insert_operator(
    conn: AsyncConnection, *, email: str, name: str, password_hash: str, role: str, now: datetime
) -> Operator:
    row = (
        await conn.execute(
            insert(operators)
            .values(
                email=email,
                name=name,
                password_hash=password_hash,
                role=role,
                status="online",
                created_at=now,
            )
            .returning(*operators.c)
        )
    ).one()
    return to_operator(row)


async def operator_by_id(conn: AsyncConnection, operator_id: int) -> Operator | None:
    row = (await conn.execute(select(operators).where(operators.c.id == operator_id))).first()
    return to_operator(row) if row else None


async def operator_with_hash(conn: AsyncConnection, email: str) -> tuple[Operator, str] | None:
    query = select(operators).where(func.lower(operators.c.email) == email.lower())
    row = (await conn.execute(query)).first()
    return (to_operator(row), row.password_hash) if row else None


async def set_password_hash(conn: AsyncConnection, operator_id: int, password_hash: str) -> None:
    await conn.execute(
        update(operators).where(operators.c.id == operator_id).values(password_hash=password_hash)
    )


async def set_status(conn: AsyncConnection, operator_id: int, status: str) -> None:
    await conn.execute(update(operators).where(operators.c.id == operator_id).values(status=status))


async def insert_session(
    conn: AsyncConnection, *, operator_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        insert(operator_sessions).values(
            operator_id=operator_id, token_hash=token_hash, created_at=now, expires_at=expires_at
        )
    )


async def session_of_token(
    conn: AsyncConnection, token_hash: str, now: datetime
) -> tuple[Operator, int, datetime] | None:
    """The operator, the session's id and its expiry, for a session that has not expired."""
    session = operator_sessions.c
    query = (
        select(operators, session.id.label("session_id"), session.expires_at)
        .join(operator_sessions, session.operator_id == operators.c.id)
        .where(session.token_hash == token_hash, session.expires_at > now)
    )
    row = (await conn.execute(query)).first()
    return (to_operator(row), row.session_id, row.expires_at) if row else None


async def session_expiry(conn: AsyncConnection, session_id: int) -> datetime | None:
    """When the session expires; None once it has been ended."""
    query = select(operator_sessions.c.expires_at).where(operator_sessions.c.id == session_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def delete_session(conn: AsyncConnection, token_hash: str) -> tuple[int, int] | None:
    """Ends one session; returns its id and its operator's, or None if there was none."""
    row = (
        await conn.execute(
            delete(operator_sessions)
            .where(operator_sessions.c.token_hash == token_hash)
            .returning(operator_sessions.c.id, operator_sessions.c.operator_id)
        )
    ).first()
    return (row.id, row.operator_id) if row else None


async def delete_sessions_of_operator(
    conn: AsyncConnection, operator_id: int, *, keep: int | None = None
) -> list[int]:
    """Ends every session of the operator but `keep`; returns the ids of those ended."""
    query = delete(operator_sessions).where(operator_sessions.c.operator_id == operator_id)
    if keep is not None:
        query = query.where(operator_sessions.c.id != keep)
    result = await conn.execute(query.returning(operator_sessions.c.id))
    return sorted(result.scalars())


async def insert_api_token(
    conn: AsyncConnection, *, operator_id: int, name: str, token_hash: str, now: datetime
) -> int:
    result = await conn.execute(
        insert(api_tokens)
        .values(operator_id=operator_id, name=name, token_hash=token_hash, created_at=now)
        .returning(api_tokens.c.id)
    )
    return result.scalar_one()


async def operator_of_api_token(conn: AsyncConnection, token_hash: str) -> Operator | None:
    query = (
        select(operators)
        .join(api_tokens, api_tokens.c.operator_id == operators.c.id)
        .where(api_tokens.c.token_hash == token_hash)
    )
    row = (await conn.execute(query)).first()
    return to_operator(row) if row else None


async def delete_expired_sessions(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(
        delete(operator_sessions).where(operator_sessions.c.expires_at <= now)
    )
    return result.rowcount
