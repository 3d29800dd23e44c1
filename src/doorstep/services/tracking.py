"""Tracking visitors: visits, page views, events and who is on the site now (docs/tracking.md).

The current visit of every connected visitor is kept in memory on the node that holds their
socket; page views and events go through the fact writer, so each waits for its commit but
shares the transaction with everyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain import attributes as attr_rules
from doorstep.domain import pages
from doorstep.domain.devices import Device, parse_user_agent
from doorstep.domain.events import Event
from doorstep.domain.models import Visitor, iso
from doorstep.domain.sessions import starts_new_session
from doorstep.domain.sources import Source, classify
from doorstep.services.context import Ctx
from doorstep.services.facts import Fact
from doorstep.services.uow import announce, unit_of_work
from doorstep.store import tracking as store


@dataclass(frozen=True, slots=True)
class Client:
    """What the socket's handshake told about the browser."""

    user_agent: str | None
    ip: str | None

    @property
    def device(self) -> Device:
        return parse_user_agent(self.user_agent)


# Last activity is written to visits and contacts at most this often per visitor (and when
# they leave), not with every page view: it keeps two UPDATEs per row off the hot path.
ACTIVITY_WRITE_EVERY = timedelta(seconds=60)


@dataclass(slots=True)
class VisitState:
    visit_id: int
    last_activity_at: datetime
    source: Source
    saved_activity_at: datetime | None = None

    def activity(self, now: datetime) -> dict[str, Any]:
        """Fact fields that move the stored last activity, when it is due."""
        self.last_activity_at = now
        saved = self.saved_activity_at
        if saved is not None and now - saved < ACTIVITY_WRITE_EVERY:
            return {}
        self.saved_activity_at = now
        return {"visit_id": self.visit_id, "at": now}


async def connect_visitor(ctx: Ctx, visitor: Visitor, client: Client) -> None:
    """A widget socket opened: load the current visit, and show the visitor as live."""
    last_page = None
    if visitor.id not in ctx.visits:
        async with ctx.db.read() as conn:
            row = await store.latest_visit_of_visitor(conn, visitor.id)
            if row is not None:
                last_page = await store.last_page_view(conn, row["id"])
        if row is not None:
            ctx.visits[visitor.id] = VisitState(
                row["id"], row["last_activity_at"], Source.from_row(row), row["last_activity_at"]
            )
    if client.device.is_bot:
        return  # recorded, never shown as live
    live, first = ctx.visitors_live.connect(visitor.site_id, visitor.id, visitor.contact_id)
    if last_page is not None and live.url is None:
        # Back after a reconnect or a restart: show the page they were on until the next one.
        live.visit_id, live.url, live.title = (
            last_page["visit_id"],
            last_page["url"],
            last_page["title"],
        )
        live.page_since = last_page["started_at"].timestamp()
    if first:
        await announce(
            ctx,
            Event(
                "visitor.online",
                operator_sites=(visitor.site_id,),
                operator_frame={"type": "visitor.online", "visitor": live.public()},
                ephemeral=True,
            ),
        )


async def disconnect_visitor(ctx: Ctx, visitor: Visitor, client: Client) -> None:
    """A widget socket closed; with the visitor's last one, they leave the site."""
    if client.device.is_bot:
        await _save_activity(ctx, ctx.visits.pop(visitor.id, None), visitor.contact_id)
        return
    gone = ctx.visitors_live.disconnect(visitor.id)
    if gone is None:
        return
    await _save_activity(ctx, ctx.visits.pop(visitor.id, None), gone.contact_id)
    await announce(
        ctx,
        Event(
            "visitor.offline",
            operator_sites=(visitor.site_id,),
            operator_frame={
                "type": "visitor.offline",
                "visitor_id": visitor.id,
                "contact_id": gone.contact_id,
            },
            ephemeral=True,
        ),
    )


async def _save_activity(ctx: Ctx, state: VisitState | None, contact_id: int) -> None:
    """Write the last activity that was kept in memory (see ACTIVITY_WRITE_EVERY)."""
    if state is not None and state.saved_activity_at != state.last_activity_at:
        await ctx.facts.write(
            Fact(visit_id=state.visit_id, contact_id=contact_id, at=state.last_activity_at)
        )


