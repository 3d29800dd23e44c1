"""Seed the Demo Shop site and its admin operator; safe to run on every start."""

from __future__ import annotations

import secrets

from doorstep.errors import NotFound
from doorstep.services import operators, sites
from doorstep.services.context import Ctx

DEMO_SITE_KEY = "demo-shop"
DEMO_EMAIL = "admin@example.com"


async def seed_demo(ctx: Ctx, known_password: str | None) -> str:
    """Create what is missing; returns the admin's password (a new one if none is known)."""
    admin = await operators.operator_by_email(ctx, DEMO_EMAIL)
    password = known_password or secrets.token_urlsafe(9)
    if admin is None:
        admin = await operators.create_operator(
            ctx, email=DEMO_EMAIL, name="Demo Admin", password=password, role="admin"
        )
    elif known_password is None:
        await operators.set_password(ctx, admin, password)
    try:
        site = await sites.find_site_by_key(ctx, DEMO_SITE_KEY)
    except NotFound:
        site = await sites.create_site(
            ctx, name="Demo Shop", key=DEMO_SITE_KEY, timezone="UTC", color="#0f766e"
        )
    await sites.add_site_member(ctx, site_id=site.id, operator_id=admin.id)
    return password
