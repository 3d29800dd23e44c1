"""Conversations through the services, on every configured database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from doorstep.domain.models import Author
from doorstep.errors import InvalidInput, NotFound
from doorstep.services import conversations, visitors
from doorstep.services.uow import unit_of_work
from doorstep.store import conversations as store
from doorstep.store import visitors as visitor_store
from tests.conftest import CapturedEvents
from tests.factories import Factory


async def test_first_visitor_message_starts_a_conversation_with_seq_one(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hello", client_msg_id="c1")
    assert sent.created and sent.message.seq == 1
    assert sent.conversation.site_id == site.id
    assert [e.type for e in events] == ["conversation.created", "message.created"]


async def test_retried_send_returns_the_stored_message_and_announces_nothing(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    first = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="x")
    events.clear()
    again = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="x")
    assert not again.created
    assert again.message.id == first.message.id
    assert events == []
    _, stored = await conversations.visitor_messages_after(ctx, visitor, 0)
    assert [m.text for m in stored] == ["Hi"]


@pytest.mark.parametrize("quick", [False, True], ids=["whole-way", "quick-way"])
async def test_concurrent_sends_get_gapless_unique_seqs(factory: Factory, ctx, quick) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    first = await conversations.send_visitor_message(ctx, visitor, text="0", client_msg_id="v0")
    sends = [
        conversations.send_visitor_message(
            ctx, visitor, text=f"v{i}", client_msg_id=f"v{i}", has_conversation=quick
        )
        for i in range(1, 11)
    ]
    sends += [
        conversations.send_operator_message(
            ctx, operator, first.conversation.id, text=f"o{i}", client_msg_id=f"o{i}"
        )
        for i in range(10)
    ]
    await asyncio.gather(*sends)
    stored = await conversations.operator_messages_after(ctx, operator, first.conversation.id, 0)
    assert [m.seq for m in stored] == list(range(1, 22))


async def test_concurrent_first_messages_start_exactly_one_conversation(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    sent = await asyncio.gather(
        *(
            conversations.send_visitor_message(ctx, visitor, text=f"t{i}", client_msg_id=f"t{i}")
            for i in range(8)
        )
    )
    assert len({s.conversation.id for s in sent}) == 1
    assert sorted(s.message.seq for s in sent) == list(range(1, 9))
    assert len(events.of_type("conversation.created")) == 1
    (listed,) = await conversations.list_conversations(ctx, operator)
    assert listed.conversation.last_seq == 8 and listed.unread == 8


@pytest.mark.parametrize("quick", [False, True], ids=["whole-way", "quick-way"])
async def test_concurrent_retries_of_one_message_store_it_once(
    factory: Factory, ctx, quick
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, visitor, text="first", client_msg_id="0")
    results = await asyncio.gather(
        *[
            conversations.send_visitor_message(
                ctx, visitor, text="once", client_msg_id="same", has_conversation=quick
            )
            for _ in range(5)
        ]
    )
    assert len({r.message.id for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_operator_reply_reaches_visitor_and_assigns_the_conversation(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    started = await conversations.send_visitor_message(ctx, visitor, text="Q", client_msg_id="1")
    events.clear()
    reply = await conversations.send_operator_message(
        ctx, operator, started.conversation.id, text="A", client_msg_id="r1"
    )
    assert reply.message.author.name == operator.name
    assert reply.conversation.assignee_id == operator.id
    created = events.of_type("message.created")[0]
    assert created.contacts == (visitor.contact_id,)
    assert created.visitor_frame["message"]["text"] == "A"


async def test_internal_note_is_not_sent_to_visitor(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    started = await conversations.send_visitor_message(ctx, visitor, text="Q", client_msg_id="1")
    events.clear()
    await conversations.send_operator_message(
        ctx,
        operator,
        started.conversation.id,
        text="VIP customer",
        client_msg_id="n1",
        internal=True,
    )
    note_event = events.of_type("message.created")[0]
    assert note_event.contacts == () and note_event.visitor_frame is None
    _, visible = await conversations.visitor_messages_after(ctx, visitor, 0)
    assert [m.text for m in visible] == ["Q"]
    summary = await conversations.get_conversation(ctx, operator, started.conversation.id)
    assert summary.conversation.last_message_text == "Q"  # a note is no preview for the inbox


async def test_another_sites_operator_sees_not_found_and_no_events(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site_a, site_b = await factory.site(), await factory.site()
    visitor = await factory.visitor(site_a)
    outsider = await factory.operator(site_b)
    started = await conversations.send_visitor_message(ctx, visitor, text="Q", client_msg_id="1")
    with pytest.raises(NotFound):
        await conversations.send_operator_message(
            ctx, outsider, started.conversation.id, text="hi", client_msg_id="z"
        )
    with pytest.raises(NotFound):
        await conversations.get_conversation(ctx, outsider, started.conversation.id)
    assert await conversations.list_conversations(ctx, outsider) == []
    assert all(site_b.id not in e.operator_sites for e in events)


async def test_unread_counts_visitor_messages_until_an_operator_reads(
    factory: Factory, ctx
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    for i in range(3):
        sent = await conversations.send_visitor_message(
            ctx, visitor, text=f"m{i}", client_msg_id=str(i)
        )
    (summary,) = await conversations.list_conversations(ctx, operator, status="open")
    assert summary.unread == 3
    await conversations.mark_read_by_operator(ctx, operator, sent.conversation.id, 2)
    (summary,) = await conversations.list_conversations(ctx, operator)
    assert summary.unread == 1
    await conversations.send_operator_message(
        ctx, operator, sent.conversation.id, text="ok", client_msg_id="r"
    )
    (summary,) = await conversations.list_conversations(ctx, operator)
    assert summary.unread == 0


async def _counted_unread(ctx, conversation_id: int) -> int:
    """The unread count as the messages themselves give it."""
    async with ctx.db.read() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT count(*) FROM messages m JOIN conversations c "
                    "ON c.id = m.conversation_id WHERE c.id = :id "
                    "AND m.author_type = 'visitor' AND m.seq > c.operator_read_seq"
                ),
                {"id": conversation_id},
            )
        ).scalar_one()


async def test_the_kept_unread_count_matches_the_messages_at_every_step(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)

    async def visitor_writes(text: str) -> int:
        sent = await conversations.send_visitor_message(
            ctx, visitor, text=text, client_msg_id=text, has_conversation=True
        )
        return sent.conversation.id

    async def system_writes(conversation_id: int) -> None:
        async with unit_of_work(ctx) as uow:
            conversation = await store.conversation_by_id(uow.conn, conversation_id, lock=True)
            await store.append_message(
                uow.conn,
                conversation,
                author=Author("system", None, "Shop"),
                text="We answer within the hour",
                internal=False,
                client_msg_id=None,
                now=uow.now,
            )

    async def unread_now(conversation_id: int) -> int:
        (summary,) = await conversations.list_conversations(ctx, operator)
        assert summary.unread == await _counted_unread(ctx, conversation_id)
        return summary.unread

    conversation_id = await visitor_writes("a")
    assert await unread_now(conversation_id) == 1
    await system_writes(conversation_id)  # an automatic reply is nobody's unread message
    assert await unread_now(conversation_id) == 1
    await visitor_writes("b")  # waits again: the whole way
    await visitor_writes("c")  # already waiting: the quick way on PostgreSQL
    assert await unread_now(conversation_id) == 3
    await conversations.mark_read_by_operator(ctx, operator, conversation_id, 3)
    assert await unread_now(conversation_id) == 1
    await conversations.mark_read_by_operator(ctx, operator, conversation_id, 2)
    assert await unread_now(conversation_id) == 1  # a pointer never moves back
    await visitor_writes("d")
    await conversations.send_operator_message(
        ctx, operator, conversation_id, text="note", client_msg_id="n", internal=True
    )
    assert await unread_now(conversation_id) == 0  # an operator who writes has read it all
    await visitor_writes("e")
    await conversations.set_conversation_status(ctx, operator, conversation_id, "resolved")
    await visitor_writes("f")  # reopens
    assert await unread_now(conversation_id) == 2
    (last,) = [e for e in events if e.type == "conversation.updated"][-1:]
    assert last.operator_frame["conversation"]["unread"] == 2


async def test_the_inbox_row_sent_with_each_message_is_the_stored_one(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    # Told apart from each other and from the contact's id, so that a column read in the
    # wrong place shows.
    await visitors.identify_visitor(ctx, visitor, {"name": "Ann", "email": "ann@example.com"})
    operator = await factory.operator(site)
    first = await conversations.send_visitor_message(ctx, visitor, text="a", client_msg_id="1")
    conversation_id = first.conversation.id
    (started,) = events.of_type("conversation.created")
    assert started.operator_frame["conversation"]["contact"]["email"] == "ann@example.com"
    (listed,) = await conversations.list_conversations(ctx, operator)
    assert started.operator_frame["conversation"] == listed.public()
    assert listed.unread == 1 and listed.conversation.last_seq == 1

    async def visitor_writes(n: int) -> None:
        await conversations.send_visitor_message(ctx, visitor, text=f"v{n}", client_msg_id=f"v{n}")

    async def operator_reads() -> None:
        await conversations.mark_read_by_operator(ctx, operator, conversation_id, 2)

    async def operator_writes(internal: bool) -> None:
        await conversations.send_operator_message(
            ctx,
            operator,
            conversation_id,
            text="r",
            client_msg_id=f"o{internal}",
            internal=internal,
        )

    steps = [
        visitor_writes(2),
        visitor_writes(3),
        operator_reads(),
        visitor_writes(4),
        operator_writes(internal=True),
        visitor_writes(5),
        operator_writes(internal=False),
        visitor_writes(6),
    ]
    for step in steps:
        await step
        announced = [e for e in events if e.type.startswith("conversation.")][-1]
        (listed,) = await conversations.list_conversations(ctx, operator)
        assert announced.operator_frame["conversation"] == listed.public()
    assert listed.unread == 1 and listed.assignee is not None
    assert listed.public()["assignee"]["name"] == operator.name
    assert listed.public()["contact"]["display_name"] == "Ann"


async def test_read_pointer_never_moves_back_or_past_the_end(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    await factory.operator(site)
    for i in range(2):
        await conversations.send_visitor_message(ctx, visitor, text="x", client_msg_id=str(i))
    events.clear()
    await conversations.mark_read_by_visitor(ctx, visitor, 2)
    await conversations.mark_read_by_visitor(ctx, visitor, 1)
    await conversations.mark_read_by_visitor(ctx, visitor, 99)
    reads = events.of_type("conversation.read")
    assert [e.operator_frame["seq"] for e in reads] == [2]
    conversation = await conversations.visitor_conversation(ctx, visitor)
    assert conversation is not None and conversation.visitor_read_seq == 2


async def test_resolve_then_visitor_writes_again_reopens_the_same_conversation(
    factory: Factory, ctx
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    first = await conversations.send_visitor_message(ctx, visitor, text="a", client_msg_id="1")
    resolved = await conversations.set_conversation_status(
        ctx, operator, first.conversation.id, "resolved"
    )
    assert resolved.conversation.status == "resolved"
    assert resolved.conversation.resolved_at is not None
    again = await conversations.send_visitor_message(ctx, visitor, text="b", client_msg_id="2")
    assert again.conversation.id == first.conversation.id
    assert again.conversation.status == "open"
    assert again.message.seq == 2


async def test_assign_only_to_a_member_of_the_sites_team(factory: Factory, ctx) -> None:
    site, other = await factory.site(), await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    stranger = await factory.operator(other)
    started = await conversations.send_visitor_message(ctx, visitor, text="a", client_msg_id="1")
    with pytest.raises(NotFound):
        await conversations.assign_conversation(ctx, operator, started.conversation.id, stranger.id)
    summary = await conversations.assign_conversation(
        ctx, operator, started.conversation.id, operator.id
    )
    assert summary.assignee is not None and summary.assignee.id == operator.id
    summary = await conversations.assign_conversation(ctx, operator, started.conversation.id, None)
    assert summary.assignee is None


@pytest.mark.parametrize("text", ["", "   ", "x" * 10_001, None, 5])
async def test_bad_text_is_refused_and_stores_nothing(factory: Factory, ctx, text) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    with pytest.raises(InvalidInput):
        await conversations.send_visitor_message(ctx, visitor, text=text, client_msg_id="1")
    assert await conversations.visitor_conversation(ctx, visitor) is None


async def test_ten_thousand_characters_are_accepted(factory: Factory, ctx) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(
        ctx, visitor, text="y" * 10_000, client_msg_id="1"
    )
    assert len(sent.message.text) == 10_000


async def test_resume_returns_only_messages_after_the_given_seq(factory: Factory, ctx) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    for i in range(5):
        await conversations.send_visitor_message(ctx, visitor, text=f"m{i}", client_msg_id=str(i))
    conversation, found = await conversations.visitor_messages_after(ctx, visitor, 3)
    assert conversation is not None and conversation.last_seq == 5
    assert [m.seq for m in found] == [4, 5]


async def test_a_quick_message_that_waited_for_the_lock_announces_the_stored_inbox_row(
    factory: Factory, ctx, events: CapturedEvents
) -> None:
    """PostgreSQL: the one statement that continues a conversation waits for the
    conversation's lock while another writer adds a message; it stores the next seq, and the
    inbox row it announces counts the other writer's message, which its snapshot missed."""
    if not ctx.db.writes_in_one_statement:
        pytest.skip("SQLite has no one-statement writes")
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    await conversations.send_visitor_message(ctx, visitor, text="a", client_msg_id="1")
    quick: asyncio.Task[conversations.Sent] | None = None
    async with unit_of_work(ctx) as uow:
        conversation = await store.latest_conversation_of_contact(
            uow.conn, visitor.contact_id, lock=True
        )
        assert conversation is not None
        await store.append_message(
            uow.conn,
            conversation,
            author=Author("visitor", visitor.contact_id),
            text="b",
            internal=False,
            client_msg_id="2",
            now=uow.now,
        )
        quick = asyncio.create_task(
            conversations.send_visitor_message(
                ctx, visitor, text="c", client_msg_id="3", has_conversation=True
            )
        )
        await _until_a_statement_waits_for_a_lock(ctx)
    sent = await quick
    assert sent.message.seq == 3 and sent.conversation.last_seq == 3
    (listed,) = await conversations.list_conversations(ctx, operator)
    assert listed.unread == 3
    announced = [e for e in events if e.type.startswith("conversation.")][-1]
    assert announced.operator_frame["conversation"] == listed.public()


