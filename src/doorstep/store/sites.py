"""Sites and their team membership."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Operator, Site
from doorstep.store.prepared import Prepared
from doorstep.store.rows import to_operator, to_site
from doorstep.store.tables import operators, site_members, sites


async def insert_site(
    conn: AsyncConnection,
    *,
    key: str,
    name: str,
    timezone: str,
    locale: str | None,
    color: str,
    identity_secret: str,
    now: datetime,
) -> Site:
    row = (
        await conn.execute(
            insert(sites)
            .values(
                key=key,
                name=name,
                timezone=timezone,
                locale=locale,
                color=color,
                widget_strings={},
                identity_secret=identity_secret,
                created_at=now,
            )
            .returning(*sites.c)
        )
    ).one()
    return to_site(row)


async def site_by_key(conn: AsyncConnection, key: str) -> Site | None:
    row = (await conn.execute(select(sites).where(sites.c.key == key))).first()
    return to_site(row) if row else None


_SITE_BY_ID = Prepared(select(sites).where(sites.c.id == bindparam("b_id")))


async def site_by_id(conn: AsyncConnection, site_id: int) -> Site | None:
    row = await _SITE_BY_ID.first(conn, b_id=site_id)
    return to_site(row) if row else None


async def sites_of_operator(conn: AsyncConnection, operator_id: int) -> list[Site]:
    query = (
        select(sites)
        .join(site_members, site_members.c.site_id == sites.c.id)
        .where(site_members.c.operator_id == operator_id)
        .order_by(sites.c.id)
    )
    return [to_site(r) for r in await conn.execute(query)]


async def site_ids_of_operator(conn: AsyncConnection, operator_id: int) -> set[int]:
    query = select(site_members.c.site_id).where(site_members.c.operator_id == operator_id)
    return set((await conn.execute(query)).scalars())


async def add_member(conn: AsyncConnection, site_id: int, operator_id: int) -> None:
    exists = (
        await conn.execute(
            select(site_members.c.site_id).where(
                site_members.c.site_id == site_id, site_members.c.operator_id == operator_id
            )
        )
    ).first()
    if not exists:
        await conn.execute(insert(site_members).values(site_id=site_id, operator_id=operator_id))


_TEAM_OF_SITE = Prepared(
    select(operators)
    .join(site_members, site_members.c.operator_id == operators.c.id)
    .where(site_members.c.site_id == bindparam("b_site"))
    .order_by(operators.c.id)
)


async def team_of_site(conn: AsyncConnection, site_id: int) -> list[Operator]:
    return [to_operator(r) for r in await _TEAM_OF_SITE.rows(conn, b_site=site_id)]


def online_member(dialect: str, site_id: Any) -> Any:
    """Whether a member of the site `site_id` is online: their status says so and they are
    one of the operators bound as `b_connected` (those with a console open on this node; an
    ARRAY on PostgreSQL, a JSON array on SQLite, see `connected_ids`)."""
    if dialect == "postgresql":
        connected = bindparam("b_connected", type_=postgresql.ARRAY(operators.c.id.type))
        is_connected = operators.c.id == any_(connected)
    else:
        listed = func.json_each(bindparam("b_connected", type_=String)).table_valued("value")
        is_connected = operators.c.id.in_(select(listed.c.value))
    return (
        select(site_members.c.operator_id)
        .join(operators, operators.c.id == site_members.c.operator_id)
        .where(site_members.c.site_id == site_id, operators.c.status == "online", is_connected)
        .exists()
    )


def connected_ids(dialect: str, operator_ids: tuple[int, ...]) -> Any:
    """`operator_ids` as `online_member` binds them."""
    return list(operator_ids) if dialect == "postgresql" else json.dumps(operator_ids)


_TEAM_ONLINE = {
    dialect: Prepared(select(online_member(dialect, bindparam("b_site"))))
    for dialect in ("sqlite", "postgresql")
}


async def team_online(conn: AsyncConnection, site_id: int, connected: tuple[int, ...]) -> bool:
    """Whether a member of the site's team is online among the operators `connected`."""
    dialect = conn.dialect.name
    return bool(
        await _TEAM_ONLINE[dialect].scalar(
            conn, b_site=site_id, b_connected=connected_ids(dialect, connected)
        )
    )


async def update_site(conn: AsyncConnection, site_id: int, **values: object) -> Site:
    row = (
        await conn.execute(
            update(sites).where(sites.c.id == site_id).values(**values).returning(*sites.c)
        )
    ).one()
    return to_site(row)
