"""Test data built through the same services the doors call."""

from __future__ import annotations

import itertools
from typing import Any

from doorstep.domain import identity
from doorstep.domain.models import Operator, Site, Visitor
from doorstep.services import operators, sites, visitors
from doorstep.services.context import Ctx

PASSWORD = "correct horse battery"


def proven(site: Site, **traits: Any) -> dict[str, Any]:
    """identify() traits with the user_hash the site's backend would add: of the user_id,
    else of the email."""
    key = str(traits["user_id"]) if "user_id" in traits else traits["email"]
    return {**traits, "user_hash": identity.user_hash(site.identity_secret, key)}


class Factory:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._numbers = itertools.count(1)

    async def site(self, **values: Any) -> Site:
        n = next(self._numbers)
        values.setdefault("name", f"Site {n}")
        values.setdefault("key", f"site-{n:04d}")
        return await sites.create_site(self.ctx, **values)

    async def operator(self, *site_list: Site, **values: Any) -> Operator:
        n = next(self._numbers)
        values.setdefault("email", f"operator{n}@example.com")
        values.setdefault("name", f"Operator {n}")
        values.setdefault("password", PASSWORD)
        return await operators.create_operator(
            self.ctx, site_ids=tuple(site.id for site in site_list), **values
        )

    async def visitor(self, site: Site, *, locale: str | None = "en") -> Visitor:
        visitor, _token = await visitors.start_visitor_session(
            self.ctx, site, token=None, locale=locale
        )
        return visitor

    async def visitor_with_token(self, site: Site) -> tuple[Visitor, str]:
        return await visitors.start_visitor_session(self.ctx, site, token=None, locale="en")
