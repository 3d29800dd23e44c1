"""Visits, page views and tracked events: the high-rate facts (docs/tracking.md).

The insert and update functions take whole batches: the fact writer calls them with up to a
few hundred rows in one transaction, which is what makes thousands of page views per second fit
through SQLite's single writer. `write_facts` is that transaction; on SQLite it runs the same
statements, compiled once, straight on the writer connection (see `_write_facts_sqlite`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

from doorstep.store.engine import Database
from doorstep.store.prepared import CompiledStatement
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


def _insert_ignoring_duplicates(dialect_name: str, table: Any) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _progress_update() -> Any:
    duration, depth = bindparam("b_duration"), bindparam("b_depth")
    return (
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


def _visits_touch() -> Any:
    at = bindparam("b_at")
    return (
        update(visits)
        .where(visits.c.id == bindparam("b_visit"), visits.c.last_activity_at < at)
        .values(last_activity_at=at)
    )


def _contacts_touch() -> Any:
    at = bindparam("b_at")
    return (
        update(contacts)
        .where(contacts.c.id == bindparam("b_contact"), contacts.c.last_seen_at < at)
        .values(last_seen_at=at)
    )


async def insert_page_views(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows with a (visit_id, client_id) already stored are skipped: a retry is not a view."""
    if rows:
        await conn.execute(_insert_ignoring_duplicates(conn.dialect.name, page_views), rows)


async def raise_page_view_progress(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Set duration and scroll depth to the larger of stored and reported, per page view."""
    if rows:
        await conn.execute(_progress_update(), rows)


async def touch_visits(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """`rows`: {b_visit, b_at}; moves each visit's last activity (never backwards)."""
    if rows:
        await conn.execute(_visits_touch(), rows)


async def touch_contacts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """`rows`: {b_contact, b_at}; moves each contact's last seen (never backwards)."""
    if rows:
        await conn.execute(_contacts_touch(), rows)


async def insert_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(_insert_ignoring_duplicates(conn.dialect.name, visitor_events), rows)


@dataclass(frozen=True, slots=True)
class FactRows:
    """One batch of facts, each list in the shape its function above takes."""

    page_views: list[dict[str, Any]]
    progress: list[dict[str, Any]]
    events: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    contacts: list[dict[str, Any]]


async def write_facts(db: Database, batch: FactRows) -> None:
    """Write a batch of facts in one transaction: all of them, or none (then raise)."""
    if db.is_sqlite:
        await _write_facts_sqlite(db, batch)
        return
    async with db.transaction() as conn:
        await insert_page_views(conn, batch.page_views)
        await raise_page_view_progress(conn, batch.progress)
        await insert_events(conn, batch.events)
        await touch_visits(conn, batch.visits)
        await touch_contacts(conn, batch.contacts)


# SQLite: the statements above, compiled once per dialect and row shape, run on the writer
# connection without the Core. The rows of an insert go into one multi-row INSERT: sqlite3's
# executemany hands the GIL back and forth with the event loop for every row, and with the loop
# busy forty rows took a quarter of a second and four times the CPU. A batch that is a single
# statement (the usual: page views only) runs as its own transaction, in one hop to SQLite's
# thread; otherwise BEGIN IMMEDIATE, the statements, COMMIT.
_SQLITE_STATEMENTS: dict[str, tuple[Callable[[], Any], bool]] = {
    # kind: (statement, whether its rows can go into one multi-row INSERT)
    "page_views": (lambda: _insert_ignoring_duplicates("sqlite", page_views), True),
    "progress": (_progress_update, False),
    "events": (lambda: _insert_ignoring_duplicates("sqlite", visitor_events), True),
    "visits": (_visits_touch, False),
    "contacts": (_contacts_touch, False),
}
# Bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER: 32766 since SQLite 3.32).
_SQLITE_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


@dataclass(frozen=True, slots=True)
class _SqliteStatement:
    """A statement compiled to SQLite's positional SQL, with each parameter's converter."""

    sql: str
    names: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]
    # For a multi-row INSERT: the SQL before and after the VALUES row, and the row itself.
    head: str | None = None
    row: str | None = None
    tail: str | None = None

    @classmethod
    def compile(
        cls, dialect: Dialect, stmt: Executable, keys: Sequence[str], *, multirow: bool
    ) -> _SqliteStatement:
        compiled = CompiledStatement.compile(dialect, stmt, keys)
        sql = compiled.sql
        names = tuple(name for name, _literal, _convert in compiled.parameters)
        missing = set(names) - set(keys)
        if missing:  # a column default the Core would have filled in: pass it explicitly
            raise ValueError(f"rows lack {sorted(missing)} for {sql!r}")
        converters = tuple(convert for _name, _literal, convert in compiled.parameters)
        if not multirow:
            return cls(sql, names, converters)
        row = "(" + ", ".join("?" * len(names)) + ")"
        head, found, tail = sql.partition(f" VALUES {row}")
        if not found or row in tail:
            raise ValueError(f"not a one-row INSERT: {sql!r}")
        return cls(sql, names, converters, f"{head} VALUES ", row, tail)

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        """The rows' parameters, one after the other, as the statement binds them."""
        pairs = tuple(zip(self.names, self.converters, strict=True))
        return [
            row[name] if convert is None else convert(row[name])
            for row in rows
            for name, convert in pairs
        ]

    def executions(self, rows: list[dict[str, Any]]) -> list[tuple[str, Any, bool]]:
        """(sql, parameters, executemany?) that store `rows`."""
        if self.row is None:
            width = len(self.names)
            flat = self.parameters(rows)
            return [(self.sql, [flat[i : i + width] for i in range(0, len(flat), width)], True)]
        per_statement = max(1, _SQLITE_MAX_PARAMETERS // max(1, len(self.names)))
        return [
            (
                f"{self.head}{', '.join([self.row] * len(chunk))}{self.tail}",
                self.parameters(chunk),
                False,
            )
            for chunk in (rows[i : i + per_statement] for i in range(0, len(rows), per_statement))
        ]


_sqlite_statements: dict[tuple[str, tuple[str, ...]], _SqliteStatement] = {}


def _sqlite_statement(dialect: Dialect, kind: str, rows: list[dict[str, Any]]) -> _SqliteStatement:
    keys = tuple(rows[0])
    prepared = _sqlite_statements.get((kind, keys))
    if prepared is None:
        build, multirow = _SQLITE_STATEMENTS[kind]
        prepared = _SqliteStatement.compile(dialect, build(), keys, multirow=multirow)
        _sqlite_statements[(kind, keys)] = prepared
    return prepared


async def _write_facts_sqlite(db: Database, batch: FactRows) -> None:
    dialect = db.writer.dialect
    executions = [
        execution
        for kind, rows in (
            ("page_views", batch.page_views),
            ("progress", batch.progress),
            ("events", batch.events),
            ("visits", batch.visits),
            ("contacts", batch.contacts),
        )
        if rows
        for execution in _sqlite_statement(dialect, kind, rows).executions(rows)
    ]
    if not executions:
        return
    if len(executions) == 1 and not executions[0][2]:
        # One statement is atomic by itself: no BEGIN and COMMIT. The engine's single writer
        # connection, so that this waits for other writers like any transaction does, and in
        # autocommit mode between transactions (store/engine.py).
        async with db.writer_connection() as (_conn, driver):
            await driver.execute(executions[0][0], executions[0][1])
        return
    async with db.transaction() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        for sql, parameters, many in executions:
            if many:
                await driver.executemany(sql, parameters)
            else:
                await driver.execute(sql, parameters)


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
