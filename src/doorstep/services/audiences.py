"""Who receives each event: the one place that decides (tests pin every event type's audience)."""

from __future__ import annotations

from typing import Any

from doorstep.domain.events import Event
from doorstep.domain.models import Conversation, ConversationSummary, Message


def message_created(conversation: Conversation, message: Message) -> Event:
    frame = {"type": "message.created", "message": message.public()}
    # An internal note is for the team only; it never reaches a visitor's socket.
    to_visitor = not message.internal
    return Event(
        "message.created",
        operator_sites=(conversation.site_id,),
        contacts=(conversation.contact_id,) if to_visitor else (),
        operator_frame=frame,
        visitor_frame=frame if to_visitor else None,
        meta={"sender_client_msg_id": message.client_msg_id},
    )


def conversation_changed(summary: ConversationSummary, *, created: bool = False) -> Event:
    kind = "conversation.created" if created else "conversation.updated"
    conversation = summary.conversation
    return Event(
        kind,
        operator_sites=(conversation.site_id,),
        contacts=(conversation.contact_id,),
        operator_frame={"type": kind, "conversation": summary.public()},
        visitor_frame={"type": "conversation.updated", "conversation": conversation.for_visitor()},
    )


def conversation_read(conversation: Conversation, reader: str, seq: int) -> Event:
    frame = {
        "type": "conversation.read",
        "conversation_id": conversation.id,
        "reader": reader,
        "seq": seq,
    }
    if reader == "visitor":
        return Event(
            "conversation.read", operator_sites=(conversation.site_id,), operator_frame=frame
        )
    return Event(
        "conversation.read",
        operator_sites=(conversation.site_id,),
        contacts=(conversation.contact_id,),
        operator_frame=frame,
        visitor_frame=frame,
    )


def typing(conversation: Conversation, author: dict[str, Any], active: bool) -> Event:
    frame = {
        "type": "typing",
        "conversation_id": conversation.id,
        "active": active,
        "author": author,
    }
    if author["type"] == "visitor":
        return Event(
            "typing.changed",
            operator_sites=(conversation.site_id,),
            operator_frame=frame,
            ephemeral=True,
        )
    # Other operators see a colleague typing too, so two people do not answer at once.
    return Event(
        "typing.changed",
        operator_sites=(conversation.site_id,),
        contacts=(conversation.contact_id,),
        operator_frame=frame,
        visitor_frame=frame,
        ephemeral=True,
        meta={"operator_id": author.get("id")},
    )


def presence_changed(site_ids: set[int], operator_id: int, status: str) -> Event:
    return Event(
        "presence.changed",
        operator_sites=tuple(sorted(site_ids)),
        operator_frame={"type": "presence", "operator_id": operator_id, "status": status},
        ephemeral=True,
    )


def visitor_updated(site_id: int, contact_id: int, contact: dict[str, Any]) -> Event:
    return Event(
        "contact.updated",
        operator_sites=(site_id,),
        operator_frame={"type": "contact.updated", "contact": contact},
        meta={"contact_id": contact_id},
    )


def contacts_merged(site_id: int, merged_id: int, survivor_id: int) -> Event:
    # The hub re-keys the merged contact's visitor sockets; open consoles follow the survivor.
    return Event(
        "contact.merged",
        operator_sites=(site_id,),
        operator_frame={"type": "contact.merged", "from": merged_id, "into": survivor_id},
        meta={"from": merged_id, "into": survivor_id},
    )


def browsers_signed_out(site_id: int, contact_id: int, browsers: int) -> Event:
    # The hub closes the contact's visitor sockets (4401); their tokens no longer open a
    # session, so each browser starts again as a new anonymous visitor.
    return Event(
        "contact.signed_out",
        operator_sites=(site_id,),
        operator_frame={
            "type": "contact.signed_out",
            "contact_id": contact_id,
            "browsers": browsers,
        },
        meta={"contact_id": contact_id},
    )


def sessions_ended(operator_id: int, session_ids: list[int]) -> Event:
    # For the hubs only: each closes the open console sockets of these sessions (4401).
    return Event(
        "operator.session_ended",
        meta={"operator_id": operator_id, "session_ids": session_ids},
    )
