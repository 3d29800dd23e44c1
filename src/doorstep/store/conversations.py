"""Conversations and their messages; the database is the stream (docs/websocket.md).

Each message gets the next `seq` of its conversation inside the inserting transaction, under a
row lock on the conversation, so sequence numbers have no gaps and no duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import (
    Author,
    Conversation,
    ConversationSummary,
    InboxContact,
    Message,
)
from doorstep.store.jobs import rescheduling
from doorstep.store.prepared import Prepared
from doorstep.store.rows import to_conversation, to_operator
from doorstep.store.sites import online_member
from doorstep.store.tables import contacts, conversations, jobs, messages, operators
from doorstep.store.visitors import touch_contact

PREVIEW_CHARS = 200
# The contact's columns an inbox row carries (`InboxContact`).
INBOX_CONTACT_COLUMNS = ("id", "name", "email")

_message_columns = (
    *messages.c,
    operators.c.name.label("operator_name"),
    operators.c.avatar_url.label("operator_avatar_url"),
)


def _with_authors(stmt: Any) -> Any:
    return stmt.outerjoin(
        operators,
        and_(messages.c.author_type == "operator", messages.c.author_id == operators.c.id),
    )


def to_message(row: Any) -> Message:
    m = row._mapping
    author = Author(m["author_type"], m["author_id"], m["operator_name"], m["operator_avatar_url"])
    return Message(
        m["id"],
        m["conversation_id"],
        m["seq"],
        author,
        m["text"],
        m["internal"],
        m["client_msg_id"],
        m["created_at"],
        m["meta"],
    )


_INSERT_CONVERSATION = Prepared(
    insert(conversations)
    .values(
        site_id=bindparam("b_site"),
        contact_id=bindparam("b_contact"),
        status="open",
        last_seq=0,
        visitor_read_seq=0,
        operator_read_seq=0,
        operator_unread=0,
        created_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
        opened_at=bindparam("b_now"),
    )
    .returning(*conversations.c)
)


async def insert_conversation(
    conn: AsyncConnection, *, site_id: int, contact_id: int, now: datetime
) -> Conversation:
    row = await _INSERT_CONVERSATION.one(conn, b_site=site_id, b_contact=contact_id, b_now=now)
    return to_conversation(row)


def _first_conversation(*conditions: Any, returning: Any = None) -> Any:
    """The contact's first conversation, already carrying its first message (seq 1), unless
    the contact has a conversation: INSERT ... SELECT ... WHERE NOT EXISTS, and `conditions`
    as well. Returns the conversation's row, or the columns `returning`."""
    c = conversations.c
    now = bindparam("b_now", type_=c.created_at.type)
    values = {
        "site_id": bindparam("b_site", type_=c.site_id.type),
        "contact_id": bindparam("b_contact", type_=c.contact_id.type),
        "status": literal("open"),
        "last_seq": literal(1),
        "visitor_read_seq": literal(0),
        "operator_read_seq": literal(0),
        "operator_unread": bindparam("b_unread", type_=c.operator_unread.type),
        "last_message_at": now,
        "last_message_text": bindparam("b_preview", type_=c.last_message_text.type),
        "last_message_author": bindparam("b_author", type_=c.last_message_author.type),
        "created_at": now,
        "updated_at": now,
        "opened_at": now,
    }
    already = select(conversations.c.id).where(conversations.c.contact_id == bindparam("b_contact"))
    return (
        insert(conversations)
        .from_select(list(values), select(*values.values()).where(~already.exists(), *conditions))
        .returning(*(conversations.c if returning is None else returning))
    )


def _message_values(seq: Any) -> dict[str, Any]:
    """A message's columns as bound parameters named `m_<column>`; `seq` as given."""
    values = {
        column: bindparam(f"m_{column}", type_=messages.c[column].type)
        for column in _MESSAGE_KEYS
        if column not in ("conversation_id", "seq")
    }
    return {"seq": seq, **values}


