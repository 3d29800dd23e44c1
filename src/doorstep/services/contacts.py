"""Contacts as operators see them: lists and the contact card (docs/api.md)."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.models import Contact, ConversationSummary, Operator
from doorstep.services.access import access_contact, operator_site_ids
from doorstep.services.context import Ctx
from doorstep.store import conversations as conversation_store
from doorstep.store import visitors as visitor_store


@dataclass(frozen=True, slots=True)
class ContactCard:
    contact: Contact
    conversations: list[ConversationSummary]


async def list_contacts(
    ctx: Ctx, operator: Operator, *, query: str | None, limit: int, before_id: int | None
) -> list[Contact]:
    async with ctx.db.read() as conn:
        site_ids = await operator_site_ids(conn, operator)
        if not site_ids:
            return []
        return await visitor_store.list_contacts(
            conn,
            site_ids,
            query=(query or "").strip(),
            limit=max(1, min(limit, 200)),
            before_id=before_id,
        )


async def get_contact_card(ctx: Ctx, operator: Operator, contact_id: int) -> ContactCard:
    async with ctx.db.read() as conn:
        contact = await access_contact(conn, operator, contact_id)
        summaries = await conversation_store.conversation_summaries(
            conn, {contact.site_id}, contact_id=contact.id, limit=200
        )
    return ContactCard(contact, summaries)
