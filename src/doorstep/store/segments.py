"""Saved segments, and their members counted and listed in SQL (docs/segments.md).

The filter's SQL is store/segment_sql.py's; on SQLite, a count or list with a deadline runs
in a worker process (store/segment_worker.py), so the regex calls it makes never hold the
server's event loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from doorstep.domain import segments as rules
from doorstep.domain.models import Contact
from doorstep.domain.segments import ContactFacts, Group, Needs, Segment
from doorstep.store import segment_worker
from doorstep.store.bounded_reads import Deadline, before_statement
from doorstep.store.rows import to_contact
from doorstep.store.segment_sql import prepare, scope
from doorstep.store.tables import (
    contacts,
    conversations,
    page_views,
    segments,
    visitor_events,
    visits,
)
from doorstep.store.visitors import contact_by_id, contacts_by_ids, matching_name_or_email


def _to_segment(row: Any) -> Segment:
    m = row._mapping
    return Segment(
        m["id"],
        m["site_id"],
        m["name"],
        rules.parse_filter(m["filter"]),
        m["created_at"],
        m["updated_at"],
    )


async def insert_segment(
    conn: AsyncConnection, *, site_id: int, name: str, filter: Group, now: datetime
) -> Segment:
    row = (
        await conn.execute(
            insert(segments)
            .values(
                site_id=site_id,
                name=name,
                filter=rules.filter_to_json(filter),
                created_at=now,
                updated_at=now,
            )
            .returning(*segments.c)
        )
    ).one()
    return _to_segment(row)


async def segment_by_id(conn: AsyncConnection, segment_id: int) -> Segment | None:
    row = (await conn.execute(select(segments).where(segments.c.id == segment_id))).first()
    return _to_segment(row) if row else None


async def segments_of_sites(conn: AsyncConnection, site_ids: set[int]) -> list[Segment]:
    rows = await conn.execute(
        select(segments).where(segments.c.site_id.in_(site_ids)).order_by(segments.c.id)
    )
    return [_to_segment(row) for row in rows]


async def update_segment(
    conn: AsyncConnection,
    segment_id: int,
    *,
    name: str | None,
    filter: Group | None,
    now: datetime,
) -> Segment:
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    if filter is not None:
        values["filter"] = rules.filter_to_json(filter)
    row = (
        await conn.execute(
            update(segments)
            .where(segments.c.id == segment_id)
            .values(**values)
            .returning(*segments.c)
        )
    ).one()
    return _to_segment(row)


async def delete_segment(conn: AsyncConnection, segment_id: int) -> bool:
    result = await conn.execute(delete(segments).where(segments.c.id == segment_id))
    return bool(result.rowcount)


# Members ----------------------------------------------------------------------------------


async def count_members(
    conn: AsyncConnection,
    site_id: int,
    group: Group,
    now: datetime,
    *,
    deadline: Deadline | None = None,
) -> int:
    """How many contacts match; within `deadline` when given (store/bounded_reads.py)."""
    if deadline is not None and _in_worker(conn):
        count, _ids = await segment_worker.matching_ids(
            conn, site_id, group, now, deadline=deadline, limit=0, count=True
        )
        assert count is not None
        return count
    await prepare(conn, group, deadline)
    stmt = select(func.count()).select_from(contacts).where(*_scope(conn, site_id, group, now))
    await before_statement(conn, deadline)
    return int((await conn.execute(stmt)).scalar_one())


async def members(
    conn: AsyncConnection,
    site_id: int,
    group: Group,
    now: datetime,
    *,
    limit: int,
    before_id: int | None = None,
    query: str | None = None,
    deadline: Deadline | None = None,
) -> list[Contact]:
    """Matching contacts, newest first; page with the last id as `before_id`."""
    if deadline is not None and _in_worker(conn):
        _count, ids = await segment_worker.matching_ids(
            conn,
            site_id,
            group,
            now,
            deadline=deadline,
            limit=limit,
            before_id=before_id,
            query=query,
        )
        return await _contacts_in_order(conn, ids)
    await prepare(conn, group, deadline)
    stmt = select(contacts).where(*_scope(conn, site_id, group, now))
    if query:
        stmt = stmt.where(matching_name_or_email(query))
    if before_id is not None:
        stmt = stmt.where(contacts.c.id < before_id)
    await before_statement(conn, deadline)
    rows = await conn.execute(stmt.order_by(contacts.c.id.desc()).limit(limit))
    return [to_contact(row) for row in rows]


async def preview(
    conn: AsyncConnection,
    site_id: int,
    group: Group,
    now: datetime,
    *,
    limit: int,
    deadline: Deadline,
) -> tuple[int, list[Contact]]:
    """How many contacts match and the first `limit` of them, within `deadline`."""
    if _in_worker(conn):  # one pass over the data for both
        count, ids = await segment_worker.matching_ids(
            conn, site_id, group, now, deadline=deadline, limit=limit, count=True
        )
        assert count is not None
        return count, await _contacts_in_order(conn, ids)
    # One pass for both: the count of all matching rows beside each of the first ones (none
    # match: no rows, and the count is 0).
    total = func.count().over().label("matching")
    stmt = select(contacts, total).where(*_scope(conn, site_id, group, now))
    await before_statement(conn, deadline)
    rows = (await conn.execute(stmt.order_by(contacts.c.id.desc()).limit(limit))).all()
    return (rows[0].matching if rows else 0), [to_contact(row) for row in rows]


async def member_clause(
    conn: AsyncConnection, site_id: int, group: Group, now: datetime
) -> ColumnElement[bool]:
    """The segment as one condition on `contacts`, for queries built elsewhere (exports)."""
    await prepare(conn, group, None)
    return and_(*_scope(conn, site_id, group, now))


def _scope(
    conn: AsyncConnection, site_id: int, group: Group, now: datetime
) -> tuple[ColumnElement[bool], ...]:
    return scope(conn.dialect.name, site_id, group, now)


def _in_worker(conn: AsyncConnection) -> bool:
    """SQLite: the filter's regex calls would hold the event loop (store/segment_worker.py)."""
    return conn.dialect.name == "sqlite"


