"""Conversations: messages from visitors and operators, reading, status and assignment.

See docs/websocket.md. Every write here commits before its events are published, and every
client write carries a client_msg_id so a retry returns the stored message instead of a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import (
    MAX_MESSAGE_CHARS,
    Author,
    Conversation,
    ConversationSummary,
    Message,
    Operator,
    Visitor,
)
from doorstep.errors import InvalidInput, NotFound
from doorstep.services import abuse, audiences, autoreplies
from doorstep.services.access import access_conversation, operator_site_ids
from doorstep.services.context import Ctx
from doorstep.services.message_events import announce_message
from doorstep.services.uow import UnitOfWork, announce, one_statement, unit_of_work
from doorstep.store import conversations as store
from doorstep.store import sites as site_store

MAX_CLIENT_ID = 64
STATUSES = ("open", "resolved")


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    conversation: Conversation
    created: bool  # False when the client_msg_id had been stored before
    started: bool = False  # the message started a new conversation


def check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("a message needs some text", code="empty_message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"a message has at most {MAX_MESSAGE_CHARS} characters", code="text_too_long"
        )
    return text


def check_client_msg_id(client_msg_id: object) -> str | None:
    if client_msg_id is None:
        return None
    if not isinstance(client_msg_id, str) or not 1 <= len(client_msg_id) <= MAX_CLIENT_ID:
        raise InvalidInput("client_msg_id has 1 to 64 characters", code="invalid_client_msg_id")
    return client_msg_id


async def _summary(conn: AsyncConnection, conversation: Conversation) -> ConversationSummary:
    return await store.conversation_summary(conn, conversation.id)


async def send_visitor_message(
    ctx: Ctx,
    visitor: Visitor,
    *,
    text: object,
    client_msg_id: object,
    has_conversation: bool = False,
    address: str | None = None,
) -> Sent:
    """Store a visitor's message in their conversation, starting or reopening it as needed.

    The abuse limits (services/abuse.py) count it for the visitor and for the client's
    `address`, and a new conversation for the address; over one, nothing is stored and
    `rate_limited` says when to retry.

    On PostgreSQL the common cases are tried first as one statement that commits itself:
    a first message when `has_conversation` is False, else a message that continues the
    conversation. `has_conversation` is the caller's guess (the visitor's socket saw a
    conversation or sent a message); a wrong guess, or a case the one statement leaves
    alone, costs one round trip before the whole way, nothing else. On SQLite a visitor
    guessed to have no conversation has it started without a read before.
    """
    text = check_text(text)
    client_id = check_client_msg_id(client_msg_id)
    abuse.take_message(ctx, visitor.id, address)
    if has_conversation:
        return await _send_visitor_message(ctx, visitor, text, client_id, has_conversation)
    # Perhaps the first message: a new conversation is reserved before and handed back after
    # if it was not one. Over the limit, only a visitor who has a conversation may write.
    wait = abuse.reserve_conversation(ctx, address)
    if wait:
        if await visitor_conversation(ctx, visitor) is None:
            abuse.release_message(ctx, visitor.id, address)  # nothing is stored
            raise abuse.refusal("new conversations", wait)
        return await _send_visitor_message(ctx, visitor, text, client_id, True)
    try:
        sent = await _send_visitor_message(ctx, visitor, text, client_id, has_conversation)
    except BaseException:
        abuse.release_conversation(ctx, address)
        raise
    if not sent.started:
        abuse.release_conversation(ctx, address)
    return sent


async def _send_visitor_message(
    ctx: Ctx, visitor: Visitor, text: str, client_id: str | None, has_conversation: bool
) -> Sent:
    if ctx.db.writes_in_one_statement:
        alone = _continue_alone if has_conversation else _start_alone
        sent = await alone(ctx, visitor, text, client_id)
        if sent is not None:
            return sent
    author = Author("visitor", visitor.contact_id)
    async with unit_of_work(ctx) as uow:
        if ctx.db.serial_writes and not has_conversation:
            # No other writer can start one meanwhile: the insert itself finds out whether
            # the visitor has a conversation, and nothing is read before it.
            conversation = None
        else:
            # Lock order on every write path: the conversation row first. Only a visitor who
            # has no conversation yet takes the contact's lock, to start exactly one.
            conversation = await store.latest_conversation_locking_contact(
                uow.conn, visitor.contact_id
            )
        if conversation is None:
            started = await store.start_conversation(
                uow.conn,
                site_id=visitor.site_id,
                contact_id=visitor.contact_id,
                author=author,
                text=text,
                client_msg_id=client_id,
                now=uow.now,
            )
            if started is not None:
                # A new conversation: the wait for an answer starts now.
                await autoreplies.after_visitor_message(
                    ctx, uow, None, started.summary.conversation
                )
                announce_message(uow, started, created=True)
                return Sent(started.message, started.summary.conversation, True, started=True)
            # The visitor has a conversation: another writer started it since this
            # transaction looked, or the caller's guess was wrong.
            conversation = await store.latest_conversation_of_contact(
                uow.conn, visitor.contact_id, lock=True
            )
            assert conversation is not None
        before: Conversation | None = conversation
        if conversation.status == "resolved":
            # A retry of a message sent before the conversation was resolved reopens nothing.
            if client_id and (old := await _stored(uow, conversation, client_id)):
                return old
            # A visitor writing again reopens their conversation: one thread per visitor, and
            # a new wait for an answer.
            conversation = await _reopen(uow, conversation)
            before = None
        appended = await store.append_message(
            uow.conn,
            conversation,
            author=author,
            text=text,
            internal=False,
            client_msg_id=client_id,
            now=uow.now,
        )
        if appended is None:
            return await _stored(uow, conversation, client_id)  # type: ignore[return-value]
        conversation = appended.summary.conversation
        await autoreplies.after_visitor_message(ctx, uow, before, conversation)
        announce_message(uow, appended)
    return Sent(appended.message, conversation, True)


async def _continue_alone(
    ctx: Ctx, visitor: Visitor, text: str, client_id: str | None
) -> Sent | None:
    async with one_statement(ctx) as uow:
        continued = await store.continue_conversation(
            uow.conn, visitor.contact_id, text=text, client_msg_id=client_id, now=uow.now
        )
        if continued is None:
            return None
        announce_message(uow, continued)
    return Sent(continued.message, continued.summary.conversation, True)


async def _start_alone(ctx: Ctx, visitor: Visitor, text: str, client_id: str | None) -> Sent | None:
    async with one_statement(ctx) as uow:
        timer = await autoreplies.timer_of_new_conversation(ctx, uow.conn, visitor.site_id, uow.now)
        started = await store.start_conversation_alone(
            uow.conn,
            site_id=visitor.site_id,
            contact_id=visitor.contact_id,
            text=text,
            client_msg_id=client_id,
            now=uow.now,
            timer=timer,
        )
        if started is None:
            return None
        conversation = started.appended.summary.conversation
        if started.timer_due is not None:
            autoreplies.timer_set(uow, conversation.id, started.timer_due)
        announce_message(uow, started.appended, created=True)
    return Sent(started.appended.message, conversation, True, started=True)


async def send_operator_message(
    ctx: Ctx,
    operator: Operator,
    conversation_id: int,
    *,
    text: object,
    client_msg_id: object,
    internal: bool = False,
) -> Sent:
    text = check_text(text)
    client_id = check_client_msg_id(client_msg_id)
    async with unit_of_work(ctx) as uow:
        conversation = await access_conversation(uow.conn, operator, conversation_id, lock=True)
        return await append_operator_message(
            uow, operator, conversation, text=text, client_id=client_id, internal=internal
        )


async def append_operator_message(
    uow: UnitOfWork,
    operator: Operator,
    conversation: Conversation,
    *,
    text: str,
    client_id: str | None,
    internal: bool,
    created: bool = False,
) -> Sent:
    """Append an operator's message and announce it.

    Precondition: inside the unit of work that holds the conversation's row lock (or created
    the conversation); `text` and `client_id` are already checked.
    """
    author = Author("operator", operator.id, operator.name, operator.avatar_url)
    # The same statement marks earlier messages read and, unless this is a note, makes the
    # operator the assignee when nobody is.
    appended = await store.append_message(
        uow.conn,
        conversation,
        author=author,
        text=text,
        internal=internal,
        client_msg_id=client_id,
        now=uow.now,
    )
    if appended is None:
        return await _stored(uow, conversation, client_id)  # type: ignore[return-value]
    if not internal:
        await autoreplies.stop_waiting(uow, conversation)
    announce_message(uow, appended, created=created)
    return Sent(appended.message, appended.summary.conversation, True)


async def _stored(uow: UnitOfWork, conversation: Conversation, client_id: str) -> Sent | None:
    """The message stored earlier under this client id: a retry gets it back, not a copy."""
    old = await store.message_by_client_id(uow.conn, conversation.id, client_id)
    return Sent(old, conversation, False) if old else None


async def _reopen(uow: UnitOfWork, conversation: Conversation) -> Conversation:
    """Open again: what comes now is a new request, answered afresh (docs/autoreplies.md)."""
    return await store.update_conversation(
        uow.conn,
        conversation.id,
        now=uow.now,
        status="open",
        resolved_at=None,
        opened_at=uow.now,
        operator_replied_at=None,
    )


async def visitor_conversation(ctx: Ctx, visitor: Visitor) -> Conversation | None:
    async with ctx.db.read() as conn:
        return await store.latest_conversation_of_contact(conn, visitor.contact_id)


async def visitor_messages_after(
    ctx: Ctx, visitor: Visitor, after_seq: int
) -> tuple[Conversation | None, list[Message]]:
    async with ctx.db.read() as conn:
        conversation = await store.latest_conversation_of_contact(conn, visitor.contact_id)
        if conversation is None:
            return None, []
        found = await store.messages_after(
            conn, conversation.id, max(after_seq, 0), include_internal=False
        )
    return conversation, found


async def operator_messages_after(
    ctx: Ctx, operator: Operator, conversation_id: int, after_seq: int
) -> list[Message]:
    async with ctx.db.read() as conn:
        conversation = await access_conversation(conn, operator, conversation_id)
        return await store.messages_after(
            conn, conversation.id, max(after_seq, 0), include_internal=True
        )


async def list_messages(
    ctx: Ctx,
    operator: Operator,
    conversation_id: int,
    *,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[Message]:
    async with ctx.db.read() as conn:
        conversation = await access_conversation(conn, operator, conversation_id)
        return await store.messages_before(
            conn, conversation.id, before_seq, limit=max(1, min(limit, 500))
        )


async def mark_read_by_visitor(ctx: Ctx, visitor: Visitor, seq: int) -> None:
    async with unit_of_work(ctx) as uow:
        conversation = await store.latest_conversation_of_contact(uow.conn, visitor.contact_id)
        if conversation is None:
            return
        updated = await store.advance_read_seq(uow.conn, conversation.id, "visitor_read_seq", seq)
        if updated:
            uow.emit(audiences.conversation_read(updated, "visitor", seq))


async def mark_read_by_operator(
    ctx: Ctx, operator: Operator, conversation_id: int, seq: int
) -> None:
    async with unit_of_work(ctx) as uow:
        await access_conversation(uow.conn, operator, conversation_id)
        updated = await store.advance_read_seq(uow.conn, conversation_id, "operator_read_seq", seq)
        if updated:
            uow.emit(audiences.conversation_read(updated, "operator", seq))
            uow.emit(audiences.conversation_changed(await _summary(uow.conn, updated)))


async def set_conversation_status(
    ctx: Ctx, operator: Operator, conversation_id: int, status: str
) -> ConversationSummary:
    if status not in STATUSES:
        raise InvalidInput("status is open or resolved", code="invalid_status")
    async with unit_of_work(ctx) as uow:
        conversation = await access_conversation(uow.conn, operator, conversation_id, lock=True)
        if status == "open" and conversation.status == "resolved":
            conversation = await _reopen(uow, conversation)
        elif status == "resolved" and conversation.status == "open":
            await autoreplies.stop_waiting(uow, conversation)
            conversation = await store.update_conversation(
                uow.conn, conversation.id, now=uow.now, status=status, resolved_at=uow.now
            )
        summary = await _summary(uow.conn, conversation)
        uow.emit(audiences.conversation_changed(summary))
    return summary


async def assign_conversation(
    ctx: Ctx, operator: Operator, conversation_id: int, assignee_id: int | None
) -> ConversationSummary:
    async with unit_of_work(ctx) as uow:
        conversation = await access_conversation(uow.conn, operator, conversation_id, lock=True)
        if assignee_id is not None:
            team = await site_store.team_of_site(uow.conn, conversation.site_id)
            if assignee_id not in {member.id for member in team}:
                raise NotFound("no such operator on this site's team", code="operator_not_found")
        conversation = await store.update_conversation(
            uow.conn, conversation.id, now=uow.now, assignee_id=assignee_id
        )
        summary = await _summary(uow.conn, conversation)
        uow.emit(audiences.conversation_changed(summary))
    return summary


async def list_conversations(
    ctx: Ctx,
    operator: Operator,
    *,
    status: str | None = None,
    site_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
    before_at: datetime | None = None,
) -> list[ConversationSummary]:
    """Summaries in inbox order; page with the last row's (activity time, id)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("status is open or resolved", code="invalid_status")
    async with ctx.db.read() as conn:
        site_ids = await operator_site_ids(conn, operator)
        if site_id is not None:
            site_ids &= {site_id}
        if not site_ids:
            return []
        return await store.conversation_summaries(
            conn,
            site_ids,
            status=status,
            limit=max(1, min(limit, 200)),
            before_id=before_id,
            before_at=before_at,
        )


async def get_conversation(
    ctx: Ctx, operator: Operator, conversation_id: int
) -> ConversationSummary:
    async with ctx.db.read() as conn:
        conversation = await access_conversation(conn, operator, conversation_id)
        return await _summary(conn, conversation)


async def visitor_typing(ctx: Ctx, visitor: Visitor, active: bool) -> None:
    conversation = await visitor_conversation(ctx, visitor)
    if conversation is not None:
        await announce(ctx, audiences.typing(conversation, {"type": "visitor"}, active))


async def operator_typing(ctx: Ctx, operator: Operator, conversation_id: int, active: bool) -> None:
    async with ctx.db.read() as conn:
        conversation = await access_conversation(conn, operator, conversation_id)
    author = {"type": "operator", "id": operator.id, "name": operator.name}
    await announce(ctx, audiences.typing(conversation, author, active))
