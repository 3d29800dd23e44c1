"""Sites: creating them, finding them by their public key, and their teams."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from doorstep.domain import site_settings as rules
from doorstep.domain.identity import user_hash
from doorstep.domain.models import Operator, Site, iso
from doorstep.errors import Forbidden, InvalidInput, NotFound
from doorstep.services import autoreplies, autoreply_settings
from doorstep.services.access import access_site
from doorstep.services.context import Ctx
from doorstep.services.uow import unit_of_work
from doorstep.store import sites as site_store

DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 24 * 30


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
    name = rules.check_name(name)
    rules.check_timezone(timezone)
    rules.check_locale(locale)
    rules.check_color(color)
    key = rules.check_key(key or secrets.token_urlsafe(12))
    async with unit_of_work(ctx) as uow:
        if await site_store.site_by_key(uow.conn, key):
            raise InvalidInput(f"a site with key {key!r} exists already", code="site_key_taken")
        site = await site_store.insert_site(
            uow.conn,
            key=key,
            name=name,
            timezone=timezone,
            locale=locale,
            color=color,
            identity_secret=new_identity_secret(),
            now=uow.now,
        )
        for operator_id in members:
            await site_store.add_member(uow.conn, site.id, operator_id)
        await autoreply_settings.install_defaults(uow, site.id)
    return site


_CHECKS = {
    "name": rules.check_name,
    "timezone": rules.check_timezone,
    "locale": rules.check_locale,
    "color": rules.check_color,
    "widget_strings": rules.check_widget_strings,
    "require_verification": rules.check_flag,
    "allowed_origins": rules.check_allowed_origins,
}


async def update_site(ctx: Ctx, operator: Operator, site_id: int, changes: dict[str, Any]) -> Site:
    """Change a site's settings; admins of the site's team only."""
    unknown = set(changes) - set(_CHECKS)
    if unknown:
        raise InvalidInput(f"unknown site settings: {', '.join(sorted(unknown))}")
    checked = {field: _CHECKS[field](value) for field, value in changes.items()}
    async with unit_of_work(ctx) as uow:
        site = await access_site(uow.conn, operator, site_id)
        if operator.role != "admin":
            raise Forbidden("only admins change site settings", code="admin_only")
        if not checked:
            return site
        if "timezone" in checked:  # the automatic replies' schedules are in it
            autoreplies.setup_changed(uow, site.id)
        return await site_store.update_site(uow.conn, site.id, **checked)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


async def identity_settings(ctx: Ctx, operator: Operator, site_id: int) -> dict[str, Any]:
    """The site's identity-verification secret and settings (admins: it signs identities)."""
    async with ctx.db.read() as conn:
        site = await _admin_site(conn, operator, site_id)
    return render_identity(site)


async def rotate_identity_secret(
    ctx: Ctx, operator: Operator, site_id: int, *, grace_hours: int = DEFAULT_GRACE_HOURS
) -> dict[str, Any]:
    """A new secret; the one it replaces still verifies for `grace_hours` (0: not at all),
    so a site's backend can be redeployed with the new one meanwhile."""
    if not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise InvalidInput(
            f"grace_hours is a whole number from 0 to {MAX_GRACE_HOURS}", code="invalid_grace"
        )
    async with unit_of_work(ctx) as uow:
        site = await _admin_site(uow.conn, operator, site_id)
        site = await site_store.update_site(
            uow.conn,
            site.id,
            identity_secret=new_identity_secret(),
            identity_secret_previous=site.identity_secret,
            identity_previous_until=uow.now + timedelta(hours=grace_hours),
        )
    return render_identity(site)


def render_identity(site: Site) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "secret": site.identity_secret,
        "previous_secret_valid_until": iso(site.identity_previous_until),
        "require_verification": site.require_verification,
    }


async def user_hash_for(ctx: Ctx, site_key: str, key: str) -> str:
    """The user_hash a site's backend renders into its pages for a signed-in user (`key`: the
    exact user_id, or the email when there is none), under the site's current secret. The
    demo shop uses it as a site would (docs/widget.md, "Identity verification")."""
    site = await find_site_by_key(ctx, site_key)
    return user_hash(site.identity_secret, key)


async def _admin_site(conn: Any, operator: Operator, site_id: int) -> Site:
    site = await access_site(conn, operator, site_id)
    if operator.role != "admin":
        raise Forbidden("only admins see and change identity verification", code="admin_only")
    return site


async def find_site_by_key(ctx: Ctx, key: str) -> Site:
    if not rules.is_key(key):  # no site has it, and it may hold what no query takes (U+0000)
        raise NotFound("unknown site key", code="site_not_found")
    async with ctx.db.read() as conn:
        site = await site_store.site_by_key(conn, key)
    if site is None:
        raise NotFound(f"unknown site key {key[:64]!r}", code="site_not_found")
    return site


def check_widget_origin(site: Site, origin: str | None) -> None:
    """A widget session or socket from a page of another origin than the site lists is
    refused (docs/widget.md, "Allowed origins")."""
    if not rules.origin_allowed(site.allowed_origins, origin):
        raise Forbidden(
            "this site's widget does not load on this origin", code="origin_not_allowed"
        )


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


async def show_site(ctx: Ctx, key: str) -> dict[str, Any]:
    """What installing the widget on a site takes, for the command line (it acts with the
    machine's authority, so no operator is checked): the site's name and key, its identity
    secret and, while a rotation's grace lasts, until when the replaced secret still verifies
    (`previous_valid_until`, else None)."""
    site = await find_site_by_key(ctx, key)
    until = site.identity_previous_until
    in_grace = (
        site.identity_secret_previous is not None and until is not None and ctx.clock.now() <= until
    )
    return {
        "name": site.name,
        "key": site.key,
        "secret": site.identity_secret,
        "previous_valid_until": until if in_grace else None,
    }