def _first_message_of(started: Any) -> Any:
    """The first message of the conversation a statement starts (`started`): an insert."""
    values = {"conversation_id": started.c.id, **_message_values(literal(1))}
    return (
        insert(messages)
        .from_select(list(values), select(*values.values()))
        .returning(messages.c.id)
        .cte("inserted")
    )


def _start() -> Any:
    """PostgreSQL: `_first_conversation`, its first message and its inbox row, in one
    statement. Nothing comes back when the contact has a conversation already."""
    started = _first_conversation().cte("started")
    inserted = _first_message_of(started)
    return _with_inserted_message(_summary_select(started), inserted)


async def start_conversation(
    conn: AsyncConnection,
    *,
    site_id: int,
    contact_id: int,
    author: Author,
    text: str,
    client_msg_id: str | None,
    now: datetime,
) -> Appended | None:
    """Start the contact's first conversation with its first message; None when the contact
    has a conversation already (a writer started it since this transaction last looked).
    The check and the insert are one statement, made under the contact's lock
    (`latest_conversation_locking_contact`)."""
    first, message = _first_message_values(site_id, contact_id, author, text, client_msg_id, now)
    if conn.dialect.name == "postgresql":
        row = await _START.first(conn, **first, **{f"m_{k}": v for k, v in message.items()})
        if row is None:
            return None
        summary = _summary(row._mapping)
        message_id = row._mapping["message_id"]
    else:
        started = await _FIRST_CONVERSATION.first(conn, **first)
        if started is None:
            return None
        # The new row already is the inbox row the message leaves (it carries the message).
        summary = _summary(started._mapping)
        message_id = await _INSERT_MESSAGE[conn.dialect.name].scalar(
            conn, conversation_id=summary.conversation.id, seq=1, **message
        )
    stored = _stored_message(message_id, summary.conversation.id, 1, message, author)
    return Appended(stored, summary)


