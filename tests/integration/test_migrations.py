"""Migrations upgrade a database with data in it, and go down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from doorstep.store.engine import Database
from doorstep.store.migrate import current_revision, downgrade, upgrade
from doorstep.store.tables import contacts, sites


@pytest.fixture
async def empty_db(database_url: str):
    db = Database(database_url)
    await downgrade(db, "base")  # the fixture's database arrives migrated
    yield db
    await upgrade(db)
    await db.dispose()


NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _old_conversation(conn, *, last_seq: int, operator_read_seq: int) -> int:
    """A site, a contact and a conversation, in columns every revision has."""
    site_id = (
        await conn.execute(
            text(
                "INSERT INTO sites (key, name, timezone, color, widget_strings, created_at) "
                "VALUES ('k1234', 'S', 'UTC', '#000000', '{}', :now) RETURNING id"
            ),
            {"now": NOW},
        )
    ).scalar_one()
    contact_id = (
        await conn.execute(
            text(
                "INSERT INTO contacts (site_id, attributes, created_at, last_seen_at) "
                "VALUES (:site, '{}', :now, :now) RETURNING id"
            ),
            {"site": site_id, "now": NOW},
        )
    ).scalar_one()
    return (
        await conn.execute(
            text(
                "INSERT INTO conversations (site_id, contact_id, status, last_seq, "
                "visitor_read_seq, operator_read_seq, created_at, updated_at) "
                "VALUES (:site, :contact, 'open', :last_seq, 0, :read, :now, :now) RETURNING id"
            ),
            {
                "site": site_id,
                "contact": contact_id,
                "last_seq": last_seq,
                "read": operator_read_seq,
                "now": NOW,
            },
        )
    ).scalar_one()


async def _old_message(conn, conversation_id: int, seq: int, author: str, body: str) -> None:
    await conn.execute(
        text(
            "INSERT INTO messages (conversation_id, seq, author_type, text, internal, "
            "created_at) VALUES (:c, :seq, :author, :body, false, :now)"
        ),
        {"c": conversation_id, "seq": seq, "author": author, "body": body, "now": NOW},
    )


async def test_upgrade_keeps_existing_rows_and_fills_new_columns(empty_db: Database) -> None:
    await upgrade(empty_db, "0001")
    async with empty_db.transaction() as conn:
        conversation_id = await _old_conversation(conn, last_seq=1, operator_read_seq=0)
        await _old_message(conn, conversation_id, 1, "visitor", "kept")
    await upgrade(empty_db)
    async with empty_db.read() as conn:
        assert await current_revision(conn) is not None
        tags = (await conn.execute(select(contacts.c.tags))).scalar_one()
        # SQLite copies `contacts` to add its columns: the rows that refer to it stay.
        kept = (await conn.execute(text("SELECT text FROM messages"))).scalars().all()
    assert tags == []
    assert kept == ["kept"]


async def test_a_schema_change_that_leaves_a_row_pointing_nowhere_is_rolled_back(
    empty_db: Database,
) -> None:
    if not empty_db.is_sqlite:
        pytest.skip("PostgreSQL enforces foreign keys through every schema change")
    await upgrade(empty_db)
    with pytest.raises(RuntimeError, match="contacts"):
        async with empty_db.transaction(schema_change=True) as conn:
            await conn.execute(
                text(
                    "INSERT INTO contacts (site_id, attributes, created_at, last_seen_at) "
                    "VALUES (12345, '{}', '2026-01-01', '2026-01-01')"
                )
            )
    async with empty_db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM contacts"))).scalar_one() == 0
    # Foreign keys are enforced again afterwards.
    with pytest.raises(IntegrityError):
        async with empty_db.transaction() as conn:
            await conn.execute(
                text(
                    "INSERT INTO contacts (site_id, attributes, created_at, last_seen_at) "
                    "VALUES (12345, '{}', '2026-01-01', '2026-01-01')"
                )
            )


async def test_downgrade_to_nothing_and_up_again(empty_db: Database) -> None:
    await upgrade(empty_db)
    await downgrade(empty_db, "base")
    await upgrade(empty_db)
    async with empty_db.transaction() as conn:
        await conn.execute(
            insert(sites).values(
                key="again",
                name="S",
                timezone="UTC",
                color="#000000",
                widget_strings={},
                created_at=datetime.now(UTC),
            )
        )


async def test_upgrade_counts_each_conversations_unread_visitor_messages(
    empty_db: Database,
) -> None:
    await upgrade(empty_db, "0003")
    async with empty_db.transaction() as conn:
        # Read up to seq 2: of the visitor's messages 1, 2, 4 and 5 two are unread; the
        # operator's (3) and the system's (6) never count.
        conversation_id = await _old_conversation(conn, last_seq=6, operator_read_seq=2)
        for seq, author in enumerate(
            ("visitor", "visitor", "operator", "visitor", "visitor", "system"), start=1
        ):
            await _old_message(conn, conversation_id, seq, author, "hi")
    await upgrade(empty_db)
    async with empty_db.read() as conn:
        unread = (
            await conn.execute(text("SELECT operator_unread FROM conversations"))
        ).scalar_one()
    assert unread == 2


async def test_upgrade_makes_stored_identities_claims_and_lists_earlier_merges(
    empty_db: Database,
) -> None:
    await upgrade(empty_db, "0004")
    async with empty_db.transaction() as conn:
        conversation_id = await _old_conversation(conn, last_seq=0, operator_read_seq=0)
        survivor = (
            await conn.execute(
                text("SELECT contact_id, site_id FROM conversations WHERE id = :c"),
                {"c": conversation_id},
            )
        ).one()
        await conn.execute(
            text("UPDATE contacts SET email = 'alice@example.com', external_id = 'a1'")
        )
        # A browser that typed Alice's address was merged into her contact, before.
        shell = (
            await conn.execute(
                text(
                    "INSERT INTO contacts (site_id, attributes, created_at, last_seen_at, "
                    "merged_into_id) VALUES (:site, '{}', :now, :now, :into) RETURNING id"
                ),
                {"site": survivor.site_id, "now": NOW, "into": survivor.contact_id},
            )
        ).scalar_one()
        for _ in range(2):
            await conn.execute(
                text(
                    "INSERT INTO visitors (site_id, contact_id, created_at, last_seen_at) "
                    "VALUES (:site, :contact, :now, :now)"
                ),
                {"site": survivor.site_id, "contact": survivor.contact_id, "now": NOW},
            )
    await upgrade(empty_db)
    async with empty_db.read() as conn:
        flags = (
            await conn.execute(
                text("SELECT email_verified, external_id_verified FROM contacts WHERE id = :c"),
                {"c": survivor.contact_id},
            )
        ).one()
        secret = (await conn.execute(text("SELECT identity_secret FROM sites"))).scalar_one()
        merge = (
            await conn.execute(
                text(
                    "SELECT kind, source_contact_id, target_contact_id, visitor_ids "
                    "FROM contact_merges"
                )
            )
        ).one()
        generations = (
            (await conn.execute(text("SELECT DISTINCT token_generation FROM visitors")))
            .scalars()
            .all()
        )
    assert (bool(flags[0]), bool(flags[1])) == (False, False)
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert merge[:3] == ("before_upgrade", shell, survivor.contact_id)
    visitor_ids = merge[3] if isinstance(merge[3], list) else orjson.loads(merge[3])
    assert len(visitor_ids) == 2
    assert generations == [0]
