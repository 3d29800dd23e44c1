"""Announcing a stored message: the one place that says which events a new message makes."""

from __future__ import annotations

from doorstep.services import audiences
from doorstep.services.uow import UnitOfWork
from doorstep.store.conversations import Appended


def announce_message(uow: UnitOfWork, appended: Appended, *, created: bool = False) -> None:
    """Queue the events of a stored message, with its conversation's inbox row as the
    message left it."""
    summary, message = appended.summary, appended.message
    if created:
        uow.emit(audiences.conversation_changed(summary, created=True))
    uow.emit(audiences.message_created(summary.conversation, message))
    if not created:
        uow.emit(audiences.conversation_changed(summary))
