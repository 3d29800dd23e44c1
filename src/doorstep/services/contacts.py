"""Contacts as operators see them: lists, the contact card, edits and notes (docs/contacts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doorstep.domain import attributes as attr_rules
from doorstep.domain.models import Contact, ConversationSummary, Operator, iso
from doorstep.domain.sources import Source
from doorstep.errors import InvalidInput, NotFound
from doorstep.services.access import access_contact, operator_site_ids
from doorstep.services.contact_identity import duplicate, render_browser
from doorstep.services.context import Ctx
from doorstep.services.operators import normalise_email
from doorstep.services.uow import unit_of_work
from doorstep.services.visitors import change_contact
from doorstep.store import conversations as conversation_store
from doorstep.store import identity as identity_store
from doorstep.store import merge as merge_store
from doorstep.store import notes as note_store
from doorstep.store import tracking as tracking_store
from doorstep.store import visitors as visitor_store

CARD_EVENTS = 50
CARD_VISITS = 10
MAX_TAGS = 50
MAX_NOTE = 5000


@dataclass(frozen=True, slots=True)
class ContactCard:
    contact: Contact
    conversations: list[ConversationSummary]
    visit_totals: dict[str, Any] = field(default_factory=dict)
    current_visit: dict[str, Any] | None = None
    recent_visits: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    live: dict[str, Any] | None = None
    duplicates: list[Contact] = field(default_factory=list)
    browsers: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            **self.contact.public(),
            "conversations": [s.public() for s in self.conversations],
            "visits": {
                "count": self.visit_totals.get("count", 0),
                "first_at": iso(self.visit_totals.get("first_at")),
                "last_at": iso(self.visit_totals.get("last_at")),
            },
            "current_visit": self.current_visit,
            "recent_visits": self.recent_visits,
            "events": self.events,
            "notes": self.notes,
            "live": self.live,
            "possible_duplicates": [duplicate(c) for c in self.duplicates],
            "browsers": [render_browser(b) for b in self.browsers],
        }


def render_visit(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "started_at": iso(row["started_at"]),
        "last_activity_at": iso(row["last_activity_at"]),
        "entry_url": row["entry_url"],
        "referrer": row["referrer"],
        "source": Source.from_row(row).as_dict(),
        "device": {"type": row["device_type"], "os": row["os"], "browser": row["browser"]},
        "location": {"country": row["country"], "city": row["city"]},
        "language": row["language"],
        "timezone": row["timezone"],
        "screen": row["screen"],
    }


def render_page(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": row["url"],
        "path": row["path"],
        "title": row["title"],
        "at": iso(row["started_at"]),
        "duration_ms": row["duration_ms"],
        "scroll_depth": row["scroll_depth"],
    }


def render_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "properties": row["properties"],
        "at": iso(row["created_at"]),
    }


def render_note(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "text": row["text"],
        "at": iso(row["created_at"]),
        "operator": {"id": row["operator_id"], "name": row["operator_name"]},
    }


async def list_contacts(
    ctx: Ctx, operator: Operator, *, query: str | None, limit: int, before_id: int | None
) -> list[Contact]:
    async with ctx.db.read() as conn:
        site_ids = await operator_site_ids(conn, operator)
        if not site_ids:
            return []
        return await visitor_store.list_contacts(
            conn,
            site_ids,
            query=(query or "").strip(),
            limit=max(1, min(limit, 200)),
            before_id=before_id,
        )


async def get_contact_card(ctx: Ctx, operator: Operator, contact_id: int) -> ContactCard:
    async with ctx.db.read() as conn:
        contact = await access_contact(conn, operator, contact_id)
        if contact.merged_into_id is not None:
            # A merged contact forwards to the one that holds its history now.
            contact = await access_contact(conn, operator, contact.merged_into_id)
        summaries = await conversation_store.conversation_summaries(
            conn, {contact.site_id}, contact_id=contact.id, limit=200
        )
        visits = await tracking_store.visits_of_contact(conn, contact.id, limit=CARD_VISITS)
        totals = await tracking_store.visit_totals(conn, contact.id)
        live = next(
            (
                v
                for v in ctx.visitors_live.on_sites({contact.site_id})
                if v.contact_id == contact.id
            ),
            None,
        )
        # The visit open right now (after a merge it may not be the latest started), else the
        # latest.
        current_row = visits[0] if visits else None
        if live is not None and live.visit_id is not None:
            found = await tracking_store.visits_by_id(conn, [live.visit_id])
            current_row = found.get(live.visit_id, current_row)
        current = None
        if current_row is not None:
            pages = await tracking_store.page_views_of_visit(conn, current_row["id"])
            current = {**render_visit(current_row), "pages": [render_page(p) for p in pages]}
        events = await tracking_store.events_of_contact(conn, contact.id, limit=CARD_EVENTS)
        notes = await note_store.notes_of_contact(conn, contact.id)
        duplicates = await merge_store.contacts_sharing_email(conn, contact)
        browsers = await identity_store.browsers_of_contacts(conn, [contact.id])
    return ContactCard(
        contact,
        summaries,
        totals,
        current,
        [render_visit(v) for v in visits],
        [render_event(e) for e in events],
        [render_note(n) for n in notes],
        live.public() if live else None,
        duplicates,
        browsers.get(contact.id, []),
    )


async def contact_events(
    ctx: Ctx,
    operator: Operator,
    contact_id: int,
    *,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    async with ctx.db.read() as conn:
        contact = await access_contact(conn, operator, contact_id)
        rows = await tracking_store.events_of_contact(
            conn, contact.id, limit=max(1, min(limit, 500)), before_id=before_id
        )
    return [render_event(row) for row in rows]


async def update_contact(
    ctx: Ctx, operator: Operator, contact_id: int, changes: dict[str, Any]
) -> Contact:
    """Operators edit name, email, phone, tags and attributes of one contact.

    An email shared with another contact does not merge the two: the card shows the other as
    a possible duplicate, and an operator merges them on purpose (services/contact_identity.py).
    """
    fields: dict[str, Any] = {}
    for name in ("name", "phone"):
        if name in changes:
            value = changes[name]
            if value is not None and (not isinstance(value, str) or len(value) > 200):
                raise InvalidInput(f"{name} is a text of at most 200 characters")
            fields[name] = value.strip() or None if isinstance(value, str) else None
    if "email" in changes:
        email = changes["email"]
        fields["email"] = normalise_email(email).lower() if email else None
    if "tags" in changes:
        fields["tags"] = _check_tags(changes["tags"])
    custom = attr_rules.check_attributes(changes.get("attributes") or {})
    async with unit_of_work(ctx) as uow:
        contact = await access_contact(uow.conn, operator, contact_id)
        if contact.merged_into_id is not None:
            raise NotFound("this contact was merged into another", code="contact_merged")
        return await change_contact(uow, contact.id, fields, custom, claim=False)


def _check_tags(tags: object) -> list[str]:
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidInput(f"tags is a list of at most {MAX_TAGS} texts", code="invalid_tags")
    clean = []
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= 50:
            raise InvalidInput("a tag has 1 to 50 characters", code="invalid_tags")
        clean.append(tag.strip())
    return sorted(set(clean))


async def add_note(ctx: Ctx, operator: Operator, contact_id: int, text: str) -> dict[str, Any]:
    text = text.strip() if isinstance(text, str) else ""
    if not 1 <= len(text) <= MAX_NOTE:
        raise InvalidInput(f"a note has 1 to {MAX_NOTE} characters", code="invalid_note")
    async with unit_of_work(ctx) as uow:
        contact = await access_contact(uow.conn, operator, contact_id)
        note_id = await note_store.insert_note(uow.conn, contact.id, operator.id, text, uow.now)
    return {
        "id": note_id,
        "text": text,
        "at": iso(uow.now),
        "operator": {"id": operator.id, "name": operator.name},
    }


async def delete_note(ctx: Ctx, operator: Operator, contact_id: int, note_id: int) -> None:
    async with unit_of_work(ctx) as uow:
        contact = await access_contact(uow.conn, operator, contact_id)
        if not await note_store.delete_note(uow.conn, contact.id, note_id):
            raise NotFound("no such note", code="note_not_found")
