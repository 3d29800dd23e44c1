"""Moving everything of one contact to another (docs/contacts.md, "Merging")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.tables import (
    contact_notes,
    contacts,
    conversations,
    page_views,
    visitor_events,
    visitors,
    visits,
)

OWNED = (visitors, visits, page_views, visitor_events, conversations, contact_notes)


async def contact_with_email(
    conn: AsyncConnection, site_id: int, email: str, *, other_than: int
) -> int | None:
    """The oldest live contact of the site with this email, other than the given one."""
    row = (
        await conn.execute(
            select(contacts.c.id)
            .where(
                contacts.c.site_id == site_id,
                contacts.c.email == email,
                contacts.c.merged_into_id.is_(None),
                contacts.c.id != other_than,
            )
            .order_by(contacts.c.id)
            .limit(1)
            .with_for_update()
        )
    ).first()
    return row[0] if row else None


async def move_contact_rows(conn: AsyncConnection, source_id: int, target_id: int) -> None:
    """Re-point every row the source contact owns; nothing is copied, so nothing doubles."""
    for table in OWNED:
        await conn.execute(
            update(table).where(table.c.contact_id == source_id).values(contact_id=target_id)
        )
    # Forwarding addresses that pointed at the source now point at the target.
    await conn.execute(
        update(contacts)
        .where(contacts.c.merged_into_id == source_id)
        .values(merged_into_id=target_id)
    )


async def retire_contact(conn: AsyncConnection, source_id: int, target_id: int) -> None:
    """Keep the merged contact as an empty forwarding address to the survivor."""
    await conn.execute(
        update(contacts)
        .where(contacts.c.id == source_id)
        .values(
            merged_into_id=target_id,
            email=None,
            name=None,
            phone=None,
            external_id=None,
            attributes={},
            tags=[],
        )
    )


async def set_contact_fields(
    conn: AsyncConnection, contact_id: int, values: dict[str, Any]
) -> None:
    if values:
        await conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))
