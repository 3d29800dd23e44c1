"""An erased person's text is gone: from every table, from SQLite's files, and (PostgreSQL)
vacuumed away from the tables' live pages (docs/security.md, "Data at rest")."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from doorstep.domain.models import Operator, Site
from doorstep.jobs.handlers import HANDLERS
from doorstep.jobs.worker import Worker
from doorstep.services import (
    contact_identity,
    contacts,
    conversations,
    email_capture,
    privacy,
    tracking,
    visitors,
)
from doorstep.services.context import Ctx
from doorstep.services.privacy import ERASURE_VACUUM
from doorstep.store.erasure import tables_an_erasure_touches
from doorstep.store.tables import metadata
from tests.factories import Factory

DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"


def new_marker() -> str:
    # Lower case: an email is stored lower-cased.
    return f"zqerased{secrets.token_hex(6)}"


async def person_with_everything(ctx: Ctx, site: Site, admin: Operator, marker: str) -> int:
    """A contact whose every kind of stored text carries `marker`; returns its id."""
    visitor = await Factory(ctx).visitor(site)
    await visitors.identify_visitor(ctx, visitor, {"name": f"Ann {marker}"})
    await someone_else(ctx, site)
    # The row outgrows its place: the earlier version stays behind in the page's free
    # space, apart from the row, unless it was overwritten when it was left.
    longer = "Ann, who gave a much longer name later on"
    await contacts.update_contact(ctx, admin, visitor.contact_id, {"name": longer})
    for n in range(3):
        await visitors.set_visitor_attributes(ctx, visitor, {"plan": f"{marker}-{n}"})
    client = tracking.Client(DESKTOP, "8.8.8.8")
    url = f"https://shop.example/{marker}?q={marker}"
    await tracking.record_page_view(ctx, visitor, client, "p1", {"url": url, "title": marker})
    await tracking.track_event(ctx, visitor, "searched", {"query": marker})
    sent = await conversations.send_visitor_message(
        ctx, visitor, text=f"Hello, I am {marker}", client_msg_id="m1"
    )
    # Longer than a page: the text lies on overflow pages, freed whole by the deletion.
    long_text = ("x" * 5000) + marker
    await conversations.send_visitor_message(ctx, visitor, text=long_text, client_msg_id="m2")
    await conversations.send_operator_message(
        ctx, admin, sent.message.conversation_id, text=f"Noted, {marker}", client_msg_id="o1"
    )
    await email_capture.capture_email(ctx, visitor, email=f"{marker}@example.com")
    await contacts.add_note(ctx, admin, visitor.contact_id, f"Called {marker}")
    return visitor.contact_id


async def someone_else(ctx: Ctx, site: Site) -> int:
    """Another contact, written between and after: the pages are shared, not freed whole."""
    visitor = await Factory(ctx).visitor(site)
    await visitors.identify_visitor(ctx, visitor, {"name": "Bob Keeps"})
    await conversations.send_visitor_message(ctx, visitor, text="I stay", client_msg_id="b1")
    return visitor.contact_id


async def site_and_admin(factory: Factory) -> tuple[Site, Operator]:
    site = await factory.site()
    return site, await factory.operator(site, role="admin")


async def count(ctx: Ctx, sql: str, **params: object) -> int:
    async with ctx.db.read() as conn:
        return int((await conn.execute(text(sql), params)).scalar() or 0)


async def rows_mentioning(ctx: Ctx, marker: str) -> list[str]:
    """Each column of each table that holds the marker in some row (compared as text)."""
    found = []
    for table in metadata.sorted_tables:
        matches = {c.name: f"CAST({c.name} AS TEXT) LIKE :p" for c in table.columns}
        where_any = " OR ".join(matches.values())
        if not await count(
            ctx, f"SELECT count(*) FROM {table.name} WHERE {where_any}", p=f"%{marker}%"
        ):
            continue  # one query per table, and one per column only where there is a match
        for name, match in matches.items():
            sql = f"SELECT count(*) FROM {table.name} WHERE {match}"
            if await count(ctx, sql, p=f"%{marker}%"):
                found.append(f"{table.name}.{name}")
    return found


async def test_an_erasure_leaves_no_row_that_mentions_the_person(ctx, factory) -> None:
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    erased = await person_with_everything(ctx, site, admin, marker)
    kept = await someone_else(ctx, site)
    assert await rows_mentioning(ctx, marker)  # the search finds the person's text
    await privacy.erase_contact(ctx, admin, erased)
    assert await rows_mentioning(ctx, marker) == []
    assert (await contacts.get_contact_card(ctx, admin, kept)).contact.name == "Bob Keeps"


async def test_erasing_a_merged_contact_erases_the_contact_it_forwards_to(ctx, factory) -> None:
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    shell = await person_with_everything(ctx, site, admin, marker)
    survivor = await someone_else(ctx, site)
    await contact_identity.merge_contact(ctx, admin, shell, survivor)
    exported = await privacy.export_contact(ctx, admin, shell)
    assert exported["contact"]["id"] == survivor  # the person's data is there now
    # The record of the merge names the merged contact as it was.
    assert "contact_merges.source_email" in await rows_mentioning(ctx, marker)
    await privacy.erase_contact(ctx, admin, shell)
    assert await rows_mentioning(ctx, marker) == []
    assert await count(ctx, "SELECT count(*) FROM contacts WHERE id = :id", id=survivor) == 0


def test_an_erasure_touches_every_table_that_refers_to_a_contact() -> None:
    touched = set(tables_an_erasure_touches())
    for table in metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name in touched and key.ondelete in ("CASCADE", "SET NULL"):
                assert table.name in touched, f"{table.name} changes when a contact goes"
    assert {"contacts", "messages", "page_views", "contact_merges", "leads"} <= touched


# --- SQLite: the bytes of the files -------------------------------------------------------


def sqlite_files(ctx: Ctx) -> list[Path]:
    database = Path(str(make_url(ctx.settings.database_url).database))
    return [database, Path(f"{database}-wal"), Path(f"{database}-shm")]


def files_holding(paths: list[Path], marker: str) -> list[str]:
    needle = marker.encode()
    return [p.name for p in paths if p.exists() and needle in p.read_bytes()]


@pytest.fixture
def sqlite_ctx(ctx: Ctx) -> Ctx:
    if not ctx.db.is_sqlite:
        pytest.skip("the files of an SQLite database")
    assert ctx.db.checkpointer is not None
    ctx.db.checkpointer.interval = 3600  # the test makes the checkpoints it needs
    return ctx


async def test_no_sqlite_file_holds_an_erased_persons_text(sqlite_ctx, factory) -> None:
    ctx = sqlite_ctx
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    await someone_else(ctx, site)
    erased = await person_with_everything(ctx, site, admin, marker)
    await someone_else(ctx, site)
    ctx.db.checkpointer.checkpoint()  # some of it in the database file, some in the log
    await contacts.add_note(ctx, admin, erased, f"Later {marker}")
    assert files_holding(sqlite_files(ctx), marker)
    await privacy.erase_contact(ctx, admin, erased)
    # Read while the database is open, as anyone who can read the files would.
    assert files_holding(sqlite_files(ctx), marker) == []
    await someone_else(ctx, site)  # and the database goes on working
    check = sqlite3.connect(sqlite_files(ctx)[0])
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        check.close()


async def test_an_earlier_version_of_a_row_is_in_no_file(sqlite_ctx, factory) -> None:
    # Why SQLite overwrites on every connection and every write, not only for an erasure:
    # a row that outgrows its place leaves its earlier version in the page, where deleting
    # the row later does not reach.
    ctx = sqlite_ctx
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    visitor = await factory.visitor(site)
    await visitors.identify_visitor(ctx, visitor, {"name": f"Ann {marker}"})
    await someone_else(ctx, site)
    longer = "Ann, who gave a much longer name later on"
    await contacts.update_contact(ctx, admin, visitor.contact_id, {"name": longer})
    assert await ctx.db.empty_log()
    assert files_holding(sqlite_files(ctx), marker) == []


async def test_a_log_a_reader_still_needs_is_emptied_once_it_is_done(sqlite_ctx, factory) -> None:
    ctx = sqlite_ctx
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    erased = await person_with_everything(ctx, site, admin, marker)
    reader = sqlite3.connect(sqlite_files(ctx)[0], isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()  # a snapshot with the text
        await privacy.erase_contact(ctx, admin, erased)
        assert "doorstep.db-wal" in files_holding(sqlite_files(ctx), marker)
    finally:
        reader.close()
    ctx.db.checkpointer.checkpoint()  # the checkpointer's next pass
    assert files_holding(sqlite_files(ctx), marker) == []


# --- PostgreSQL: VACUUM after the erasure ---------------------------------------------------


async def last_vacuums(ctx: Ctx) -> dict[str, object]:
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            text("SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname = ANY(:t)"),
            {"t": list(tables_an_erasure_touches())},
        )
        return {name: at for name, at in rows}


async def tuples_holding(ctx: Ctx, table: str, marker: str) -> int | None:
    """Row versions, dead ones too, of the table's pages whose data holds the marker; None
    without PostgreSQL's pageinspect extension to look with."""
    async with ctx.db.writer_connection() as (_conn, driver):
        try:
            await driver.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        except asyncpg.PostgresError:  # not installed, or not ours to install
            return None
        return await driver.fetchval(
            "SELECT count(*) FROM generate_series(0, pg_relation_size($1::regclass) / 8192 - 1)"
            " AS page, heap_page_items(get_raw_page($1::text, page::int))"
            " WHERE position(convert_to($2, 'UTF8') IN t_data) > 0",
            table,
            marker,
        )


async def test_postgresql_vacuums_the_tables_an_erasure_touched(ctx, factory) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite overwrites what it deletes instead")
    site, admin = await site_and_admin(factory)
    marker = new_marker()
    erased = await person_with_everything(ctx, site, admin, marker)
    before = await last_vacuums(ctx)
    await privacy.erase_contact(ctx, admin, erased)
    dead = await tuples_holding(ctx, "messages", marker)
    assert dead is None or dead > 0  # deleted, yet still in the table's pages
    worker = Worker(ctx, HANDLERS)
    assert await worker.run_due() == 1
    after = await last_vacuums(ctx)
    assert set(after) == set(tables_an_erasure_touches())
    assert all(after[name] is not None and after[name] != before.get(name) for name in after)
    assert await tuples_holding(ctx, "messages", marker) in (None, 0)
    assert await count(ctx, "SELECT count(*) FROM jobs WHERE key = :k", k=ERASURE_VACUUM) == 0
