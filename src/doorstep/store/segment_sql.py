"""A segment's filter compiled to SQL, for SQLite and PostgreSQL (docs/segments.md).

`compile_filter` is the SQL twin of `doorstep.domain.segment_matching.matches`: every
condition becomes a two-valued expression (never NULL), so groups and negations combine exactly
as in Python. tests/integration/test_segments.py checks on SQLite and PostgreSQL that both
select the same contacts. The two dialects differ in JSON access, case folding and regular
expressions; each difference is handled in one small method below. SQLite has no regular
expressions: `regex_function` lends it the domain's engine (store/segment_worker.py runs it
away from the event loop).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from doorstep.domain import segments as rules
from doorstep.domain.linear_regex import compile_regex
from doorstep.domain.segments import Condition, Group
from doorstep.store.bounded_reads import Deadline, QueryTooSlow
from doorstep.store.tables import (
    contacts,
    conversations,
    page_views,
    visitor_events,
    visits,
)

REGEX_FUNCTION = "doorstep_regex"


def compile_filter(group: Group, now: datetime, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over `contacts` for `dialect` ("sqlite" or "postgresql")."""
    return _Compiler(now, dialect == "postgresql").group(group)


def scope(
    dialect: str, site_id: int, group: Group, now: datetime
) -> tuple[ColumnElement[bool], ...]:
    """The members of a segment of a site, as conditions on `contacts`."""
    # A merged contact is a forwarding address; its history belongs to the survivor.
    return (
        contacts.c.site_id == site_id,
        contacts.c.merged_into_id.is_(None),
        compile_filter(group, now, dialect),
    )


def regex_function(group: Group, deadline: Deadline | None) -> Callable[[Any, Any], int | None]:
    """SQLite's doorstep_regex for one query: the filter's patterns, compiled once, and a
    look at the deadline before each text (a row's call holds the GIL: keep it short)."""
    compiled = {c.regex.pattern: c.regex for c in rules.conditions_of(group) if c.regex}
    passed = deadline.passed if deadline is not None else (lambda: False)

    def search(pattern: Any, value: Any) -> int | None:
        if pattern is None or value is None:
            return None
        if passed():
            raise QueryTooSlow  # SQLite stops the statement (store/bounded_reads.py)
        regex = compiled.get(pattern) or compile_regex(pattern)
        return int(isinstance(value, str) and regex.search(value))

    return search


async def prepare(conn: AsyncConnection, group: Group, deadline: Deadline | None) -> None:
    """SQLite has no regular expressions: lend it the linear-time engine of the domain."""
    if conn.dialect.name != "sqlite":
        return
    if not any(c.op == "regex" for c in rules.conditions_of(group)):
        return
    raw = await conn.get_raw_connection()
    await raw.driver_connection.create_function(  # type: ignore[union-attr]
        REGEX_FUNCTION, 2, regex_function(group, deadline), deterministic=True
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
                matches = column.op("~", is_comparison=True)(literal(c.regex.postgres))
                # LIKE first: plain substring tests rule out most texts far more cheaply
                # than PostgreSQL's regex engine (docs/security.md, "Expensive queries").
                needed = [column.contains(text, autoescape=True) for text in c.regex.required]
                return and_(*needed, matches) if needed else matches
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