def _first_message_values(
    site_id: int,
    contact_id: int,
    author: Author,
    text: str,
    client_msg_id: str | None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first message's values: the new conversation's (`_first_conversation`) and the
    message's columns."""
    first = {
        "b_site": site_id,
        "b_contact": contact_id,
        "b_now": now,
        "b_preview": text[:PREVIEW_CHARS],
        "b_author": author.type,
        "b_unread": _unread_by(author),
    }
    return first, _chat_message_values(author, text, client_msg_id, now)


def _unread_by(author: Author) -> int:
    """How many messages the team has not read a message by `author` adds: a visitor's."""
    return 1 if author.type == "visitor" else 0


def _chat_message_values(
    author: Author, text: str, client_msg_id: str | None, now: datetime
) -> dict[str, Any]:
    """The columns of a chat message (not internal, no meta) but its conversation and seq."""
    return {
        "author_type": author.type,
        "author_id": author.id,
        "text": text,
        "internal": False,
        "client_msg_id": client_msg_id,
        "created_at": now,
        "meta": None,
    }


def _stored_message(
    message_id: int, conversation_id: int, seq: int, message: dict[str, Any], author: Author
) -> Message:
    """The chat message of `_chat_message_values`, as stored."""
    return Message(
        message_id,
        conversation_id,
        seq,
        author,
        message["text"],
        False,
        message["client_msg_id"],
        message["created_at"],
        None,
    )


@dataclass(frozen=True, slots=True)
class WaitTimer:
    """The job to set when a visitor starts waiting for an answer, keyed `<kind>:<id>` by
    the conversation. It is due at `due_if_online` when a member of the site's team is
    online (their status says so and they have a console open on this node: one of
    `connected`), else at `due_if_nobody`; no job when the due time is None."""

    kind: str
    due_if_online: datetime | None
    due_if_nobody: datetime | None
    connected: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Started:
    appended: Appended
    timer_due: datetime | None  # when the timer's job is due; None: no job


async def start_conversation_alone(
    conn: AsyncConnection,
    *,
    site_id: int,
    contact_id: int,
    text: str,
    client_msg_id: str | None,
    now: datetime,
    timer: WaitTimer,
) -> Started | None:
    """PostgreSQL, outside a transaction: a visitor's first message as one statement,
    which commits it: the conversation, its first message, the job of `timer` and the inbox
    row. None, with nothing changed, when the contact has a conversation, or when a
    conversation may have been started since the statement's snapshot; the caller then goes
    the whole way (`latest_conversation_locking_contact`).

    The snapshot is taken before the contact's row lock is, so it may miss a conversation
    that a writer holding the lock started meanwhile. Every such writer touches the contact's
    row (`touch_contact`), so the row as locked differs from the row as the snapshot saw it
    whenever that can have happened, and then nothing is inserted.
    """
    author = Author("visitor", contact_id)
    first, message = _first_message_values(site_id, contact_id, author, text, client_msg_id, now)
    row = await _START_ALONE.first(
        conn,
        **first,
        b_timer_kind=timer.kind,
        b_due_if_online=timer.due_if_online,
        b_due_if_nobody=timer.due_if_nobody,
        b_connected=list(timer.connected),
        **{f"m_{k}": v for k, v in message.items()},
    )
    if row is None:
        return None
    mapping = row._mapping
    summary = _summary(mapping)
    stored = _stored_message(mapping["message_id"], summary.conversation.id, 1, message, author)
    return Started(Appended(stored, summary), mapping["timer_due"])


async def conversation_by_id(
    conn: AsyncConnection, conversation_id: int, *, lock: bool = False
) -> Conversation | None:
    stmt = select(conversations).where(conversations.c.id == conversation_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return to_conversation(row) if row else None


# The statements of a chat message are prepared once (store/prepared.py): building and
# executing them through the Core costs more than running them (docs/benchmarks.md).
_LATEST_OF_CONTACT = (
    select(conversations)
    .where(conversations.c.contact_id == bindparam("b_contact"))
    .order_by(conversations.c.id.desc())
    .limit(1)
)
_LATEST = {
    False: Prepared(_LATEST_OF_CONTACT),
    True: Prepared(_LATEST_OF_CONTACT.with_for_update()),
}


async def latest_conversation_of_contact(
    conn: AsyncConnection, contact_id: int, *, lock: bool = False
) -> Conversation | None:
    row = await _LATEST[lock].first(conn, b_contact=contact_id)
    return to_conversation(row) if row else None


def _latest_or_contact_locked() -> Any:
    """PostgreSQL: the contact's latest conversation, locked; when there is none, the
    contact's row locked instead (and touched: `touch_contact`), so that one writer at a
    time may start a conversation. One row always comes back, its conversation columns NULL
    when there is none."""
    latest = _LATEST_OF_CONTACT.with_for_update().cte("latest")
    contact_lock = (
        touch_contact(bindparam("b_contact"))
        .where(~select(latest.c.id).exists())
        .returning(contacts.c.id)
        .cte("contact_lock")
    )
    locked = select(func.count().label("locked")).select_from(contact_lock).subquery("locked")
    return select(*latest.c).select_from(locked.outerjoin(latest, true()))


_LATEST_OR_CONTACT_LOCKED = Prepared(_latest_or_contact_locked())


async def latest_conversation_locking_contact(
    conn: AsyncConnection, contact_id: int
) -> Conversation | None:
    """The contact's latest conversation under its row lock; when there is none, the
    contact's lock is held instead (lock order: the conversation, else the contact), and
    `start_conversation` starts one. On SQLite the write transaction excludes every
    other writer from its start, so this is a plain read."""
    if conn.dialect.name == "sqlite":
        return await latest_conversation_of_contact(conn, contact_id)
    row = await _LATEST_OR_CONTACT_LOCKED.one(conn, b_contact=contact_id)
    return to_conversation(row) if row._mapping["id"] is not None else None


_BY_CLIENT_ID = Prepared(
    _with_authors(select(*_message_columns)).where(
        messages.c.conversation_id == bindparam("b_conversation"),
        messages.c.client_msg_id == bindparam("b_client"),
    )
)


def _insert_message(dialect: Any) -> Any:
    # A repeated client_msg_id inserts nothing and returns no row: the duplicate check and the
    # insert are one statement. A clash on seq still raises, as it would mean a missing lock.
    return (
        dialect.insert(messages)
        .on_conflict_do_nothing(
            index_elements=[messages.c.conversation_id, messages.c.client_msg_id]
        )
        .returning(messages.c.id)
    )


_MESSAGE_KEYS = (
    "conversation_id",
    "seq",
    "author_type",
    "author_id",
    "text",
    "internal",
    "client_msg_id",
    "created_at",
    "meta",
)
_INSERT_MESSAGE = {
    "sqlite": Prepared(_insert_message(sqlite), keys=_MESSAGE_KEYS),
    "postgresql": Prepared(_insert_message(postgresql), keys=_MESSAGE_KEYS),
}


def _bump(*, internal: bool, by_operator: bool, target: Any = None, returning: Any = None) -> Any:
    """Advance the conversation `target` (by default the one bound as `b_id`) past a new
    message; returns the conversation's row, or the columns `returning`."""
    values: dict[str, Any] = {
        "last_seq": conversations.c.last_seq + 1,
        "updated_at": bindparam("b_now"),
    }
    if not internal:
        values.update(
            last_message_at=bindparam("b_now"),
            last_message_text=bindparam("b_preview"),
            last_message_author=bindparam("b_author"),
        )
        if not by_operator:
            values["operator_unread"] = conversations.c.operator_unread + bindparam(
                "b_unread", type_=conversations.c.operator_unread.type
            )
    if by_operator:
        # An operator who writes has read everything before; the first to answer owns it.
        values["operator_read_seq"] = conversations.c.last_seq + 1
        values["operator_unread"] = 0
        if not internal:
            values["assignee_id"] = func.coalesce(
                conversations.c.assignee_id, bindparam("b_operator")
            )
            values["operator_replied_at"] = func.coalesce(
                conversations.c.operator_replied_at, bindparam("b_now")
            )
    return (
        update(conversations)
        .where(conversations.c.id == (bindparam("b_id") if target is None else target))
        .values(**values)
        .returning(*(conversations.c if returning is None else returning))
    )


async def message_by_client_id(
    conn: AsyncConnection, conversation_id: int, client_msg_id: str
) -> Message | None:
    row = await _BY_CLIENT_ID.first(conn, b_conversation=conversation_id, b_client=client_msg_id)
    return to_message(row) if row else None


@dataclass(frozen=True, slots=True)
class Appended:
    """A stored message and its conversation's inbox row as the message left it."""

    message: Message
    summary: ConversationSummary


async def append_message(
    conn: AsyncConnection,
    conversation: Conversation,
    *,
    author: Author,
    text: str,
    internal: bool,
    client_msg_id: str | None,
    now: datetime,
    meta: dict[str, Any] | None = None,
) -> Appended | None:
    """Store a message with the conversation's next seq; returns it with the conversation's
    inbox row, or None when a message with this `client_msg_id` is stored already (nothing
    is changed).

    Precondition: the caller holds the conversation's row lock and read `conversation` under
    it, so `last_seq` is current and no other writer can take the same seq.
    """
    seq = conversation.last_seq + 1
    by_operator = author.type == "operator"
    message_values = {
        "conversation_id": conversation.id,
        "seq": seq,
        "author_type": author.type,
        "author_id": author.id,
        "text": text,
        "internal": internal,
        "client_msg_id": client_msg_id,
        "created_at": now,
        "meta": meta,
    }
    bump_values = {
        "b_id": conversation.id,
        "b_now": now,
        "b_preview": text[:PREVIEW_CHARS],
        "b_author": author.type,
        "b_operator": author.id,
        "b_unread": _unread_by(author),
    }
    if conn.dialect.name == "postgresql":
        summary = await _append_in_one_statement(conn, author, message_values, bump_values)
        if summary is None:
            return None
        message_id, summary = summary
    else:
        message_id = await _INSERT_MESSAGE[conn.dialect.name].scalar(conn, **message_values)
        if message_id is None:
            return None
        bumped = await _BUMPS[(internal, by_operator)].one(conn, **bump_values)
        summary = _summary(bumped._mapping)
    assert summary.conversation.last_seq == seq, "the conversation changed without its row lock"
    message = Message(
        message_id, conversation.id, seq, author, text, internal, client_msg_id, now, meta
    )
    return Appended(message, summary)


async def _append_in_one_statement(
    conn: AsyncConnection,
    author: Author,
    message_values: dict[str, Any],
    bump_values: dict[str, Any],
) -> tuple[int, ConversationSummary] | None:
    """PostgreSQL: the insert, the bump and the inbox row in one round trip (`_APPEND`)."""
    key = (message_values["internal"], author.type == "operator")
    row = await _APPEND[key].first(
        conn, **{f"m_{k}": v for k, v in message_values.items()}, **bump_values
    )
    if row is None:
        return None
    return row._mapping["message_id"], _summary(row._mapping)


async def continue_conversation(
    conn: AsyncConnection,
    contact_id: int,
    *,
    text: str,
    client_msg_id: str | None,
    now: datetime,
) -> Appended | None:
    """PostgreSQL, outside a transaction: a visitor's message appended to their latest
    conversation in one statement, which commits it, when the message changes nothing but the
    thread. That is when the conversation is open and either an operator has answered it or
    the visitor's message before already waits for an answer: a message that neither reopens
    a conversation nor starts a wait (services/autoreplies.py, `after_visitor_message`).

    None, with nothing changed, otherwise: no conversation, a resolved one, a message that
    starts a wait, or a repeated `client_msg_id`. The caller then goes the whole way.
    """
    author = Author("visitor", contact_id)
    message = _chat_message_values(author, text, client_msg_id, now)
    row = await _CONTINUE.first(
        conn,
        b_contact=contact_id,
        b_now=now,
        b_preview=text[:PREVIEW_CHARS],
        b_author=author.type,
        b_unread=_unread_by(author),
        **{f"m_{k}": v for k, v in message.items()},
    )
    if row is None:
        return None
    mapping = row._mapping
    # The inbox row is the conversation's row as the statement's UPDATE left it: current
    # even when the statement waited for the lock while another writer added to it.
    summary = _summary(mapping)
    stored = _stored_message(
        mapping["message_id"], summary.conversation.id, mapping["message_seq"], message, author
    )
    return Appended(stored, summary)


async def messages_after(
    conn: AsyncConnection,
    conversation_id: int,
    after_seq: int,
    *,
    include_internal: bool,
    limit: int = 500,
) -> list[Message]:
    stmt = _with_authors(select(*_message_columns)).where(
        messages.c.conversation_id == conversation_id, messages.c.seq > after_seq
    )
    if not include_internal:
        stmt = stmt.where(messages.c.internal.is_(False))
    stmt = stmt.order_by(messages.c.seq).limit(limit)
    return [to_message(r) for r in await conn.execute(stmt)]


async def public_messages_since(
    conn: AsyncConnection, conversation_id: int, since: datetime, *, limit: int = 200
) -> list[Message]:
    """The latest messages the visitor can see, written at or after `since`, oldest first."""
    stmt = (
        _with_authors(select(*_message_columns))
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.internal.is_(False),
            messages.c.created_at >= since,
        )
        .order_by(messages.c.seq.desc())
        .limit(limit)
    )
    return [to_message(r) for r in reversed((await conn.execute(stmt)).all())]


async def messages_before(
    conn: AsyncConnection, conversation_id: int, before_seq: int | None, *, limit: int
) -> list[Message]:
    """The newest `limit` messages before a seq, oldest first (for paging back in history)."""
    stmt = _with_authors(select(*_message_columns)).where(
        messages.c.conversation_id == conversation_id
    )
    if before_seq is not None:
        stmt = stmt.where(messages.c.seq < before_seq)
    rows = await conn.execute(stmt.order_by(messages.c.seq.desc()).limit(limit))
    return [to_message(r) for r in reversed(rows.all())]


async def update_conversation(
    conn: AsyncConnection, conversation_id: int, *, now: datetime, **values: Any
) -> Conversation:
    row = (
        await conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(updated_at=now, **values)
            .returning(*conversations.c)
        )
    ).one()
    return to_conversation(row)


