"""What an erasure changes, and PostgreSQL's VACUUM of it afterwards (docs/security.md,
"Data at rest").

PostgreSQL deletes by marking rows dead: their text stays in the table's pages, and in
its indexes, until a VACUUM removes them; autovacuum may wait for hours on a big table.
"""

from __future__ import annotations

from sqlalchemy import Table

from doorstep.store.engine import Database
from doorstep.store.tables import metadata

# A foreign key with these removes or rewrites the referring row when its target goes.
_FOLLOWS_A_DELETION = ("CASCADE", "SET NULL")


def tables_an_erasure_touches() -> tuple[str, ...]:
    """`contacts` and every table whose rows go or change when a contact is deleted, by the
    foreign keys' cascades, however indirect; derived, so a new table is never missed."""
    touched = {"contacts"}
    growing = True
    while growing:
        growing = False
        for table in metadata.sorted_tables:
            if table.name not in touched and _follows(table, touched):
                touched.add(table.name)
                growing = True
    return tuple(table.name for table in metadata.sorted_tables if table.name in touched)


def _follows(table: Table, touched: set[str]) -> bool:
    return any(
        key.column.table.name in touched and key.ondelete in _FOLLOWS_A_DELETION
        for key in table.foreign_keys
    )


async def vacuum(db: Database, tables: tuple[str, ...]) -> None:
    """PostgreSQL: VACUUM the tables, their indexes included, outside any transaction (a
    VACUUM cannot run in one). It reads each table's pages changed since its last vacuum
    and each of its indexes whole; reads and writes of the tables go on meanwhile."""
    names = ", ".join(f'"{name}"' for name in tables)
    async with db.autocommitted() as (_conn, driver):
        # INDEX_CLEANUP ON: with few dead rows, VACUUM would otherwise leave the indexes
        # alone, and index entries hold values too (an email).
        await driver.execute(f"VACUUM (INDEX_CLEANUP ON) {names}")
