"""Hot statements compiled once and run straight on the driver connection.

The Core spends 100 to 350 µs of Python on each execution (the statement's cache key, an
execution context, result rows), several times what the database needs to run a small
statement. On the path of a chat message that was most of the time a message took
(docs/benchmarks.md). A `Prepared` statement is compiled once per dialect and runs on the
driver connection under the Core's connection, with the Core's own converters for parameters
and results, so its rows hold the same values a Core execution gives:

- SQLite: on the aiosqlite connection (inside the writer's transaction that is a call on the
  event loop's thread, store/sqlite_writer.py; on a reader, one hop to its thread);
- PostgreSQL: on the asyncpg connection, which keeps the statement prepared. In a write
  transaction that is asyncpg's own transaction (store/engine.py), so the statement is part
  of it; in a read it runs in the transaction the Core has begun, or by itself.

Parameters are named by the statement's `bindparam`s (and, for an INSERT without values, by
its columns' keys); literals in the statement keep their values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable


class PreparedRow:
    """A result row as the converters in store/rows.py read it: by name, through `_mapping`."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getitem__(self, index: int) -> Any:
        return list(self._mapping.values())[index]


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement compiled for one dialect, with the Core's converters for its values."""

    sql: str
    # Per positional parameter: its name, the literal value when the caller gives none, and
    # the converter the Core would apply.
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    # Per result column: its key and converter.
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    @classmethod
    def compile(cls, dialect: Dialect, stmt: Executable, keys: Sequence[str]) -> CompiledStatement:
        compiled: Any = stmt.compile(dialect=dialect, column_keys=list(keys) or None)
        parameters = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            literal = bind.effective_value if not bind.required else _REQUIRED
            parameters.append((name, literal, processor))
        columns = tuple(
            (entry.keyname, entry.type.dialect_impl(dialect).result_processor(dialect, None))
            for entry in compiled._result_columns
        )
        return cls(compiled.string, tuple(parameters), columns)

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        bound = []
        for name, literal, processor in self.parameters:
            value = values[name] if name in values or literal is _REQUIRED else literal
            bound.append(value if processor is None else processor(value))
        return bound

    def row(self, raw: Sequence[Any]) -> PreparedRow:
        return PreparedRow(
            {
                key: value if convert is None or value is None else convert(value)
                for (key, convert), value in zip(self.columns, raw, strict=True)
            }
        )


_REQUIRED = object()


async def driver_of(conn: AsyncConnection) -> Any:
    """The driver's connection under `conn` (aiosqlite's or asyncpg's).

    Read straight from the Core's connection while it is valid: the Core's own accessor
    switches greenlets to get it, which cost more than a small SQLite statement. An
    invalidated connection must reconnect, which only the accessor can do.
    """
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated:
        return sync.connection.driver_connection
    return (await conn.get_raw_connection()).driver_connection


class Prepared:
    """One statement, compiled for a dialect on first use; see the module's docstring."""

    def __init__(self, stmt: Executable, *, keys: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.keys = tuple(keys)
        self._forms: dict[str, CompiledStatement] = {}

    async def rows(self, conn: AsyncConnection, **values: Any) -> list[PreparedRow]:
        dialect = conn.dialect
        form = self._forms.get(dialect.name)
        if form is None:
            form = CompiledStatement.compile(dialect, self.stmt, self.keys)
            self._forms[dialect.name] = form
        driver = await driver_of(conn)
        if dialect.name == "sqlite":
            found = await driver.execute_fetchall(form.sql, form.bind(values))
        else:
            found = await driver.fetch(form.sql, *form.bind(values))
        return [form.row(raw) for raw in found]

    async def first(self, conn: AsyncConnection, **values: Any) -> Any | None:
        found = await self.rows(conn, **values)
        return found[0] if found else None

    async def one(self, conn: AsyncConnection, **values: Any) -> Any:
        found = await self.rows(conn, **values)
        if len(found) != 1:
            raise LookupError(f"expected one row, got {len(found)}")
        return found[0]

    async def scalar(self, conn: AsyncConnection, **values: Any) -> Any:
        row = await self.first(conn, **values)
        return None if row is None else row[0]
