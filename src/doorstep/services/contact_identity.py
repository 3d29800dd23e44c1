"""What operators do about who a contact is: possible duplicates, merging two contacts by
hand, signing out a contact's browsers, and the record of merges (docs/contacts.md)."""

from __future__ import annotations

from typing import Any

from doorstep.domain import identity as rules
from doorstep.domain.models import Contact, Operator, iso
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.services import audiences
from doorstep.services.access import access_contact, access_site
from doorstep.services.context import Ctx
from doorstep.services.uow import unit_of_work
from doorstep.services.visitors import merge_contacts_in
from doorstep.store import identity as identity_store
from doorstep.store import merge as merge_store

MERGE_KINDS = ("manual", "verified", "before_upgrade")


def duplicate(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "display_name": contact.display_name,
        "email": contact.email,
        "email_verified": contact.email_verified,
        "last_seen_at": iso(contact.last_seen_at),
    }


async def merge_contact(ctx: Ctx, operator: Operator, contact_id: int, into_id: int) -> Contact:
    """Merge one contact into another of the same site, as an operator decided; recorded."""
    if contact_id == into_id:
        raise InvalidInput("a contact cannot be merged into itself", code="same_contact")
    async with unit_of_work(ctx) as uow:
        merged = await _live_contact(uow.conn, operator, contact_id)
        survivor = await _live_contact(uow.conn, operator, into_id)
        if merged.site_id != survivor.site_id:
            raise NotFound("no such contact", code="contact_not_found")
        if not rules.may_merge(survivor.proven, merged.proven):
            raise Conflict(
                "the two contacts have signed in as different users", code="different_users"
            )
        result = await merge_contacts_in(
            uow, merged, survivor.id, kind="manual", operator_id=operator.id
        )
    ctx.visitors_live.move_contact(merged.id, survivor.id)
    return result


async def sign_out_browsers(ctx: Ctx, operator: Operator, contact_id: int) -> int:
    """Void the tokens of every browser of the contact and close their chats; each starts
    again as a new anonymous visitor. Returns how many browsers were signed out."""
    async with unit_of_work(ctx) as uow:
        contact = await _live_contact(uow.conn, operator, contact_id)
        count = await identity_store.void_tokens(uow.conn, contact.id)
        uow.emit(audiences.browsers_signed_out(contact.site_id, contact.id, count))
    return count


async def list_merges(
    ctx: Ctx,
    operator: Operator,
    site_id: int,
    *,
    kind: str | None,
    limit: int,
    before_id: int | None,
) -> list[dict[str, Any]]:
    """The site's merges, newest first, each with its survivor's browsers now (admins)."""
    if kind is not None and kind not in MERGE_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(MERGE_KINDS)}", code="invalid_kind")
    async with ctx.db.read() as conn:
        await access_site(conn, operator, site_id)
        if operator.role != "admin":
            raise Forbidden("only admins review merges", code="admin_only")
        rows = await merge_store.merges_of_site(
            conn, site_id, kind=kind, limit=max(1, min(limit, 200)), before_id=before_id
        )
        browsers = await identity_store.browsers_of_contacts(
            conn, sorted({row["target_contact_id"] for row in rows})
        )
    return [_render_merge(row, browsers.get(row["target_contact_id"], [])) for row in rows]


def _render_merge(row: dict[str, Any], browsers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "at": iso(row["created_at"]),
        "operator_id": row["operator_id"],
        "from": {
            "id": row["source_contact_id"],
            "name": row["source_name"],
            "email": row["source_email"],
        },
        "into": {
            "id": row["target_contact_id"],
            "name": row["target_name"],
            "email": row["target_email"],
        },
        "moved_browsers": row["visitor_ids"],
        "browsers": [render_browser(b) for b in browsers],
    }


def render_browser(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "first_seen_at": iso(row["created_at"]),
        "last_seen_at": iso(row["last_seen_at"]),
        "device": {"type": row["device_type"], "os": row["os"], "browser": row["browser"]},
        "location": {"country": row["country"], "city": row["city"]},
    }


async def _live_contact(conn: Any, operator: Operator, contact_id: int) -> Contact:
    contact = await access_contact(conn, operator, contact_id)
    if contact.merged_into_id is not None:
        raise NotFound("this contact was merged into another", code="contact_merged")
    return contact
