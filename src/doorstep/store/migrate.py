"""Schema migrations with Alembic, run on start and by `doorstep migrate` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.store.engine import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Any | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.transaction(schema_change=True) as conn:
        await conn.run_sync(_run_upgrade, revision)


def _run_upgrade(sync_conn: Any, revision: str) -> None:
    command.upgrade(alembic_config(sync_conn), revision)


async def current_revision(conn: AsyncConnection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _read(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(_read)


async def downgrade(db: Database, revision: str) -> None:
    async with db.transaction(schema_change=True) as conn:
        await conn.run_sync(
            lambda sync_conn: command.downgrade(alembic_config(sync_conn), revision)
        )
