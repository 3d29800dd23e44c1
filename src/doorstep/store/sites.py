"""Sites and their team membership."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Operator, Site
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


async def site_by_id(conn: AsyncConnection, site_id: int) -> Site | None:
    row = (await conn.execute(select(sites).where(sites.c.id == site_id))).first()
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


async def team_of_site(conn: AsyncConnection, site_id: int) -> list[Operator]:
    query = (
        select(operators)
        .join(site_members, site_members.c.operator_id == operators.c.id)
        .where(site_members.c.site_id == site_id)
        .order_by(operators.c.id)
    )
    return [to_operator(r) for r in await conn.execute(query)]


async def update_site(conn: AsyncConnection, site_id: int, **values: object) -> Site:
    row = (
        await conn.execute(
            update(sites).where(sites.c.id == site_id).values(**values).returning(*sites.c)
        )
    ).one()
    return to_site(row)
