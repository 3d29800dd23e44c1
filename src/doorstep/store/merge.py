"""Moving everything of one contact to another (docs/contacts.md, "Merging")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Contact
from doorstep.store.rows import to_contact
from doorstep.store.tables import (
    contact_merges,
    contact_notes,
    contacts,
    conversations,
    page_views,
    visitor_events,
    visitors,
    visits,
)

OWNED = (visitors, visits, page_views, visitor_events, conversations, contact_notes)


async def move_contact_rows(conn: AsyncConnection, source_id: int, target_id: int) -> list[int]:
    """Re-point every row the source contact owns; nothing is copied, so nothing doubles.

    Returns the ids of the browsers (visitors) that moved.
    """
    moved = (
        (
            await conn.execute(
                select(visitors.c.id)
                .where(visitors.c.contact_id == source_id)
                .order_by(visitors.c.id)
            )
        )
        .scalars()
        .all()
    )
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
    return list(moved)


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
            email_verified=False,
            external_id_verified=False,
            attributes={},
            tags=[],
        )
    )


async def set_contact_fields(
    conn: AsyncConnection, contact_id: int, values: dict[str, Any]
) -> None:
    if values:
        await conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))


async def record_merge(
    conn: AsyncConnection,
    source: Contact,
    target_id: int,
    *,
    kind: str,
    operator_id: int | None,
    visitor_ids: list[int],
    now: datetime,
) -> None:
    await conn.execute(
        insert(contact_merges).values(
            site_id=source.site_id,
            source_contact_id=source.id,
            target_contact_id=target_id,
            kind=kind,
            operator_id=operator_id,
            source_name=source.name,
            source_email=source.email,
            visitor_ids=visitor_ids,
            created_at=now,
        )
    )


async def merges_of_site(
    conn: AsyncConnection, site_id: int, *, kind: str | None, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    """The site's recorded merges, newest first, with the survivor's current name and email."""
    query = (
        select(
            contact_merges,
            contacts.c.name.label("target_name"),
            contacts.c.email.label("target_email"),
        )
        .join(contacts, contacts.c.id == contact_merges.c.target_contact_id)
        .where(contact_merges.c.site_id == site_id)
        .order_by(contact_merges.c.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(contact_merges.c.kind == kind)
    if before_id is not None:
        query = query.where(contact_merges.c.id < before_id)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def contacts_sharing_email(conn: AsyncConnection, contact: Contact) -> list[Contact]:
    """Other live contacts of the site with the same email, whatever its case."""
    if not contact.email:
        return []
    query = (
        select(contacts)
        .where(
            contacts.c.site_id == contact.site_id,
            func.lower(contacts.c.email) == contact.email.lower(),
            contacts.c.merged_into_id.is_(None),
            contacts.c.id != contact.id,
        )
        .order_by(contacts.c.id)
        .limit(20)
    )
    return [to_contact(row) for row in await conn.execute(query)]