async def _until_a_statement_waits_for_a_lock(ctx) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with ctx.db.read() as conn:
                if (await conn.execute(query)).scalar():
                    return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("starter", ["visitor", "operator"])
async def test_a_first_message_meanwhile_started_elsewhere_joins_that_conversation(
    factory: Factory, ctx, starter: str
) -> None:
    """PostgreSQL: a visitor's first message, one statement, waits for the contact's lock
    while another writer starts a conversation for the contact (the visitor's first message
    the whole way, or an operator writing first); it starts no second conversation."""
    if not ctx.db.writes_in_one_statement:
        pytest.skip("SQLite has no one-statement writes")
    site = await factory.site()
    visitor = await factory.visitor(site)
    operator = await factory.operator(site)
    first: asyncio.Task[conversations.Sent] | None = None
    async with unit_of_work(ctx) as uow:
        if starter == "visitor":
            assert (
                await store.latest_conversation_locking_contact(uow.conn, visitor.contact_id)
                is None
            )
            started = await store.start_conversation(
                uow.conn,
                site_id=site.id,
                contact_id=visitor.contact_id,
                author=Author("visitor", visitor.contact_id),
                text="a",
                client_msg_id="1",
                now=uow.now,
            )
            assert started is not None
        else:
            await visitor_store.lock_contact(uow.conn, visitor.contact_id)
            await store.insert_conversation(
                uow.conn, site_id=site.id, contact_id=visitor.contact_id, now=uow.now
            )
        first = asyncio.create_task(
            conversations.send_visitor_message(ctx, visitor, text="b", client_msg_id="2")
        )
        await _until_a_statement_waits_for_a_lock(ctx)
    sent = await first
    (listed,) = await conversations.list_conversations(ctx, operator)
    assert sent.conversation.id == listed.conversation.id
    assert sent.message.seq == listed.conversation.last_seq == (2 if starter == "visitor" else 1)
