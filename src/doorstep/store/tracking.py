"""Visits, page views and tracked events: the high-rate facts (docs/tracking.md).

The insert and update functions take whole batches: the fact writer calls them with up to a
few hundred rows in one transaction, which is what makes thousands of page views per second fit
through SQLite's single writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.tables import contacts, page_views, visitor_events, visits


async def insert_visit(conn: AsyncConnection, values: dict[str, Any]) -> int:
    return (await conn.execute(insert(visits).values(**values).returning(visits.c.id))).scalar_one()


async def latest_visit_of_visitor(conn: AsyncConnection, visitor_id: int) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(visits)
            .where(visits.c.visitor_id == visitor_id)
            .order_by(visits.c.started_at.desc(), visits.c.id.desc())
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None


def _insert_ignoring_duplicates(conn: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def insert_page_views(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows with a (visit_id, client_id) already stored are skipped: a retry is not a view."""
    if rows:
        await conn.execute(_insert_ignoring_duplicates(conn, page_views), rows)


async def raise_page_view_progress(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Set duration and scroll depth to the larger of stored and reported, per page view."""
    if not rows:
        return
    duration, depth = bindparam("b_duration"), bindparam("b_depth")
    stmt = (
        update(page_views)
        .where(
            page_views.c.contact_id == bindparam("b_contact"),
            page_views.c.client_id == bindparam("b_client"),
        )
        .values(
            duration_ms=case(
                (page_views.c.duration_ms < duration, duration), else_=page_views.c.duration_ms
            ),
            scroll_depth=case(
                (page_views.c.scroll_depth < depth, depth), else_=page_views.c.scroll_depth
            ),
        )
    )
    await conn.execute(stmt, rows)


async def touch_visits(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """`rows`: {b_visit, b_at}; moves each visit's last activity (never backwards)."""
    if not rows:
        return
    at = bindparam("b_at")
    stmt = (
        update(visits)
        .where(visits.c.id == bindparam("b_visit"), visits.c.last_activity_at < at)
        .values(last_activity_at=at)
    )
    await conn.execute(stmt, rows)


async def touch_contacts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    at = bindparam("b_at")
    stmt = (
        update(contacts)
        .where(contacts.c.id == bindparam("b_contact"), contacts.c.last_seen_at < at)
        .values(last_seen_at=at)
    )
    await conn.execute(stmt, rows)


async def insert_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(_insert_ignoring_duplicates(conn, visitor_events), rows)


async def visit_page_counts(conn: AsyncConnection, visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    rows = await conn.execute(
        select(page_views.c.visit_id, func.count())
        .where(page_views.c.visit_id.in_(visit_ids))
        .group_by(page_views.c.visit_id)
    )
    return {visit_id: count for visit_id, count in rows}


async def visits_by_id(conn: AsyncConnection, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not visit_ids:
        return {}
    rows = await conn.execute(select(visits).where(visits.c.id.in_(visit_ids)))
    return {row.id: dict(row._mapping) for row in rows}


async def visits_of_contact(
    conn: AsyncConnection, contact_id: int, *, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(visits)
        .where(visits.c.contact_id == contact_id)
        .order_by(visits.c.started_at.desc(), visits.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def visit_totals(conn: AsyncConnection, contact_id: int) -> dict[str, Any]:
    row = (
        await conn.execute(
            select(
                func.count(), func.min(visits.c.started_at), func.max(visits.c.last_activity_at)
            ).where(visits.c.contact_id == contact_id)
        )
    ).one()
    return {"count": row[0], "first_at": row[1], "last_at": row[2]}


async def page_views_of_visit(conn: AsyncConnection, visit_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(page_views).where(page_views.c.visit_id == visit_id).order_by(page_views.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def events_of_contact(
    conn: AsyncConnection, contact_id: int, *, limit: int, before_id: int | None = None
) -> list[dict[str, Any]]:
    stmt = select(visitor_events).where(visitor_events.c.contact_id == contact_id)
    if before_id is not None:
        stmt = stmt.where(visitor_events.c.id < before_id)
    # Newest first along the (contact_id, created_at) index, without sorting the whole history.
    order = (visitor_events.c.created_at.desc(), visitor_events.c.id.desc())
    rows = await conn.execute(stmt.order_by(*order).limit(limit))
    return [dict(row._mapping) for row in rows]


async def update_contact_profile(
    conn: AsyncConnection, contact_id: int, values: dict[str, Any], first_source: Any
) -> None:
    """Copy a new visit's facts to its contact; the first touch is written once only."""
    await conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))
    await conn.execute(
        update(contacts)
        .where(contacts.c.id == contact_id, contacts.c.first_source.is_(None))
        .values(first_source=first_source)
    )


async def all_page_views_of_contact(conn: AsyncConnection, contact_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(page_views).where(page_views.c.contact_id == contact_id).order_by(page_views.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def last_page_view(conn: AsyncConnection, visit_id: int) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(page_views)
            .where(page_views.c.visit_id == visit_id)
            .order_by(page_views.c.id.desc())
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None
