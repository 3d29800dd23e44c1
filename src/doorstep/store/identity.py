"""Contacts by proven identity, a contact's browsers, and voiding their tokens
(docs/contacts.md, "Identity")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.identity import Proof
from doorstep.store.tables import contacts, visitors, visits


async def contact_proven_as(conn: AsyncConnection, site_id: int, proof: Proof) -> int | None:
    """The oldest live contact of the site that has proven this identity, locked."""
    if proof.kind == "user_id":
        match = (contacts.c.external_id == proof.value) & contacts.c.external_id_verified
    else:
        match = (contacts.c.email == proof.value) & contacts.c.email_verified
    row = (
        await conn.execute(
            select(contacts.c.id)
            .where(contacts.c.site_id == site_id, contacts.c.merged_into_id.is_(None), match)
            .order_by(contacts.c.id)
            .limit(1)
            .with_for_update()
        )
    ).first()
    return row[0] if row else None


async def browser_count(conn: AsyncConnection, contact_id: int) -> int:
    query = select(func.count()).select_from(visitors).where(visitors.c.contact_id == contact_id)
    return int((await conn.execute(query)).scalar_one())


async def void_tokens(conn: AsyncConnection, contact_id: int) -> int:
    """Raise the token generation of every browser of the contact; how many there were."""
    result = await conn.execute(
        update(visitors)
        .where(visitors.c.contact_id == contact_id)
        .values(token_generation=visitors.c.token_generation + 1)
    )
    return int(result.rowcount or 0)


async def browsers_of_contacts(
    conn: AsyncConnection, contact_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each contact's browsers, newest first, with the device of their latest visit."""
    if not contact_ids:
        return {}
    latest = (
        select(visits.c.visitor_id, func.max(visits.c.id).label("visit_id"))
        .where(visits.c.contact_id.in_(contact_ids))
        .group_by(visits.c.visitor_id)
        .subquery()
    )
    query = (
        select(
            visitors.c.id,
            visitors.c.contact_id,
            visitors.c.created_at,
            visitors.c.last_seen_at,
            visits.c.device_type,
            visits.c.os,
            visits.c.browser,
            visits.c.country,
            visits.c.city,
        )
        .select_from(visitors)
        .outerjoin(latest, latest.c.visitor_id == visitors.c.id)
        .outerjoin(visits, visits.c.id == latest.c.visit_id)
        .where(visitors.c.contact_id.in_(contact_ids))
        .order_by(visitors.c.last_seen_at.desc(), visitors.c.id.desc())
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in await conn.execute(query):
        found.setdefault(row.contact_id, []).append(dict(row._mapping))
    return found