async def advance_read_seq(
    conn: AsyncConnection, conversation_id: int, column: str, seq: int
) -> Conversation | None:
    """Move a read pointer forward only; None when it was already there. The operators'
    pointer takes the visitor's messages it passes off their unread count.

    The messages counted off are ones the operator has seen, so they were committed before
    this statement began and its snapshot sees them, even when the UPDATE waited for the
    row's lock; a message committed meanwhile is past `seq` and stays counted."""
    col = conversations.c[column]
    values: dict[str, Any] = {column: seq}
    if column == "operator_read_seq":
        values["operator_unread"] = conversations.c.operator_unread - _visitor_messages_read(seq)
    row = (
        await conn.execute(
            update(conversations)
            .where(
                conversations.c.id == conversation_id, col < seq, conversations.c.last_seq >= seq
            )
            .values(**values)
            .returning(*conversations.c)
        )
    ).first()
    return to_conversation(row) if row else None


def _visitor_messages_read(up_to: Any) -> Any:
    """The visitor's messages an operator who has read up to seq `up_to` reads now, for the
    conversation row an UPDATE changes: those past its read pointer up to `up_to`."""
    return (
        select(func.count())
        .select_from(messages)
        .where(
            messages.c.conversation_id == conversations.c.id,
            messages.c.author_type == "visitor",
            messages.c.seq > conversations.c.operator_read_seq,
            messages.c.seq <= up_to,
        )
        .scalar_subquery()
    )


