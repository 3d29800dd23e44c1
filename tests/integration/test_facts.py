"""The fact writer's batches (services/facts.py) and their transaction (store/tracking.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from doorstep.domain.events import Event
from doorstep.domain.models import Visitor
from doorstep.services import facts as facts_module
from doorstep.services import tracking
from doorstep.services.facts import Fact
from doorstep.store import tracking as store

INTEGRITY_ERRORS = (sqlite3.IntegrityError, sqlalchemy.exc.IntegrityError)
NOBODY = 999_999  # no such contact or visitor: a foreign key refuses the row


@pytest.fixture
async def visits(ctx, factory) -> list[tuple[Visitor, int]]:
    """Two visitors of one site, each on a visit of their own."""
    site = await factory.site()
    found = []
    for n in range(2):
        visitor = await factory.visitor(site)
        visit_id = await tracking.record_page_view(
            ctx, visitor, tracking.Client(None, None), f"landing-{n}", {"url": "https://s.ex/"}
        )
        found.append((visitor, visit_id))
    return found


def page_view(visitor: Visitor, visit_id: int, client_id: str, at: Any, **changes: Any) -> dict:
    return {
        "site_id": visitor.site_id,
        "contact_id": visitor.contact_id,
        "visit_id": visit_id,
        "client_id": client_id,
        "url": f"https://s.ex/{client_id}?utm_source=x",
        "path": f"/{client_id}",
        "title": "Pricing — ü",
        "started_at": at,
        "duration_ms": 0,
        "scroll_depth": 0,
        **changes,
    }


def event(visitor: Visitor, visit_id: int, client_id: str | None, at: Any, **changes: Any) -> dict:
    return {
        "site_id": visitor.site_id,
        "contact_id": visitor.contact_id,
        "visitor_id": visitor.id,
        "visit_id": visit_id,
        "name": "added_to_cart",
        "properties": {"value": 12.5, "sku": "ü-1", "tags": ["a"]},
        "created_at": at,
        "client_id": client_id,
        **changes,
    }


def batch(visitor: Visitor, visit_id: int, at: Any) -> store.FactRows:
    return store.FactRows(
        page_views=[
            page_view(visitor, visit_id, f"p{n}", at + timedelta(microseconds=n), title=title)
            for n, title in enumerate(["Pricing — ü", None, ""])
        ]
        + [page_view(visitor, visit_id, "p0", at, title="a retry is not a view")],
        progress=[
            {"b_contact": visitor.contact_id, "b_client": "p1", "b_duration": 1500, "b_depth": 60}
        ],
        events=[event(visitor, visit_id, "e1", at), event(visitor, visit_id, None, at)],
        visits=[{"b_visit": visit_id, "b_at": at + timedelta(seconds=5)}],
        contacts=[{"b_contact": visitor.contact_id, "b_at": at + timedelta(seconds=5)}],
    )


def stored(ctx, visitor: Visitor, visit_id: int) -> dict[str, list[tuple]]:
    """The rows as SQLite keeps them (text for times and JSON), without ids."""
    db = sqlite3.connect(make_url(ctx.settings.database_url).database)
    try:
        return {
            "page_views": db.execute(
                "SELECT client_id, url, path, title, started_at, duration_ms, scroll_depth"
                " FROM page_views WHERE visit_id = ? AND client_id LIKE 'p%' ORDER BY id",
                (visit_id,),
            ).fetchall(),
            "events": db.execute(
                "SELECT name, properties, created_at, client_id, visit_id = ?"
                " FROM visitor_events WHERE visitor_id = ? ORDER BY id",
                (visit_id, visitor.id),
            ).fetchall(),
            "visit": db.execute(
                "SELECT last_activity_at FROM visits WHERE id = ?", (visit_id,)
            ).fetchall(),
            "contact": db.execute(
                "SELECT last_seen_at FROM contacts WHERE id = ?", (visitor.contact_id,)
            ).fetchall(),
        }
    finally:
        db.close()


async def test_sqlite_batches_store_what_the_core_statements_store(ctx, clock, visits) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("the SQLite path only")
    (fast, fast_visit), (core, core_visit) = visits
    at = clock.advance(minutes=1)
    await store.write_facts(ctx.db, batch(fast, fast_visit, at))
    rows = batch(core, core_visit, at)
    async with ctx.db.transaction() as conn:
        await store.insert_page_views(conn, rows.page_views)
        await store.raise_page_view_progress(conn, rows.progress)
        await store.insert_events(conn, rows.events)
        await store.touch_visits(conn, rows.visits)
        await store.touch_contacts(conn, rows.contacts)
    written = stored(ctx, fast, fast_visit)
    assert written == stored(ctx, core, core_visit)
    assert [row[0] for row in written["page_views"]] == ["p0", "p1", "p2"]
    assert written["page_views"][1][5:] == (1500, 60)
    assert len(written["events"]) == 2


async def test_a_failing_batch_stores_nothing_and_the_next_one_is_written(ctx, visits) -> None:
    (visitor, visit_id), _ = visits
    at = ctx.clock.now()
    good = [page_view(visitor, visit_id, f"p{n}", at) for n in range(3)]
    bad_view = page_view(visitor, visit_id, "p9", at, contact_id=NOBODY)
    failing = [
        # One statement, its own transaction on SQLite.
        store.FactRows([*good, bad_view], [], [], [], []),
        # Several statements in BEGIN IMMEDIATE ... COMMIT: the page views are rolled back.
        store.FactRows(good, [], [event(visitor, visit_id, "e1", at, visitor_id=NOBODY)], [], []),
        store.FactRows(
            good,
            [],
            [event(visitor, visit_id, "e1", at), event(visitor, visit_id, "e2", at, name=None)],
            [{"b_visit": visit_id, "b_at": at + timedelta(seconds=1)}],
            [],
        ),
    ]
    for rows in failing:
        with pytest.raises(INTEGRITY_ERRORS):
            await store.write_facts(ctx.db, rows)
        async with ctx.db.read() as conn:
            count = await conn.execute(
                text("SELECT count(*) FROM page_views WHERE client_id LIKE 'p%'")
            )
            assert count.scalar_one() == 0
            events = await conn.execute(text("SELECT count(*) FROM visitor_events"))
            assert events.scalar_one() == 0
    await store.write_facts(ctx.db, store.FactRows(good, [], [], [], []))
    async with ctx.db.transaction() as conn:  # the writer connection is not left in a transaction
        count = await conn.execute(
            text("SELECT count(*) FROM page_views WHERE client_id LIKE 'p%'")
        )
        assert count.scalar_one() == 3


async def test_a_batch_larger_than_one_statement_is_written_whole(ctx, visits, monkeypatch):
    (visitor, visit_id), _ = visits
    monkeypatch.setattr(store, "_SQLITE_MAX_PARAMETERS", 25)  # two rows per INSERT
    at = ctx.clock.now()
    rows = [page_view(visitor, visit_id, f"p{n}", at) for n in range(7)]
    await store.write_facts(ctx.db, store.FactRows(rows, [], [], [], []))
    with pytest.raises(INTEGRITY_ERRORS):  # the last INSERT fails: the first three are undone
        await store.write_facts(
            ctx.db,
            store.FactRows(
                [
                    *(page_view(visitor, visit_id, f"q{n}", at) for n in range(6)),
                    page_view(visitor, NOBODY, "q6", at),
                ],
                [],
                [],
                [],
                [],
            ),
        )
    async with ctx.db.read() as conn:
        found = await conn.execute(
            text("SELECT client_id FROM page_views WHERE visit_id = :v ORDER BY id"),
            {"v": visit_id},
        )
        assert [row[0] for row in found] == ["landing-0", *(f"p{n}" for n in range(7))]


async def test_a_bad_fact_fails_alone_and_the_others_of_its_batch_are_kept(ctx, visits) -> None:
    (visitor, visit_id), _ = visits
    at = ctx.clock.now()
    ctx.facts.start()
    try:
        results = await asyncio.gather(
            ctx.facts.write(Fact(page_view=page_view(visitor, visit_id, "p1", at))),
            ctx.facts.write(Fact(page_view=page_view(visitor, visit_id, "p2", at, site_id=NOBODY))),
            ctx.facts.write(Fact(page_view=page_view(visitor, visit_id, "p3", at))),
            return_exceptions=True,
        )
    finally:
        await ctx.facts.stop()
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], INTEGRITY_ERRORS)
    async with ctx.db.read() as conn:
        found = await conn.execute(
            text("SELECT client_id FROM page_views WHERE client_id LIKE 'p%' ORDER BY client_id")
        )
        assert [row[0] for row in found] == ["p1", "p3"]


async def test_only_stored_facts_are_announced_and_a_batch_in_one_publish(ctx, visits) -> None:
    (visitor, visit_id), _ = visits
    at = ctx.clock.now()
    published: list[list[str]] = []

    async def record(events: Sequence[Event]) -> None:
        published.append([event.type for event in events])

    ctx.bus.subscribe(record)
    ctx.facts.start()
    try:
        await asyncio.gather(
            *(
                ctx.facts.write(
                    Fact(
                        page_view=page_view(visitor, visit_id, client_id, at, **changes),
                        announce=[Event(f"viewed.{client_id}", operator_sites=(1,))],
                    )
                )
                for client_id, changes in (("p1", {}), ("p2", {"site_id": NOBODY}), ("p3", {}))
            ),
            return_exceptions=True,
        )
    finally:
        await ctx.facts.stop()
    assert published == [["viewed.p1", "viewed.p3"]]


async def test_a_lone_fact_is_written_at_once_and_a_burst_waits_to_share_a_commit(
    ctx, visits, monkeypatch
) -> None:
    (visitor, visit_id), _ = visits
    monkeypatch.setattr(facts_module, "COMMIT_SPACING", 0.3)
    at = ctx.clock.now()
    loop = asyncio.get_running_loop()
    ctx.facts.start()
    try:
        began = loop.time()
        await ctx.facts.write(Fact(page_view=page_view(visitor, visit_id, "alone", at)))
        assert loop.time() - began < 0.25  # not held back: nothing was committed just before
        before = ctx.facts.batches
        await asyncio.gather(
            *[
                ctx.facts.write(Fact(page_view=page_view(visitor, visit_id, f"p{n}", at)))
                for n in range(20)
            ]
        )
        assert loop.time() - began >= 0.29  # spaced from the commit of "alone"
        assert ctx.facts.batches - before == 1
    finally:
        await ctx.facts.stop()
