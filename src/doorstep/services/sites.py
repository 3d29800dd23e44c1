"""Sites: creating them, finding them by their public key, and their teams."""

from __future__ import annotations

import re
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorstep.domain.models import Operator, Site
from doorstep.errors import InvalidInput, NotFound
from doorstep.services.access import access_site
from doorstep.services.context import Ctx
from doorstep.services.uow import unit_of_work
from doorstep.store import sites as site_store

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


async def create_site(
    ctx: Ctx,
    *,
    name: str,
    timezone: str = "UTC",
    locale: str | None = None,
    color: str = "#4f46e5",
    key: str | None = None,
    members: tuple[int, ...] = (),
) -> Site:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("a site name has 1 to 200 characters")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {timezone!r}") from None
    if not _COLOR.match(color):
        raise InvalidInput("color must look like #4f46e5")
    key = key or secrets.token_urlsafe(12)
    if not _KEY.match(key):
        raise InvalidInput("a site key has 4 to 64 letters, digits, '-' or '_'")
    async with unit_of_work(ctx) as uow:
        if await site_store.site_by_key(uow.conn, key):
            raise InvalidInput(f"a site with key {key!r} exists already", code="site_key_taken")
        site = await site_store.insert_site(
            uow.conn, key=key, name=name, timezone=timezone, locale=locale, color=color, now=uow.now
        )
        for operator_id in members:
            await site_store.add_member(uow.conn, site.id, operator_id)
    return site


async def find_site_by_key(ctx: Ctx, key: str) -> Site:
    if not key or len(key) > 64:
        raise NotFound("unknown site key", code="site_not_found")
    async with ctx.db.read() as conn:
        site = await site_store.site_by_key(conn, key)
    if site is None:
        raise NotFound(f"unknown site key {key[:64]!r}", code="site_not_found")
    return site


async def list_sites(ctx: Ctx, operator: Operator) -> list[Site]:
    async with ctx.db.read() as conn:
        return await site_store.sites_of_operator(conn, operator.id)


async def get_site(ctx: Ctx, operator: Operator, site_id: int) -> Site:
    async with ctx.db.read() as conn:
        return await access_site(conn, operator, site_id)


async def add_site_member(ctx: Ctx, *, site_id: int, operator_id: int) -> None:
    async with unit_of_work(ctx) as uow:
        await site_store.add_member(uow.conn, site_id, operator_id)


async def site_team(ctx: Ctx, site_id: int) -> list[Operator]:
    async with ctx.db.read() as conn:
        return await site_store.team_of_site(conn, site_id)