_assignee = operators.alias("assignee")
# The assignee's columns an inbox row carries: all but the password hash.
_INBOX_ASSIGNEE_COLUMNS = tuple(c.name for c in _assignee.c if c.name != "password_hash")


def _summary_select(of: Any = conversations) -> Any:
    """Inbox rows of the conversation rows `of`: the table, or the rows a statement returns."""
    return (
        select(
            *_labelled(of, "c_"),
            *_labelled(contacts, "k_", only=INBOX_CONTACT_COLUMNS),
            *_labelled(_assignee, "a_", only=_INBOX_ASSIGNEE_COLUMNS),
            of.c.operator_unread.label("unread"),
        )
        .select_from(of)
        .join(contacts, contacts.c.id == of.c.contact_id)
        .outerjoin(_assignee, _assignee.c.id == of.c.assignee_id)
    )


def _with_inserted_message(summary: Any, inserted: Any) -> Any:
    """`summary` (one conversation's inbox row) beside the id its statement's insert
    returned; no row when the insert inserted nothing."""
    return summary.add_columns(inserted.c.id.label("message_id")).join(inserted, true())


async def conversation_summary(conn: AsyncConnection, conversation_id: int) -> ConversationSummary:
    """One conversation's inbox row; the caller has already checked access to it."""
    row = await _SUMMARY_ONE.one(conn, b_id=conversation_id)
    return _summary(row._mapping)


