"""Who is on the site right now, and starting a conversation with one of them (docs/live.md)."""

from __future__ import annotations

from typing import Any

from doorstep.domain.models import Operator, iso
from doorstep.domain.sources import Source
from doorstep.errors import NotFound
from doorstep.services.access import access_contact, operator_site_ids
from doorstep.services.context import Ctx
from doorstep.services.conversations import (
    Sent,
    append_operator_message,
    check_client_msg_id,
    check_text,
)
from doorstep.services.uow import unit_of_work
from doorstep.store import conversations as conversation_store
from doorstep.store import tracking as tracking_store
from doorstep.store import visitors as visitor_store


async def list_live_visitors(
    ctx: Ctx, operator: Operator, *, site_id: int | None = None
) -> list[dict[str, Any]]:
    """Live visitors of the operator's sites, most recently arrived first."""
    async with ctx.db.read() as conn:
        site_ids = await operator_site_ids(conn, operator)
        if site_id is not None:
            site_ids &= {site_id}
        live = ctx.visitors_live.on_sites(site_ids)
        visit_ids = [v.visit_id for v in live if v.visit_id is not None]
        visits = await tracking_store.visits_by_id(conn, visit_ids)
        counts = await tracking_store.visit_page_counts(conn, visit_ids)
        contacts = {
            c.id: c for c in await visitor_store.contacts_by_ids(conn, [v.contact_id for v in live])
        }
    rows = []
    for entry in live:
        contact = contacts.get(entry.contact_id)
        if contact is None:
            continue  # erased while connected
        visit = visits.get(entry.visit_id) if entry.visit_id else None
        rows.append(
            {
                **entry.public(),
                "site_id": entry.site_id,
                "contact": {
                    "id": contact.id,
                    "display_name": contact.display_name,
                    "email": contact.email,
                },
                "visit_started_at": iso(visit["started_at"]) if visit else None,
                "pages_this_visit": counts.get(entry.visit_id or 0, 0),
                "source": Source.from_row(visit).as_dict() if visit else None,
                "location": {
                    "country": contact.country,
                    "city": contact.city,
                    "timezone": contact.timezone,
                },
                "device": {
                    "type": contact.device_type,
                    "os": contact.os,
                    "browser": contact.browser,
                },
                "cart_value": contact.attributes.get("cart_value"),
            }
        )
    rows.sort(key=lambda r: r["visit_started_at"] or "", reverse=True)
    return rows


async def message_visitor(
    ctx: Ctx, operator: Operator, contact_id: int, *, text: object, client_msg_id: object
) -> Sent:
    """An operator writes first: the message pops up in the visitor's widget.

    It continues the contact's open conversation, or starts a new one.
    """
    text = check_text(text)
    client_id = check_client_msg_id(client_msg_id)
    async with unit_of_work(ctx) as uow:
        contact = await access_contact(uow.conn, operator, contact_id)
        if contact.merged_into_id is not None:
            raise NotFound("this contact was merged into another", code="contact_merged")
        # The same lock order as every write path: the conversation row, then the contact.
        conversation = await conversation_store.latest_conversation_of_contact(
            uow.conn, contact.id, lock=True
        )
        created = conversation is None or conversation.status == "resolved"
        if created:
            await visitor_store.lock_contact(uow.conn, contact.id)
        if conversation is None or created:
            conversation = await conversation_store.insert_conversation(
                uow.conn, site_id=contact.site_id, contact_id=contact.id, now=uow.now
            )
        return await append_operator_message(
            uow,
            operator,
            conversation,
            text=text,
            client_id=client_id,
            internal=False,
            created=created,
        )