async def _contacts_in_order(conn: AsyncConnection, ids: list[int]) -> list[Contact]:
    # A page of contacts by primary key: quick, so not held to the deadline, which the
    # worker's first start (store/segment_worker.py) may have used up.
    found = {contact.id: contact for contact in await contacts_by_ids(conn, ids)}
    return [found[i] for i in ids if i in found]  # one merged or erased meanwhile is left out


# The single-contact path --------------------------------------------------------------------


async def contact_facts(
    conn: AsyncConnection, contact_id: int, needs: Needs = rules.EVERYTHING
) -> ContactFacts | None:
    """What `matches` reads about one contact; with `needs`, only the facts a filter uses."""
    contact = await contact_by_id(conn, contact_id)
    if contact is None:
        return None
    visit_times: tuple[datetime, ...] = ()
    if needs.visits:
        rows = await conn.execute(
            select(visits.c.started_at).where(visits.c.contact_id == contact_id)
        )
        visit_times = tuple(row[0] for row in rows)
    pages: tuple[tuple[str, datetime], ...] = ()
    if needs.page_views:
        rows = await conn.execute(
            select(page_views.c.url, func.max(page_views.c.started_at))
            .where(page_views.c.contact_id == contact_id)
            .group_by(page_views.c.url)
        )
        pages = tuple((row[0], row[1]) for row in rows)
    talked = False
    if needs.conversations:
        found = exists().where(conversations.c.contact_id == contact_id)
        talked = bool((await conn.execute(select(found))).scalar())
    events = await _events(conn, contact_id, needs.event_names)
    return ContactFacts(contact, visit_times, pages, events, talked)


async def _events(
    conn: AsyncConnection, contact_id: int, names: frozenset[str] | None
) -> tuple[tuple[str, datetime], ...]:
    """Each (name, when) of the contact's events: all of them when `names` is None."""
    if names is not None and not names:
        return ()
    stmt = select(visitor_events.c.name, visitor_events.c.created_at).where(
        visitor_events.c.contact_id == contact_id
    )
    if names is not None:
        stmt = stmt.where(visitor_events.c.name.in_(names))
    return tuple((row[0], row[1]) for row in await conn.execute(stmt))
