"""Announcing a stored message: the one place that says which events a new message makes."""

from __future__ import annotations

from doorstep.domain.models import Conversation, Message
from doorstep.services import audiences
from doorstep.services.uow import UnitOfWork
from doorstep.store import conversations as store


async def announce_message(
    uow: UnitOfWork, conversation: Conversation, message: Message, *, created: bool = False
) -> None:
    summary = await store.conversation_summary(uow.conn, conversation.id)
    if created:
        uow.emit(audiences.conversation_changed(summary, created=True))
    uow.emit(audiences.message_created(summary.conversation, message))
    if not created:
        uow.emit(audiences.conversation_changed(summary))
