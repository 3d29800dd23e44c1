"""Saved segments, and their members counted and listed in SQL (docs/segments.md).

`compile_filter` is the SQL twin of `doorstep.domain.segments.matches`: every condition becomes
a two-valued expression (never NULL), so groups and negations combine exactly as in Python.
tests/integration/test_segments.py checks on SQLite and PostgreSQL that both select the same
contacts. The two dialects differ in JSON access, case folding and regular expressions; each
difference is handled in one small method below.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from doorstep.domain import segments as rules
from doorstep.domain.linear_regex import compile_regex
from doorstep.domain.models import Contact
from doorstep.domain.segments import Condition, ContactFacts, Group, Needs, Segment
from doorstep.store.rows import to_contact
from doorstep.store.tables import (
    contacts,
    conversations,
    page_views,
    segments,
    visitor_events,
    visits,
)
from doorstep.store.visitors import contact_by_id, matching_name_or_email

REGEX_FUNCTION = "doorstep_regex"


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


def compile_filter(group: Group, now: datetime, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over `contacts` for `dialect` ("sqlite" or "postgresql")."""
    return _Compiler(now, dialect == "postgresql").group(group)


async def count_members(conn: AsyncConnection, site_id: int, group: Group, now: datetime) -> int:
    await _prepare(conn, group)
    stmt = select(func.count()).select_from(contacts).where(*_scope(conn, site_id, group, now))
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
) -> list[Contact]:
    """Matching contacts, newest first; page with the last id as `before_id`."""
    await _prepare(conn, group)
    stmt = select(contacts).where(*_scope(conn, site_id, group, now))
    if query:
        stmt = stmt.where(matching_name_or_email(query))
    if before_id is not None:
        stmt = stmt.where(contacts.c.id < before_id)
    rows = await conn.execute(stmt.order_by(contacts.c.id.desc()).limit(limit))
    return [to_contact(row) for row in rows]


async def member_clause(
    conn: AsyncConnection, site_id: int, group: Group, now: datetime
) -> ColumnElement[bool]:
    """The segment as one condition on `contacts`, for queries built elsewhere (exports)."""
    await _prepare(conn, group)
    return and_(*_scope(conn, site_id, group, now))


def _scope(
    conn: AsyncConnection, site_id: int, group: Group, now: datetime
) -> tuple[ColumnElement[bool], ...]:
    # A merged contact is a forwarding address; its history belongs to the survivor.
    return (
        contacts.c.site_id == site_id,
        contacts.c.merged_into_id.is_(None),
        compile_filter(group, now, conn.dialect.name),
    )


def _regex_search(pattern: str | None, value: object) -> int | None:
    if pattern is None or value is None:
        return None
    return int(isinstance(value, str) and compile_regex(pattern).search(value))


async def _prepare(conn: AsyncConnection, group: Group) -> None:
    """SQLite has no regular expressions: lend it the linear-time engine of the domain."""
    if conn.dialect.name != "sqlite":
        return
    if not any(c.op == "regex" for c in rules.conditions_of(group)):
        return
    raw = await conn.get_raw_connection()
    await raw.driver_connection.create_function(  # type: ignore[union-attr]
        REGEX_FUNCTION, 2, _regex_search, deterministic=True
    )


