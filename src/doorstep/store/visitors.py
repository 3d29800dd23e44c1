"""Visitors (one browser each), the contacts they belong to, and their tracked events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Contact, Visitor
from doorstep.store.rows import to_contact, to_visitor
from doorstep.store.tables import contacts, visitors


async def insert_visitor(
    conn: AsyncConnection, *, site_id: int, locale: str | None, now: datetime
) -> Visitor:
    """A new browser and the anonymous contact it starts as."""
    contact = await insert_contact(conn, site_id, now)
    return await insert_browser(conn, contact.id, site_id, locale, now)


async def insert_contact(
    conn: AsyncConnection, site_id: int, now: datetime, **fields: Any
) -> Contact:
    row = (
        await conn.execute(
            insert(contacts)
            .values(site_id=site_id, attributes={}, created_at=now, last_seen_at=now, **fields)
            .returning(*contacts.c)
        )
    ).one()
    return to_contact(row)


async def insert_browser(
    conn: AsyncConnection, contact_id: int, site_id: int, locale: str | None, now: datetime
) -> Visitor:
    """A new visitor (browser) of an existing contact."""
    row = (
        await conn.execute(
            insert(visitors)
            .values(
                site_id=site_id,
                contact_id=contact_id,
                locale=locale,
                created_at=now,
                last_seen_at=now,
            )
            .returning(*visitors.c)
        )
    ).one()
    return to_visitor(row)


async def visitor_by_id(conn: AsyncConnection, visitor_id: int) -> Visitor | None:
    row = (await conn.execute(select(visitors).where(visitors.c.id == visitor_id))).first()
    return to_visitor(row) if row else None


async def touch_visitor(
    conn: AsyncConnection, visitor: Visitor, *, locale: str | None, now: datetime
) -> None:
    await conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor.id)
        .values(last_seen_at=now, locale=locale or visitor.locale)
    )
    await conn.execute(
        update(contacts).where(contacts.c.id == visitor.contact_id).values(last_seen_at=now)
    )


async def contact_by_id(conn: AsyncConnection, contact_id: int) -> Contact | None:
    row = (await conn.execute(select(contacts).where(contacts.c.id == contact_id))).first()
    return to_contact(row) if row else None


async def update_contact(
    conn: AsyncConnection,
    contact_id: int,
    *,
    fields: dict[str, Any],
    attributes: dict[str, Any] | None = None,
) -> Contact:
    """Set profile fields and merge custom attributes (a None attribute value removes it)."""
    current = await contact_by_id(conn, contact_id)
    assert current is not None, "contact must exist inside the calling transaction"
    values: dict[str, Any] = dict(fields)
    if attributes:
        merged = dict(current.attributes)
        for key, value in attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        values["attributes"] = merged
    if values:
        await conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))
    updated = await contact_by_id(conn, contact_id)
    assert updated is not None
    return updated


async def list_contacts(
    conn: AsyncConnection,
    site_ids: set[int],
    *,
    query: str | None,
    limit: int,
    before_id: int | None,
) -> list[Contact]:
    stmt = select(contacts).where(
        contacts.c.site_id.in_(site_ids), contacts.c.merged_into_id.is_(None)
    )
    if query:
        stmt = stmt.where(matching_name_or_email(query))
    if before_id is not None:
        stmt = stmt.where(contacts.c.id < before_id)
    stmt = stmt.order_by(contacts.c.id.desc()).limit(limit)
    return [to_contact(r) for r in await conn.execute(stmt)]


def touch_contact(contact_id: Any) -> Any:
    """PostgreSQL: an UPDATE that changes no value yet gives the contact's row a new version,
    under the row's lock. Every writer that starts a conversation for a contact holds this
    lock, so one statement can tell from the row's version whether a conversation may have
    been started since its snapshot (store/conversations.py, `start_conversation_alone`)."""
    return update(contacts).where(contacts.c.id == contact_id).values(id=contacts.c.id)


_LOCK_CONTACT = touch_contact(bindparam("b_id"))


async def lock_contact(conn: AsyncConnection, contact_id: int) -> bool:
    """Serialise writers acting for one contact; True when other writers may have run since
    the transaction began (a PostgreSQL row lock), so what was read before is to be read
    again. On SQLite the write transaction excludes every other writer from its start."""
    if conn.dialect.name == "sqlite":
        return False
    await conn.execute(_LOCK_CONTACT, {"b_id": contact_id})
    return True


async def contacts_by_ids(conn: AsyncConnection, contact_ids: list[int]) -> list[Contact]:
    if not contact_ids:
        return []
    rows = await conn.execute(select(contacts).where(contacts.c.id.in_(contact_ids)))
    return [to_contact(row) for row in rows]


async def delete_contact(conn: AsyncConnection, contact_id: int) -> None:
    """Delete a contact and, by cascade, everything it owns; shells merged into it go too."""
    await conn.execute(delete(contacts).where(contacts.c.merged_into_id == contact_id))
    await conn.execute(delete(contacts).where(contacts.c.id == contact_id))


async def iterate_contacts(
    conn: AsyncConnection,
    site_ids: set[int],
    *,
    query: str | None,
    extra: Any = None,
    batch: int = 500,
) -> Any:
    """Every live contact of the sites, oldest first, fetched in batches (for exports)."""
    after = 0
    while True:
        stmt = select(contacts).where(
            contacts.c.site_id.in_(site_ids),
            contacts.c.merged_into_id.is_(None),
            contacts.c.id > after,
        )
        if query:
            stmt = stmt.where(matching_name_or_email(query))
        if extra is not None:
            stmt = stmt.where(extra)
        rows = [
            to_contact(r) for r in await conn.execute(stmt.order_by(contacts.c.id).limit(batch))
        ]
        if not rows:
            return
        for contact in rows:
            yield contact
        after = rows[-1].id


def matching_name_or_email(query: str) -> Any:
    """Contacts whose name or email contains the text, whatever its case; % and _ are plain."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        func.lower(contacts.c.email).like(pattern, escape="\\"),
        func.lower(contacts.c.name).like(pattern, escape="\\"),
    )
