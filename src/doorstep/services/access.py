"""`access_<noun>`: the only way a door turns an id into a row.

Each loads the row and enforces the site boundary: a row of a site the operator is not a
member of is "not found", never "forbidden", so ids of other tenants leak nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Contact, Conversation, Operator, Site
from doorstep.errors import NotFound
from doorstep.store import conversations as conversation_store
from doorstep.store import sites as site_store
from doorstep.store import visitors as visitor_store


async def operator_site_ids(conn: AsyncConnection, operator: Operator) -> set[int]:
    return await site_store.site_ids_of_operator(conn, operator.id)


async def access_site(conn: AsyncConnection, operator: Operator, site_id: int) -> Site:
    site = await site_store.site_by_id(conn, site_id)
    if site is None or site.id not in await operator_site_ids(conn, operator):
        raise NotFound("no such site", code="site_not_found")
    return site


async def access_conversation(
    conn: AsyncConnection, operator: Operator, conversation_id: int, *, lock: bool = False
) -> Conversation:
    conversation = await conversation_store.conversation_by_id(conn, conversation_id, lock=lock)
    if conversation is None or conversation.site_id not in await operator_site_ids(conn, operator):
        raise NotFound("no such conversation", code="conversation_not_found")
    return conversation


async def access_contact(conn: AsyncConnection, operator: Operator, contact_id: int) -> Contact:
    contact = await visitor_store.contact_by_id(conn, contact_id)
    if contact is None or contact.site_id not in await operator_site_ids(conn, operator):
        raise NotFound("no such contact", code="contact_not_found")
    return contact