class _Compiler:
    def __init__(self, now: datetime, postgres: bool) -> None:
        self.now = now
        self.pg = postgres

    def group(self, group: Group) -> ColumnElement[bool]:
        parts = [
            self.group(item) if isinstance(item, Group) else self.condition(item)
            for item in group.conditions
        ]
        if group.match == "all":
            return and_(true(), *parts)
        found = or_(false(), *parts)
        return found if group.match == "any" else not_(found)

    def condition(self, condition: Condition) -> ColumnElement[bool]:
        positive = rules.NEGATIONS.get(condition.op)
        if positive is not None:
            return not_(self.positive(condition, positive))
        return self.positive(condition, condition.op)

    def positive(self, c: Condition, op: str) -> ColumnElement[bool]:
        kind = c.kind
        if kind == "text":
            column = self.text_column(c.field)
            if op == "exists":
                return column.is_not(None)
            return and_(column.is_not(None), self.text(column, c, op))
        if kind == "tags":
            return self.tags(c, op)
        if kind == "date":
            cutoff = self.now - timedelta(days=rules.days_of(c))
            column = contacts.c[c.field]
            return column >= cutoff if op == "within_days" else column < cutoff
        if kind == "attribute":
            return self.attribute(c, op)
        if kind == "flag":
            found = exists().where(conversations.c.contact_id == contacts.c.id)
            return found if c.value else not_(found)
        if kind == "url":
            where = [page_views.c.contact_id == contacts.c.id, *self.since(c, page_views)]
            if op != "exists":
                where.append(self.text(page_views.c.url, c, op))
            return exists().where(*where)
        table = visits if kind == "visits" else visitor_events
        where = [table.c.contact_id == contacts.c.id, *self.since(c, table)]
        if kind == "event":
            where.append(visitor_events.c.name == c.name)
        if op == "exists":
            return exists().where(*where)
        count = select(func.count()).select_from(table).where(*where).scalar_subquery()
        return rules.COMPARE[op](count, c.value)  # type: ignore[no-any-return]

    def since(self, c: Condition, table: Any) -> list[ColumnElement[bool]]:
        if c.within_days is None:
            return []
        column = table.c.created_at if table is visitor_events else table.c.started_at
        return [column >= self.now - timedelta(days=c.within_days)]

    def text_column(self, field: str) -> ColumnElement[Any]:
        if field not in rules.SOURCE_TEXT:
            return contacts.c[field]
        column, key = rules.SOURCE_TEXT[field]
        if self.pg:
            return contacts.c[column].op("->>", return_type=String)(literal(key))
        return func.json_extract(contacts.c[column], f"$.{key}", type_=String)

    def fold(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        # ASCII only on both: SQLite's lower() without ICU, and translate() on PostgreSQL,
        # whose lower() would follow the database's locale.
        if self.pg:
            return func.translate(column, rules.ASCII_UPPER, rules.ASCII_LOWER, type_=String)
        return func.lower(column, type_=String)

    def text(self, column: ColumnElement[Any], c: Condition, op: str) -> ColumnElement[bool]:
        """`op` on a non-NULL text column."""
        if op == "regex":
            assert c.regex is not None
            if self.pg:
                return column.op("~", is_comparison=True)(literal(c.regex.postgres))
            return func.doorstep_regex(c.regex.pattern, column, type_=Integer) == 1
        folded = self.fold(column)
        values = [rules.fold(str(v)) for v in rules.values_of(c.value)]
        if op in ("eq", "in"):
            return folded.in_(values) if len(values) > 1 else folded == values[0]
        if op == "contains":
            return folded.contains(values[0], autoescape=True)
        if op == "starts_with":
            return folded.startswith(values[0], autoescape=True)
        return folded.endswith(values[0], autoescape=True)

    def tags(self, c: Condition, op: str) -> ColumnElement[bool]:
        if self.pg:
            if op == "exists":
                return func.jsonb_array_length(contacts.c.tags) > 0
            elements = func.jsonb_array_elements_text(contacts.c.tags).table_valued("value")
        else:
            if op == "exists":
                return func.json_array_length(contacts.c.tags) > 0
            elements = func.json_each(contacts.c.tags).table_valued("value")
        wanted = [rules.fold(str(v)) for v in rules.values_of(c.value)]
        return exists().select_from(elements).where(self.fold(elements.c.value).in_(wanted))

    def attribute(self, c: Condition, op: str) -> ColumnElement[bool]:
        name = c.name or ""
        attrs = contacts.c.attributes
        if self.pg:
            kind = func.coalesce(func.jsonb_typeof(attrs.op("->")(literal(name))), "null")
            text = attrs.op("->>", return_type=String)(literal(name))
            number_kind, string_kind = kind == "number", kind == "string"
        else:
            path = f'$."{name}"'
            kind = func.coalesce(func.json_type(attrs, path, type_=String), "null")
            text = func.json_extract(attrs, path, type_=String)
            number_kind, string_kind = kind.in_(("integer", "real")), kind == "text"
        if op == "exists":
            return kind != "null"
        first = rules.values_of(c.value)[0]
        if isinstance(first, bool):
            if self.pg:
                return and_(kind == "boolean", text == ("true" if first else "false"))
            return kind == ("true" if first else "false")
        if isinstance(first, str):
            return and_(string_kind, self.text(text, c, op))
        return self.number(c, op, number_kind, text, attrs, name)

    def number(
        self,
        c: Condition,
        op: str,
        is_number: ColumnElement[bool],
        text: ColumnElement[Any],
        attrs: Any,
        name: str,
    ) -> ColumnElement[bool]:
        values = rules.values_of(c.value)
        if self.pg:
            # The cast must only see numbers: CASE, unlike AND, fixes the order of evaluation.
            stored: ColumnElement[Any] = cast(text, Numeric)
            wanted = [literal(rules.number_of(v), Numeric) for v in values]
        else:
            stored = func.json_extract(attrs, f'$."{name}"')
            wanted = [literal(v) for v in values]
        compared = stored.in_(wanted) if op == "in" else rules.COMPARE[op](stored, wanted[0])
        if self.pg:
            return case((is_number, compared), else_=false())  # type: ignore[no-any-return]
        return and_(is_number, compared)


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
