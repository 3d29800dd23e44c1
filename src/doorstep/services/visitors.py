"""Visitors: widget sessions, and what a visitor's browser tells about them (docs/widget.md)."""

from __future__ import annotations

from typing import Any

from doorstep.domain import attributes as attr_rules
from doorstep.domain.merge import merged_fields
from doorstep.domain.models import Contact, Site, Visitor
from doorstep.errors import InvalidInput, Unauthorized
from doorstep.services import audiences
from doorstep.services.context import Ctx
from doorstep.services.operators import normalise_email
from doorstep.services.uow import UnitOfWork, unit_of_work
from doorstep.signing import sign, unsign
from doorstep.store import merge as merge_store
from doorstep.store import visitors as visitor_store

_TOKEN_PURPOSE = "visitor"


def visitor_token(ctx: Ctx, visitor: Visitor) -> str:
    return sign(ctx.settings.secret_key, _TOKEN_PURPOSE, f"{visitor.site_id}-{visitor.id}")


def _visitor_id_from(ctx: Ctx, site: Site, token: str | None) -> int | None:
    value = unsign(ctx.settings.secret_key, _TOKEN_PURPOSE, token or "")
    if value is None:
        return None
    site_part, _, visitor_part = value.partition("-")
    if site_part != str(site.id) or not visitor_part.isdigit():
        return None
    return int(visitor_part)


async def start_visitor_session(
    ctx: Ctx, site: Site, *, token: str | None, locale: str | None
) -> tuple[Visitor, str]:
    """The visitor behind a stored token, or a new one; a bad token is not an error."""
    locale = (locale or "")[:35] or None
    visitor_id = _visitor_id_from(ctx, site, token)
    async with unit_of_work(ctx) as uow:
        visitor = await visitor_store.visitor_by_id(uow.conn, visitor_id) if visitor_id else None
        if visitor is None or visitor.site_id != site.id:
            visitor = await visitor_store.insert_visitor(
                uow.conn, site_id=site.id, locale=locale, now=uow.now
            )
        else:
            await visitor_store.touch_visitor(uow.conn, visitor, locale=locale, now=uow.now)
    return visitor, visitor_token(ctx, visitor)


async def visitor_for_token(ctx: Ctx, site: Site, token: str | None) -> Visitor:
    visitor_id = _visitor_id_from(ctx, site, token)
    if visitor_id is None:
        raise Unauthorized("invalid visitor token", code="invalid_token")
    async with ctx.db.read() as conn:
        visitor = await visitor_store.visitor_by_id(conn, visitor_id)
    if visitor is None or visitor.site_id != site.id:
        raise Unauthorized("invalid visitor token", code="invalid_token")
    return visitor


async def visitor_email_known(ctx: Ctx, visitor: Visitor) -> bool:
    """Whether the visitor's contact has an email: the widget then never asks for one."""
    async with ctx.db.read() as conn:
        contact = await visitor_store.contact_by_id(conn, visitor.contact_id)
    return contact is not None and contact.email is not None


async def identify_visitor(ctx: Ctx, visitor: Visitor, traits: object) -> Contact:
    identity, custom = attr_rules.split_traits(traits)
    fields: dict[str, Any] = {}
    if identity.get("email") is not None:
        fields["email"] = normalise_email(str(identity["email"])).lower()
    for source, column in (
        ("name", "name"),
        ("phone", "phone"),
        ("user_id", "external_id"),
        ("avatar_url", "avatar_url"),
    ):
        if identity.get(source) is not None:
            fields[column] = str(identity[source])[: 200 if column != "avatar_url" else 1000]
    return await _update_contact(ctx, visitor, fields, custom)


async def set_visitor_attributes(ctx: Ctx, visitor: Visitor, attributes: object) -> Contact:
    return await _update_contact(ctx, visitor, {}, attr_rules.check_attributes(attributes))


async def _update_contact(
    ctx: Ctx, visitor: Visitor, fields: dict[str, Any], custom: dict[str, Any]
) -> Contact:
    async with unit_of_work(ctx) as uow:
        contact = await change_contact(uow, visitor.contact_id, fields, custom)
    if contact.id != visitor.contact_id:
        ctx.visitors_live.move_contact(visitor.contact_id, contact.id)
    return contact


async def change_contact(
    uow: UnitOfWork, contact_id: int, fields: dict[str, Any], custom: dict[str, Any]
) -> Contact:
    """Update a contact; an email another contact of the site has merges the two.

    Call inside a unit of work. Returns the contact that holds the data afterwards.
    """
    current = await visitor_store.contact_by_id(uow.conn, contact_id)
    assert current is not None, "the contact must exist inside the calling transaction"
    new_keys = set(custom) - set(current.attributes)
    if len(current.attributes) + len(new_keys) > attr_rules.MAX_ATTRIBUTES:
        raise InvalidInput(
            f"a contact has at most {attr_rules.MAX_ATTRIBUTES} attributes",
            code="too_many_attributes",
        )
    contact = await visitor_store.update_contact(
        uow.conn, contact_id, fields=fields, attributes=custom
    )
    survivor_id = None
    if fields.get("email"):
        survivor_id = await merge_store.contact_with_email(
            uow.conn, contact.site_id, fields["email"], other_than=contact.id
        )
    if survivor_id is not None:
        survivor = await visitor_store.contact_by_id(uow.conn, survivor_id)
        assert survivor is not None
        await merge_store.move_contact_rows(uow.conn, contact.id, survivor.id)
        await merge_store.retire_contact(uow.conn, contact.id, survivor.id)
        await merge_store.set_contact_fields(
            uow.conn, survivor.id, merged_fields(survivor, contact)
        )
        uow.emit(audiences.contacts_merged(contact.site_id, contact.id, survivor.id))
        contact = await visitor_store.contact_by_id(uow.conn, survivor.id)
        assert contact is not None
    uow.emit(audiences.visitor_updated(contact.site_id, contact.id, contact.public()))
    return contact