async def conversation_summaries(
    conn: AsyncConnection,
    site_ids: set[int],
    *,
    status: str | None = None,
    contact_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
    before_at: datetime | None = None,
) -> list[ConversationSummary]:
    stmt = _summary_select().where(conversations.c.site_id.in_(site_ids))
    if status:
        stmt = stmt.where(conversations.c.status == status)
    if contact_id is not None:
        stmt = stmt.where(conversations.c.contact_id == contact_id)
    order = func.coalesce(conversations.c.last_message_at, conversations.c.created_at)
    if before_id is not None and before_at is not None:
        stmt = stmt.where(
            or_(order < before_at, and_(order == before_at, conversations.c.id < before_id))
        )
    elif before_id is not None:
        stmt = stmt.where(conversations.c.id < before_id)
    stmt = stmt.order_by(order.desc(), conversations.c.id.desc()).limit(limit)
    return [_summary(row._mapping) for row in await conn.execute(stmt)]


def _labelled(table: Any, prefix: str, *, only: tuple[str, ...] = ()) -> list[Any]:
    """The table's columns (or those named `only`) labelled `prefix` + name."""
    return [
        column.label(prefix + column.name) for column in table.c if not only or column.name in only
    ]


class _Unprefixed:
    """One table's columns of a joined row, read by the converters as a plain row's. Each
    column is looked up under its prefixed name when asked for: copying a table's columns
    out would go through all of the joined row's columns, once per table."""

    __slots__ = ("_joined", "_prefix")

    def __init__(self, joined: Any, prefix: str) -> None:
        self._joined = joined
        self._prefix = prefix

    @property
    def _mapping(self) -> _Unprefixed:
        return self

    def __getitem__(self, column: str) -> Any:
        return self._joined[self._prefix + column]


