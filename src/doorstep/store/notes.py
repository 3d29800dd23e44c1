"""Private notes operators keep on a contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.tables import contact_notes, operators


async def insert_note(
    conn: AsyncConnection, contact_id: int, operator_id: int, text: str, now: datetime
) -> int:
    result = await conn.execute(
        insert(contact_notes)
        .values(contact_id=contact_id, operator_id=operator_id, text=text, created_at=now)
        .returning(contact_notes.c.id)
    )
    return result.scalar_one()


async def notes_of_contact(conn: AsyncConnection, contact_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(contact_notes, operators.c.name.label("operator_name"))
        .outerjoin(operators, operators.c.id == contact_notes.c.operator_id)
        .where(contact_notes.c.contact_id == contact_id)
        .order_by(contact_notes.c.id.desc())
    )
    return [dict(row._mapping) for row in rows]


async def delete_note(conn: AsyncConnection, contact_id: int, note_id: int) -> bool:
    result = await conn.execute(
        delete(contact_notes).where(
            contact_notes.c.id == note_id, contact_notes.c.contact_id == contact_id
        )
    )
    return result.rowcount > 0
