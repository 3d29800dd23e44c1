"""Segments: saved filters over contacts, their live counts and members (docs/segments.md).

Operators manage the segments of the sites they are members of; a segment of another site is
"not found". `contact_in_segment` is the single-contact path later features (targeted
greetings, automatic replies) call: it evaluates the pure rule `domain.segments.matches` over
the contact's facts, and agrees with the SQL used for counts and lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain import segment_matching
from doorstep.domain import segments as rules
from doorstep.domain.models import Contact, Operator
from doorstep.domain.segments import Segment
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.services.access import access_site, operator_site_ids
from doorstep.services.context import Ctx
from doorstep.services.uow import unit_of_work
from doorstep.store import autoreplies as autoreply_store
from doorstep.store import segments as store
from doorstep.store.bounded_reads import BoundedRead, QueryTooSlow, bounded_read

MAX_MEMBERS_PAGE = 200
PREVIEW_CONTACTS = 20


@dataclass(frozen=True, slots=True)
class SegmentCount:
    segment: Segment
    count: int

    def public(self) -> dict[str, Any]:
        return {**self.segment.public(), "count": self.count}


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    contacts: list[Contact]

    def public(self) -> dict[str, Any]:
        return {"count": self.count, "contacts": [c.public() for c in self.contacts]}


async def access_segment(conn: AsyncConnection, operator: Operator, segment_id: int) -> Segment:
    segment = await store.segment_by_id(conn, segment_id)
    if segment is None or segment.site_id not in await operator_site_ids(conn, operator):
        raise NotFound("no such segment", code="segment_not_found")
    return segment


async def list_segments(
    ctx: Ctx, operator: Operator, *, site_id: int | None = None
) -> list[Segment]:
    async with ctx.db.read() as conn:
        if site_id is not None:
            site_ids = {(await access_site(conn, operator, site_id)).id}
        else:
            site_ids = await operator_site_ids(conn, operator)
        return await store.segments_of_sites(conn, site_ids) if site_ids else []


async def create_segment(
    ctx: Ctx, operator: Operator, *, site_id: int, name: object, filter: object
) -> Segment:
    checked_name = rules.check_segment_name(name)
    parsed = rules.parse_filter(filter)
    async with unit_of_work(ctx) as uow:
        site = await access_site(uow.conn, operator, site_id)
        return await store.insert_segment(
            uow.conn, site_id=site.id, name=checked_name, filter=parsed, now=uow.now
        )


async def update_segment(
    ctx: Ctx, operator: Operator, segment_id: int, changes: dict[str, Any]
) -> Segment:
    """Rename and/or replace the filter; fields absent from `changes` stay as they are."""
    if unknown := sorted(set(changes) - {"name", "filter"}):
        raise InvalidInput(f"a segment has no field {unknown[0]!r}")
    name = rules.check_segment_name(changes["name"]) if "name" in changes else None
    parsed = rules.parse_filter(changes["filter"]) if "filter" in changes else None
    async with unit_of_work(ctx) as uow:
        segment = await access_segment(uow.conn, operator, segment_id)
        return await store.update_segment(
            uow.conn, segment.id, name=name, filter=parsed, now=uow.now
        )


async def delete_segment(ctx: Ctx, operator: Operator, segment_id: int) -> None:
    async with unit_of_work(ctx) as uow:
        segment = await access_segment(uow.conn, operator, segment_id)
        users = await autoreply_store.rule_names_using(uow.conn, "segment_id", segment.id)
        if users:
            raise Conflict(
                f"automatic replies use this segment: {', '.join(users)}; change them first",
                code="segment_in_use",
            )
        await store.delete_segment(uow.conn, segment.id)


async def get_segment(ctx: Ctx, operator: Operator, segment_id: int) -> SegmentCount:
    now = ctx.clock.now()
    async with _bounded(ctx) as read:
        segment = await access_segment(read.conn, operator, segment_id)
        count = await store.count_members(
            read.conn, segment.site_id, segment.filter, now, deadline=read.deadline
        )
    return SegmentCount(segment, count)


async def segment_members(
    ctx: Ctx,
    operator: Operator,
    segment_id: int,
    *,
    limit: int = 50,
    before_id: int | None = None,
    query: str | None = None,
) -> list[Contact]:
    now = ctx.clock.now()
    async with _bounded(ctx) as read:
        segment = await access_segment(read.conn, operator, segment_id)
        return await store.members(
            read.conn,
            segment.site_id,
            segment.filter,
            now,
            limit=max(1, min(limit, MAX_MEMBERS_PAGE)),
            before_id=before_id,
            query=(query or "").strip() or None,
            deadline=read.deadline,
        )


async def preview_segment(ctx: Ctx, operator: Operator, *, site_id: int, filter: object) -> Preview:
    """The count and first contacts of an unsaved filter, for the console's editor."""
    parsed = rules.parse_filter(filter)
    now = ctx.clock.now()
    async with _bounded(ctx) as read:
        site = await access_site(read.conn, operator, site_id)
        count, found = await store.preview(
            read.conn, site.id, parsed, now, limit=PREVIEW_CONTACTS, deadline=read.deadline
        )
    return Preview(count, found)


@asynccontextmanager
async def _bounded(ctx: Ctx) -> AsyncIterator[BoundedRead]:
    """A read whose statements together take at most DOORSTEP_SEGMENT_QUERY_SECONDS: a
    filter's cost is the operator's to choose, the time it holds the node is not."""
    try:
        async with bounded_read(ctx.db, ctx.settings.segment_query_seconds) as read:
            yield read
    except QueryTooSlow:
        raise InvalidInput(
            "too slow: narrow the filter (the query was stopped after "
            f"{ctx.settings.segment_query_seconds:g} s)",
            code="query_too_slow",
        ) from None


async def contact_in_segment(ctx: Ctx, contact_id: int, segment_id: int) -> bool:
    """Whether a contact belongs to a segment now, by the pure rule over its facts.

    For system callers (greetings, automatic replies), not operators: no tenancy beyond the
    rule that a segment only has contacts of its own site. A merged contact is judged by the
    contact that holds its history now.
    """
    now = ctx.clock.now()
    async with ctx.db.read() as conn:
        segment = await store.segment_by_id(conn, segment_id)
        if segment is None:
            raise NotFound("no such segment", code="segment_not_found")
        needs = rules.needs(segment.filter)
        facts = await store.contact_facts(conn, contact_id, needs)
        if facts is not None and facts.contact.merged_into_id is not None:
            facts = await store.contact_facts(conn, facts.contact.merged_into_id, needs)
    if facts is None or facts.contact.site_id != segment.site_id:
        raise NotFound("no such contact", code="contact_not_found")
    return segment_matching.matches(segment.filter, facts, now)
