"""Sites and their team membership."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
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


async def update_site(conn: AsyncConnection, site_id: int, **values: object) -> Site:
    row = (
        await conn.execute(
            update(sites).where(sites.c.id == site_id).values(**values).returning(*sites.c)
        )
    ).one()
    return to_site(row)