async def record_page_view(
    ctx: Ctx, visitor: Visitor, client: Client, client_id: str, data: dict[str, Any]
) -> int:
    """Store a page view (starting a new visit when due); returns the visit's id."""
    view = pages.check_page_view(
        client_id,
        data.get("url"),
        data.get("title"),
        data.get("referrer"),
        data.get("timezone"),
        data.get("language"),
        data.get("screen"),
    )
    now = ctx.clock.now()
    state = ctx.visits.get(visitor.id)
    arriving = classify(view.url, view.referrer, own_host=view.host)
    if state is None or starts_new_session(state.last_activity_at, now, state.source, arriving):
        state = await _start_visit(ctx, visitor, client, view, arriving, now)
        ctx.visits[visitor.id] = state
    activity = state.activity(now)
    page_event = Event(
        "visitor.page_viewed",
        operator_sites=(visitor.site_id,),
        operator_frame={
            "type": "visitor.page_viewed",
            "visitor_id": visitor.id,
            "contact_id": visitor.contact_id,
            "visit_id": state.visit_id,
            "url": view.url,
            "title": view.title,
            "at": iso(now),
        },
    )
    await ctx.facts.write(
        Fact(
            page_view={
                "site_id": visitor.site_id,
                "contact_id": visitor.contact_id,
                "visit_id": state.visit_id,
                "client_id": client_id,
                "url": view.url,
                "path": view.path,
                "title": view.title,
                "started_at": now,
                "duration_ms": 0,
                "scroll_depth": 0,
            },
            contact_id=visitor.contact_id,
            announce=[page_event],
            **activity,
        )
    )
    live = ctx.visitors_live.get(visitor.id)
    if live is not None:
        live.visit_id, live.url, live.title = state.visit_id, view.url, view.title
        live.page_since = now.timestamp()
    return state.visit_id


async def _start_visit(
    ctx: Ctx,
    visitor: Visitor,
    client: Client,
    view: pages.PageView,
    source: Source,
    now: datetime,
) -> VisitState:
    device = client.device
    location = ctx.locator.locate(client.ip)
    values = {
        "site_id": visitor.site_id,
        "contact_id": visitor.contact_id,
        "visitor_id": visitor.id,
        "started_at": now,
        "last_activity_at": now,
        "entry_url": view.url,
        "referrer": view.referrer,
        **source.as_dict(),
        "device_type": device.device_type,
        "os": device.os,
        "browser": device.browser,
        "is_bot": device.is_bot,
        "country": location.country,
        "city": location.city,
        "language": view.language,
        "timezone": view.timezone,
        "screen": view.screen,
    }
    profile = {
        "last_source": source.as_dict(),
        "device_type": device.device_type,
        "os": device.os,
        "browser": device.browser,
        "last_seen_at": now,
    }
    for key, value in (
        ("country", location.country),
        ("city", location.city),
        ("timezone", view.timezone),
        ("language", view.language),
    ):
        if value is not None:
            profile[key] = value
    async with unit_of_work(ctx) as uow:
        visit_id = await store.insert_visit(uow.conn, values)
        await store.update_contact_profile(
            uow.conn, visitor.contact_id, profile, first_source=source.as_dict()
        )
        uow.emit(
            Event(
                "visit.started",
                operator_sites=(visitor.site_id,),
                operator_frame={
                    "type": "visit.started",
                    "visitor_id": visitor.id,
                    "contact_id": visitor.contact_id,
                    "visit_id": visit_id,
                },
            )
        )
    return VisitState(visit_id, now, source, saved_activity_at=now)


async def record_page_progress(
    ctx: Ctx, visitor: Visitor, client_id: str, duration_ms: object, scroll_depth: object
) -> None:
    duration, depth = pages.check_progress(duration_ms, scroll_depth)
    state = ctx.visits.get(visitor.id)
    activity = state.activity(ctx.clock.now()) if state else {}
    await ctx.facts.write(
        Fact(
            progress={
                "b_contact": visitor.contact_id,
                "b_client": client_id,
                "b_duration": duration,
                "b_depth": depth,
            },
            contact_id=visitor.contact_id,
            **activity,
        )
    )


async def track_event(
    ctx: Ctx, visitor: Visitor, name: object, properties: object, *, client_id: str | None = None
) -> str:
    """Store a named event; a retried event with the same client_id is stored once."""
    checked_name, checked = attr_rules.check_event(name, properties)
    now = ctx.clock.now()
    state = ctx.visits.get(visitor.id)
    activity = state.activity(now) if state else {}
    await ctx.facts.write(
        Fact(
            event={
                "site_id": visitor.site_id,
                "contact_id": visitor.contact_id,
                "visitor_id": visitor.id,
                "visit_id": state.visit_id if state else None,
                "name": checked_name,
                "properties": checked,
                "created_at": now,
                "client_id": client_id,
            },
            contact_id=visitor.contact_id,
            **activity,
            announce=[
                Event(
                    "contact.event_tracked",
                    operator_sites=(visitor.site_id,),
                    operator_frame={
                        "type": "contact.event_tracked",
                        "contact_id": visitor.contact_id,
                        "name": checked_name,
                        "properties": checked,
                        "at": iso(now),
                    },
                )
            ],
        )
    )
    return checked_name
