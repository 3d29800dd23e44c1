"""The one field an automatic reply asks for: the visitor's email (docs/autoreplies.md).

A valid address is the visitor's claim: it is kept on the visitor's own contact (never joining
the contact of someone else who has it, so typing another person's address opens nothing of
theirs), recorded as a lead of the rule that asked, and confirmed by a line in the chat. An
invalid one is refused with `invalid_email` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.email_address import confirmation_text, mask_email, normalize_email
from doorstep.domain.models import Author, Contact, Visitor
from doorstep.services.context import Ctx
from doorstep.services.conversations import check_client_msg_id
from doorstep.services.message_events import announce_message
from doorstep.services.uow import unit_of_work
from doorstep.services.visitors import change_contact
from doorstep.store import autoreplies as store
from doorstep.store import conversations as conversation_store
from doorstep.store import sites as site_store
from doorstep.store import visitors as visitor_store


@dataclass(frozen=True, slots=True)
class Captured:
    contact: Contact
    email_hint: str


async def capture_email(
    ctx: Ctx, visitor: Visitor, *, email: object, client_msg_id: object = None
) -> Captured:
    address = normalize_email(email).lower()
    client_id = check_client_msg_id(client_msg_id)
    hint = mask_email(address)
    async with unit_of_work(ctx) as uow:
        # Lock order of every write path: the conversation row first, then the contact.
        conversation = await conversation_store.latest_conversation_of_contact(
            uow.conn, visitor.contact_id, lock=True
        )
        if conversation and client_id:
            old = await conversation_store.message_by_client_id(
                uow.conn, conversation.id, client_id
            )
            if old is not None:  # a retry of a capture already stored
                contact = await visitor_store.contact_by_id(uow.conn, visitor.contact_id)
                assert contact is not None
                return Captured(contact, hint)
        contact = await change_contact(uow, visitor.contact_id, {"email": address}, {}, claim=True)
        if conversation is None:
            return Captured(contact, hint)
        if not await store.lead_exists(uow.conn, contact.id, address):
            await store.insert_lead(
                uow.conn,
                site_id=contact.site_id,
                contact_id=contact.id,
                conversation_id=conversation.id,
                rule_id=await store.last_asking_rule(uow.conn, conversation.id),
                email=address,
                created_at=uow.now,
            )
        site = await site_store.site_by_id(uow.conn, contact.site_id)
        assert site is not None
        appended = await conversation_store.append_message(
            uow.conn,
            conversation,
            author=Author("system", None, site.name),
            text=confirmation_text(hint, contact.language),
            internal=False,
            client_msg_id=client_id,
            now=uow.now,
            meta={"kind": "email_captured", "email_hint": hint},
        )
        if appended is None:  # the same capture, retried at the same moment
            return Captured(contact, hint)
        announce_message(uow, appended)
    return Captured(contact, hint)