def _summary(mapping: Any) -> ConversationSummary:
    assignee = None
    if mapping["a_id"] is not None:
        assignee = to_operator(_Unprefixed(mapping, "a_"))
    return ConversationSummary(
        to_conversation(_Unprefixed(mapping, "c_")),
        InboxContact(mapping["k_id"], mapping["k_name"], mapping["k_email"]),
        int(mapping["unread"]),
        assignee,
    )


_SUMMARY_ONE = Prepared(_summary_select().where(conversations.c.id == bindparam("b_id")))


def _inbox_row_returned(*, new: bool = False) -> list[Any]:
    """SQLite: the inbox row (`_summary_select`'s columns) of the conversation row an UPDATE
    writes, for its RETURNING: the contact's and the assignee's columns as subqueries, so
    the row comes back with the write instead of from one more statement.

    `new`: of the conversation an INSERT starts instead, whose subqueries cannot refer to
    the new row: its contact is the one bound as `b_contact`, and it has no assignee yet.
    """
    contact_id = bindparam("b_contact") if new else conversations.c.contact_id
    contact = [
        select(contacts.c[name])
        .where(contacts.c.id == contact_id)
        .scalar_subquery()
        .label("k_" + name)
        for name in INBOX_CONTACT_COLUMNS
    ]
    assignee = [
        (
            null()
            if new
            else select(column)
            .where(_assignee.c.id == conversations.c.assignee_id)
            .scalar_subquery()
        ).label("a_" + column.name)
        for column in (_assignee.c[name] for name in _INBOX_ASSIGNEE_COLUMNS)
    ]
    return [
        *_labelled(conversations, "c_"),
        *contact,
        *assignee,
        conversations.c.operator_unread.label("unread"),
    ]


# SQLite: the bump that returns the conversation's inbox row (PostgreSQL appends in one
# statement: `_APPEND`).
_BUMPS = {
    (internal, by_operator): Prepared(
        _bump(internal=internal, by_operator=by_operator, returning=_inbox_row_returned())
    )
    for internal in (False, True)
    for by_operator in (False, True)
}


def _append(*, internal: bool, by_operator: bool) -> Any:
    """PostgreSQL: insert the message, bump its conversation and read the inbox row, as one
    statement. A repeated client_msg_id inserts nothing, so nothing is bumped and no row
    comes back. The count of unread messages runs on the statement's snapshot, from before
    the insert (see `_append_in_one_statement`)."""
    conversation_id = bindparam("m_conversation_id", type_=messages.c.conversation_id.type)
    inserted = (
        postgresql.insert(messages)
        .values(
            conversation_id=conversation_id,
            **_message_values(bindparam("m_seq", type_=messages.c.seq.type)),
        )
        .on_conflict_do_nothing(
            index_elements=[messages.c.conversation_id, messages.c.client_msg_id]
        )
        .returning(messages.c.id)
        .cte("inserted")
    )
    bumped = (
        _bump(internal=internal, by_operator=by_operator)
        .where(select(inserted.c.id).exists())
        .cte("bumped")
    )
    return _with_inserted_message(_summary_select(bumped), inserted)


