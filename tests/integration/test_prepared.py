"""Prepared statements give the rows a Core execution gives (store/prepared.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from doorstep.domain.models import Author
from doorstep.store import conversations as store
from doorstep.store.prepared import Prepared
from doorstep.store.tables import conversations, messages
from tests.factories import Factory


async def test_rows_match_the_cores_for_every_column_type(factory: Factory, ctx) -> None:
    site = await factory.site()
    operator = await factory.operator(site)
    visitor = await factory.visitor(site)
    async with ctx.db.transaction() as conn:
        conversation = await store.insert_conversation(
            conn, site_id=site.id, contact_id=visitor.contact_id, now=ctx.clock.now()
        )
        appended = await store.append_message(
            conn,
            conversation,
            author=Author("operator", operator.id),
            text="Ünïcode ✓ and 'quotes'",
            internal=True,
            client_msg_id="c-1",
            now=ctx.clock.now(),
            meta={"rule_id": 7, "nested": {"list": [1, None, "x"]}},
        )
    assert appended is not None
    message = appended.message
    by_id = Prepared(select(messages).where(messages.c.id == bindparam("b_id")))
    async with ctx.db.read() as conn:
        core = (await conn.execute(select(messages).where(messages.c.id == message.id))).one()
        prepared = await by_id.one(conn, b_id=message.id)
        assert dict(prepared._mapping) == dict(core._mapping)
        assert prepared._mapping["internal"] is True
        assert prepared._mapping["meta"] == {"rule_id": 7, "nested": {"list": [1, None, "x"]}}
        created_at = prepared._mapping["created_at"]
        assert isinstance(created_at, datetime)
        assert created_at.utcoffset() is not None
        assert created_at == ctx.clock.now()
        # A joined, labelled query with a subquery: the conversation's inbox row.
        one = await store.conversation_summary(conn, conversation.id)
        listed = await store.conversation_summaries(conn, {site.id})
        assert listed == [one]
        assert appended.summary == one  # on PostgreSQL, read by the inserting statement
        assert one.assignee is None  # a note assigns nobody
        assert one.conversation.last_seq == 1


async def test_literals_keep_their_values_and_missing_rows_give_none(factory: Factory, ctx):
    site = await factory.site()
    visitor = await factory.visitor(site)
    open_of_contact = Prepared(
        select(conversations.c.id)
        .where(
            conversations.c.contact_id == bindparam("b_contact"),
            conversations.c.status == "open",
        )
        .limit(1)
    )
    async with ctx.db.read() as conn:
        assert await open_of_contact.first(conn, b_contact=visitor.contact_id) is None
        assert await open_of_contact.scalar(conn, b_contact=visitor.contact_id) is None
    async with ctx.db.transaction() as conn:
        made = await store.insert_conversation(
            conn, site_id=site.id, contact_id=visitor.contact_id, now=ctx.clock.now()
        )
    async with ctx.db.read() as conn:
        assert await open_of_contact.scalar(conn, b_contact=visitor.contact_id) == made.id
