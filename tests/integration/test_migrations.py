"""Migrations upgrade a database with data in it, and go down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

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


async def test_upgrade_keeps_existing_rows_and_fills_new_columns(empty_db: Database) -> None:
    await upgrade(empty_db, "0001")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with empty_db.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO sites (key, name, timezone, color, widget_strings, created_at) "
                "VALUES ('k1234', 'S', 'UTC', '#000000', '{}', :now)"
            ),
            {"now": now},
        )
        site_id = (await conn.execute(select(sites.c.id))).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO contacts (site_id, attributes, created_at, last_seen_at) "
                "VALUES (:site, '{}', :now, :now)"
            ),
            {"site": site_id, "now": now},
        )
    await upgrade(empty_db)
    async with empty_db.read() as conn:
        assert await current_revision(conn) is not None
        tags = (await conn.execute(select(contacts.c.tags))).scalar_one()
    assert tags == []


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