def _continue() -> Any:
    """PostgreSQL: `continue_conversation`'s statement. The latest conversation is locked
    first, then judged: with the condition in the locking select, a resolved latest one
    would give way to an older conversation. Under READ COMMITTED a lock that had to wait
    returns the row as its last writer left it, so `last_seq` and the unread count are
    current."""
    latest = _LATEST_OF_CONTACT.with_for_update().cte("latest")
    waiting = (
        select(latest)
        .where(
            latest.c.status != "resolved",
            or_(
                latest.c.operator_replied_at.is_not(None), latest.c.last_message_author == "visitor"
            ),
        )
        .cte("waiting")
    )
    values = {
        "conversation_id": waiting.c.id,
        **_message_values(waiting.c.last_seq + 1),
    }
    inserted = (
        postgresql.insert(messages)
        .from_select(list(values), select(*values.values()))
        .on_conflict_do_nothing(
            index_elements=[messages.c.conversation_id, messages.c.client_msg_id]
        )
        .returning(messages.c.id, messages.c.conversation_id, messages.c.seq)
        .cte("inserted")
    )
    bumped = _bump(
        internal=False,
        by_operator=False,
        target=select(inserted.c.conversation_id).scalar_subquery(),
    ).cte("bumped")
    return _with_inserted_message(_summary_select(bumped), inserted).add_columns(
        inserted.c.seq.label("message_seq")
    )


def _start_alone() -> Any:
    """PostgreSQL: `start_conversation_alone`'s statement."""
    contact = bindparam("b_contact", type_=contacts.c.id.type)
    version = literal_column("xmin")
    locked = (
        select(contacts.c.id, version.label("version"))
        .where(contacts.c.id == contact)
        .with_for_update()
        .cte("locked")
    )
    as_seen = select(version).select_from(contacts).where(contacts.c.id == contact)
    unchanged = select(locked.c.id).where(locked.c.version == as_seen.scalar_subquery())
    started = _first_conversation(unchanged.exists()).cte("started")
    touched = (
        touch_contact(select(started.c.contact_id).scalar_subquery())
        .returning(contacts.c.id)
        .cte("touched")
    )
    inserted = _first_message_of(started)
    timer = _wait_timer(started).cte("timer")
    return _with_inserted_message(_summary_select(started), inserted).add_columns(
        select(timer.c.due_at).scalar_subquery().label("timer_due"),
        # Read only so that the statement has it: a WITH query nothing names is left out.
        select(func.count()).select_from(touched).scalar_subquery().label("touched"),
    )


def _wait_timer(started: Any) -> Any:
    """The `WaitTimer` job of the conversation `started`, when one is due: an insert."""
    due_type = jobs.c.due_at.type
    due = case(
        (
            online_member("postgresql", started.c.site_id),
            bindparam("b_due_if_online", type_=due_type),
        ),
        else_=bindparam("b_due_if_nobody", type_=due_type),
    )
    wait = select(started.c.id, due.label("due")).subquery("wait")
    kind = bindparam("b_timer_kind", type_=jobs.c.kind.type)
    values = {
        "kind": kind,
        "key": kind.concat(":").concat(cast(wait.c.id, String)),
        "payload": func.jsonb_build_object("conversation_id", wait.c.id),
        "due_at": wait.c.due,
        "attempts": literal(0),
        "created_at": bindparam("b_now", type_=jobs.c.created_at.type),
    }
    timed = select(*values.values()).where(wait.c.due.is_not(None))
    return rescheduling(postgresql.insert(jobs).from_select(list(values), timed)).returning(
        jobs.c.due_at
    )


_APPEND = {
    (internal, by_operator): Prepared(_append(internal=internal, by_operator=by_operator))
    for internal in (False, True)
    for by_operator in (False, True)
}
# SQLite: the first conversation, returned as its inbox row.
_FIRST_CONVERSATION = Prepared(_first_conversation(returning=_inbox_row_returned(new=True)))
_START = Prepared(_start())
_START_ALONE = Prepared(_start_alone())
_CONTINUE = Prepared(_continue())
