"""Data-subject requests: a contact's data as one JSON document, and its erasure.

See docs/contacts.md ("Export and erasure"). Erasure deletes the contact and, through the
database's cascades, its visitors, visits, page views, events, conversations, messages,
notes, leads and the record of the merges into it; nothing about the person is kept. Then
the text goes from the database's files too (docs/security.md, "Data at rest"): SQLite has
overwritten it as it deleted and its log is emptied; PostgreSQL's tables are vacuumed by a
job right after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.models import Contact, Operator, iso
from doorstep.errors import Forbidden
from doorstep.services.access import access_contact, operator_site_ids
from doorstep.services.contacts import render_event, render_note, render_page, render_visit
from doorstep.services.context import Ctx
from doorstep.services.jobs import schedule_job
from doorstep.services.segments import access_segment
from doorstep.services.uow import unit_of_work
from doorstep.store import autoreplies as autoreply_store
from doorstep.store import conversations as conversation_store
from doorstep.store import erasure as erasure_store
from doorstep.store import notes as note_store
from doorstep.store import segments as segment_store
from doorstep.store import tracking as tracking_store
from doorstep.store import visitors as visitor_store

CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "phone",
    "external_id",
    "country",
    "city",
    "language",
    "timezone",
    "device_type",
    "first_source",
    "tags",
    "created_at",
    "last_seen_at",
)
EXPORT_LIMIT = 100_000
# The job that vacuums PostgreSQL's tables after erasures: one at a time, however many.
ERASURE_VACUUM = "vacuum_after_erasure"


async def export_contact(ctx: Ctx, operator: Operator, contact_id: int) -> dict[str, Any]:
    async with ctx.db.read() as conn:
        contact = await _person(conn, operator, contact_id)
        visits = await tracking_store.visits_of_contact(conn, contact.id, limit=EXPORT_LIMIT)
        views = await tracking_store.all_page_views_of_contact(conn, contact.id)
        events = await tracking_store.events_of_contact(conn, contact.id, limit=EXPORT_LIMIT)
        notes = await note_store.notes_of_contact(conn, contact.id)
        leads = await autoreply_store.leads_of_contact(conn, contact.id)
        summaries = await conversation_store.conversation_summaries(
            conn, {contact.site_id}, contact_id=contact.id, limit=EXPORT_LIMIT
        )
        conversations = []
        for summary in summaries:
            messages = await conversation_store.messages_after(
                conn, summary.conversation.id, 0, include_internal=False, limit=EXPORT_LIMIT
            )
            conversations.append({**summary.public(), "messages": [m.public() for m in messages]})
    return {
        "contact": contact.public(),
        "visits": [render_visit(v) for v in visits],
        "page_views": [{"visit_id": v["visit_id"], **render_page(v)} for v in views],
        "events": [render_event(e) for e in events],
        "conversations": conversations,
        "notes": [render_note(n) for n in notes],
        "leads": [
            {
                "email": lead["email"],
                "conversation_id": lead["conversation_id"],
                "captured_at": iso(lead["created_at"]),
            }
            for lead in leads
        ],
        "exported_at": iso(ctx.clock.now()),
    }


async def erase_contact(ctx: Ctx, operator: Operator, contact_id: int) -> None:
    async with unit_of_work(ctx) as uow:
        contact = await _person(uow.conn, operator, contact_id)
        if operator.role != "admin":
            raise Forbidden("only admins erase contacts", code="admin_only")
        await visitor_store.delete_contact(uow.conn, contact.id)
        if not ctx.db.overwrites_deleted:
            await schedule_job(uow, ERASURE_VACUUM, ERASURE_VACUUM, uow.now)
    await ctx.db.empty_log()


async def vacuum_after_erasure(ctx: Ctx, _payload: dict[str, Any]) -> None:
    """The job after erasures on PostgreSQL: VACUUM what they deleted out of the tables."""
    await erasure_store.vacuum(ctx.db, erasure_store.tables_an_erasure_touches())


async def _person(conn: AsyncConnection, operator: Operator, contact_id: int) -> Contact:
    """The contact a request about a person is for: a merged contact's id stands for the
    contact it was merged into, which holds everything of the two (and, in the record of
    the merge, the merged one's name and email)."""
    contact = await access_contact(conn, operator, contact_id)
    if contact.merged_into_id is None:
        return contact
    return await access_contact(conn, operator, contact.merged_into_id)


async def export_contacts_csv(
    ctx: Ctx, operator: Operator, *, query: str | None = None, segment_id: int | None = None
) -> AsyncIterator[list[str]]:
    """Rows for a CSV export: a header, then one row per contact, streamed in batches."""
    async with ctx.db.read() as conn:
        site_ids = await operator_site_ids(conn, operator)
        extra = None
        if segment_id is not None:
            segment = await access_segment(conn, operator, segment_id)
            site_ids &= {segment.site_id}
            extra = await segment_store.member_clause(
                conn, segment.site_id, segment.filter, ctx.clock.now()
            )
        yield list(CSV_COLUMNS)
        if not site_ids:
            return
        async for contact in visitor_store.iterate_contacts(
            conn, site_ids, query=query, extra=extra
        ):
            yield _csv_row(contact.public())


def _csv_row(data: dict[str, Any]) -> list[str]:
    flat = {
        **data,
        "country": data["location"]["country"],
        "city": data["location"]["city"],
        "timezone": data["location"]["timezone"],
        "device_type": data["device"]["type"],
        "first_source": (data.get("first_source") or {}).get("channel"),
        "tags": " ".join(data["tags"]),
    }
    return [_cell(flat.get(column)) for column in CSV_COLUMNS]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet: defuse it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
