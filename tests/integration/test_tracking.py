"""Visits, page views, events, live presence and merges, through the services."""

from __future__ import annotations

import asyncio

import pytest

from doorstep.errors import InvalidInput
from doorstep.services import contacts, conversations, tracking, visitors
from doorstep.store import tracking as tracking_store
from tests.conftest import CapturedEvents
from tests.factories import Factory, proven

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
PHONE_IN_JAPAN = tracking.Client(IPHONE, "133.242.0.1")
LANDING = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


def page(url: str, title: str = "Page", **extra) -> dict:
    return {
        "url": url,
        "title": title,
        "timezone": "Asia/Tokyo",
        "language": "ja-JP",
        "screen": {"w": 390, "h": 844},
        **extra,
    }


@pytest.fixture
async def shop(factory: Factory):
    site = await factory.site()
    operator = await factory.operator(site)
    visitor = await factory.visitor(site)
    return site, operator, visitor


async def card(ctx, operator, contact_id):
    return (await contacts.get_contact_card(ctx, operator, contact_id)).public()


async def test_first_page_view_starts_a_visit_with_source_device_and_location(ctx, shop):
    _site, operator, visitor = shop
    await tracking.connect_visitor(ctx, visitor, PHONE_IN_JAPAN)
    await tracking.record_page_view(
        ctx, visitor, PHONE_IN_JAPAN, "p1", page(LANDING, referrer="https://mail.example/")
    )
    data = await card(ctx, operator, visitor.contact_id)
    visit = data["current_visit"]
    assert visit["source"]["channel"] == "email" and visit["source"]["campaign"] == "spring"
    assert visit["device"] == {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"}
    assert visit["location"]["country"] == "JP" and visit["timezone"] == "Asia/Tokyo"
    assert visit["screen"] == "390x844"
    assert [p["url"] for p in visit["pages"]] == [LANDING]
    assert data["first_source"]["source"] == "newsletter"
    assert data["location"]["country"] == "JP" and data["device"]["type"] == "mobile"
    assert data["live"]["url"] == LANDING


async def test_thirty_minutes_of_quiet_start_a_new_visit_and_first_touch_stays(ctx, clock, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, "8.8.8.8")
    await tracking.record_page_view(ctx, visitor, client, "p1", page(LANDING))
    clock.advance(minutes=29)
    await tracking.record_page_view(ctx, visitor, client, "p2", page("https://shop.example/a"))
    clock.advance(minutes=30)
    await tracking.record_page_view(
        ctx,
        visitor,
        client,
        "p3",
        page("https://shop.example/b", referrer="https://www.google.com/"),
    )
    data = await card(ctx, operator, visitor.contact_id)
    assert data["visits"]["count"] == 2
    assert [p["path"] for p in data["current_visit"]["pages"]] == ["/b"]
    assert data["first_source"]["campaign"] == "spring"
    assert data["last_source"]["channel"] == "organic_search"


async def test_a_new_campaign_splits_a_live_visit(ctx, clock, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.record_page_view(ctx, visitor, client, "p1", page(LANDING))
    clock.advance(minutes=1)
    await tracking.record_page_view(
        ctx, visitor, client, "p2", page("https://shop.example/?utm_source=ads&utm_campaign=x")
    )
    assert (await card(ctx, operator, visitor.contact_id))["visits"]["count"] == 2


async def test_a_repeated_page_view_is_stored_once_and_progress_only_grows(ctx, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    for _ in range(3):
        await tracking.record_page_view(ctx, visitor, client, "same", page(LANDING))
    await tracking.record_page_progress(ctx, visitor, "same", 40_000, 80)
    await tracking.record_page_progress(ctx, visitor, "same", 10_000, 20)
    (stored,) = (await card(ctx, operator, visitor.contact_id))["current_visit"]["pages"]
    assert (stored["duration_ms"], stored["scroll_depth"]) == (40_000, 80)


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "javascript:alert(1)"},
        {"url": "ftp://x.example/"},
        {"url": ""},
        {"url": "https://" + "x" * 2000 + ".example/"},
        {"url": None},
    ],
)
async def test_bad_page_views_are_refused_and_store_nothing(ctx, shop, bad):
    _site, operator, visitor = shop
    with pytest.raises(InvalidInput):
        await tracking.record_page_view(
            ctx, visitor, tracking.Client(None, None), "x", {**page("https://ok.example/"), **bad}
        )
    assert (await card(ctx, operator, visitor.contact_id))["visits"]["count"] == 0


async def test_garbage_user_agents_and_addresses_still_record_the_page(ctx, shop):
    _site, operator, visitor = shop
    client = tracking.Client("\x00\xff" * 300, "not-an-ip")
    await tracking.record_page_view(
        ctx,
        visitor,
        client,
        "p",
        page("https://s.example/", timezone="Mars/Base", screen={"w": "x"}),
    )
    visit = (await card(ctx, operator, visitor.contact_id))["current_visit"]
    assert visit["location"] == {"country": None, "city": None}
    assert visit["timezone"] is None and visit["screen"] is None


async def test_events_are_tracked_on_the_visit_and_shown_newest_first(ctx, clock, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.record_page_view(ctx, visitor, client, "p", page(LANDING))
    for value in (10, 20, 120):
        clock.advance(seconds=5)
        await tracking.track_event(ctx, visitor, "added_to_cart", {"value": value})
    events = (await card(ctx, operator, visitor.contact_id))["events"]
    assert [e["properties"]["value"] for e in events] == [120, 20, 10]
    with pytest.raises(InvalidInput):
        await tracking.track_event(ctx, visitor, "x" * 200, {})


async def test_concurrent_page_views_share_transactions_and_none_is_lost(ctx, shop):
    _site, operator, visitor = shop
    ctx.facts.start()
    try:
        client = tracking.Client(DESKTOP, None)
        await tracking.record_page_view(ctx, visitor, client, "first", page(LANDING))
        before = ctx.facts.batches
        await asyncio.gather(
            *[
                tracking.record_page_view(
                    ctx, visitor, client, f"p{i}", page(f"https://shop.example/{i}")
                )
                for i in range(200)
            ]
        )
        assert ctx.facts.batches - before < 200  # batched, not one commit per view
    finally:
        await ctx.facts.stop()
    pages = (await card(ctx, operator, visitor.contact_id))["current_visit"]["pages"]
    assert len(pages) == 201


async def test_bots_are_recorded_but_never_live(ctx, shop, events: CapturedEvents):
    site, _operator, visitor = shop
    bot = tracking.Client("Googlebot/2.1 (+http://www.google.com/bot.html)", "66.249.66.1")
    await tracking.connect_visitor(ctx, visitor, bot)
    await tracking.record_page_view(ctx, visitor, bot, "p", page(LANDING))
    assert ctx.visitors_live.on_sites({site.id}) == []
    assert events.of_type("visitor.online") == []
    assert len(events.of_type("visitor.page_viewed")) == 1


async def test_presence_lasts_until_the_last_tab_closes(ctx, shop, events: CapturedEvents):
    site, _operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.connect_visitor(ctx, visitor, client)
    await tracking.connect_visitor(ctx, visitor, client)
    await tracking.disconnect_visitor(ctx, visitor, client)
    assert [v.visitor_id for v in ctx.visitors_live.on_sites({site.id})] == [visitor.id]
    await tracking.disconnect_visitor(ctx, visitor, client)
    assert ctx.visitors_live.on_sites({site.id}) == []
    assert len(events.of_type("visitor.online")) == len(events.of_type("visitor.offline")) == 1


async def test_the_same_proven_email_from_another_browser_merges_both_histories(
    ctx, clock, factory: Factory, events: CapturedEvents
):
    site = await factory.site()
    operator = await factory.operator(site)
    laptop, phone = await factory.visitor(site), await factory.visitor(site)
    laptop_client, phone_client = tracking.Client(DESKTOP, None), PHONE_IN_JAPAN
    await tracking.record_page_view(ctx, laptop, laptop_client, "l1", page(LANDING))
    await visitors.set_visitor_attributes(ctx, laptop, {"plan": "free", "seats": 3})
    await conversations.send_visitor_message(ctx, laptop, text="from laptop", client_msg_id="1")
    await visitors.identify_visitor(
        ctx, laptop, proven(site, email="Jane@Example.com", name="Jane")
    )
    clock.advance(hours=2)
    await tracking.record_page_view(
        ctx, phone, phone_client, "p1", page("https://shop.example/cart")
    )
    await tracking.track_event(ctx, phone, "added_to_cart", {"value": 120})
    await visitors.set_visitor_attributes(ctx, phone, {"plan": "pro"})
    await conversations.send_visitor_message(ctx, phone, text="from phone", client_msg_id="1")

    merged = (
        await visitors.identify_visitor(ctx, phone, proven(site, email="jane@example.com"))
    ).contact

    assert merged.id == laptop.contact_id  # the older contact survives
    data = await card(ctx, operator, merged.id)
    assert data["name"] == "Jane" and data["email"] == "jane@example.com"
    assert data["attributes"] == {"plan": "pro", "seats": 3}  # the newer value wins a clash
    assert data["visits"]["count"] == 2
    assert [e["name"] for e in data["events"]] == ["added_to_cart"]
    texts = sorted(s["last_message"]["text"] for s in data["conversations"])
    assert texts == ["from laptop", "from phone"]
    assert data["first_source"]["campaign"] == "spring"
    assert data["location"]["country"] == "JP"  # latest facts come from the newer browser
    assert [e.meta for e in events.of_type("contact.merged")] == [
        {"from": phone.contact_id, "into": laptop.contact_id}
    ]
    # The retired contact forwards to the survivor and is no longer listed.
    assert (await card(ctx, operator, phone.contact_id))["id"] == laptop.contact_id
    listed = await contacts.list_contacts(ctx, operator, query=None, limit=50, before_id=None)
    assert [c.id for c in listed] == [laptop.contact_id]
    # Messages keep flowing for the merged browser, into the survivor's history.
    refreshed = await visitors.visitor_for_token(ctx, site, visitors.visitor_token(ctx, phone))
    assert refreshed.contact_id == laptop.contact_id


async def test_operators_edit_contacts_and_keep_notes(ctx, shop):
    _site, operator, visitor = shop
    updated = await contacts.update_contact(
        ctx,
        operator,
        visitor.contact_id,
        {"name": "Ann", "tags": ["vip", "vip", "b2b"], "attributes": {"plan": "pro"}},
    )
    assert updated.name == "Ann" and updated.tags == ("b2b", "vip")
    note = await contacts.add_note(ctx, operator, visitor.contact_id, "Prefers email")
    assert (await card(ctx, operator, visitor.contact_id))["notes"][0]["text"] == "Prefers email"
    await contacts.delete_note(ctx, operator, visitor.contact_id, note["id"])
    assert (await card(ctx, operator, visitor.contact_id))["notes"] == []
    with pytest.raises(InvalidInput):
        await contacts.update_contact(ctx, operator, visitor.contact_id, {"tags": ["x" * 51]})


async def test_a_retried_event_with_the_same_client_id_is_stored_once(ctx, shop):
    _site, operator, visitor = shop
    for _ in range(3):
        await tracking.track_event(ctx, visitor, "signed_up", {}, client_id="e-1")
    await tracking.track_event(ctx, visitor, "signed_up", {})  # no id: never deduplicated
    await tracking.track_event(ctx, visitor, "signed_up", {})
    events = (await card(ctx, operator, visitor.contact_id))["events"]
    assert len(events) == 3


async def test_last_activity_is_written_once_a_minute_and_when_the_visitor_leaves(ctx, clock, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.connect_visitor(ctx, visitor, client)
    await tracking.record_page_view(ctx, visitor, client, "p1", page(LANDING))
    started = (await card(ctx, operator, visitor.contact_id))["current_visit"]["started_at"]
    clock.advance(seconds=10)
    await tracking.record_page_view(ctx, visitor, client, "p2", page("https://shop.example/a"))
    visit = (await card(ctx, operator, visitor.contact_id))["current_visit"]
    assert visit["last_activity_at"] == started  # kept in memory for now
    clock.advance(seconds=55)
    await tracking.record_page_progress(ctx, visitor, "p2", 65_000, 10)
    visit = (await card(ctx, operator, visitor.contact_id))["current_visit"]
    assert visit["last_activity_at"] > started  # a minute passed: written
    clock.advance(seconds=5)
    await tracking.record_page_progress(ctx, visitor, "p2", 70_000, 10)
    await tracking.disconnect_visitor(ctx, visitor, client)
    data = await card(ctx, operator, visitor.contact_id)
    assert data["current_visit"]["last_activity_at"] == data["last_seen_at"]
    assert data["last_seen_at"] == "2026-01-05T10:01:10.000000Z"


async def test_progress_reaches_its_page_view_after_a_new_visit_began(ctx, clock, shop):
    _site, operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.record_page_view(ctx, visitor, client, "old", page(LANDING))
    clock.advance(minutes=31)
    await tracking.record_page_view(ctx, visitor, client, "new", page("https://shop.example/b"))
    await tracking.record_page_progress(ctx, visitor, "old", 90_000, 100)
    data = await card(ctx, operator, visitor.contact_id)
    assert data["visits"]["count"] == 2
    assert [p["scroll_depth"] for p in data["current_visit"]["pages"]] == [0]
    async with ctx.db.read() as conn:
        (old,) = await tracking_store.page_views_of_visit(conn, data["recent_visits"][1]["id"])
    assert (old["duration_ms"], old["scroll_depth"]) == (90_000, 100)


async def test_a_reconnecting_visitor_is_live_on_the_page_they_were_on(ctx, shop):
    site, _operator, visitor = shop
    client = tracking.Client(DESKTOP, None)
    await tracking.connect_visitor(ctx, visitor, client)
    await tracking.record_page_view(ctx, visitor, client, "p", page(LANDING, title="Spring sale"))
    await tracking.disconnect_visitor(ctx, visitor, client)
    await tracking.connect_visitor(ctx, visitor, client)
    (live,) = ctx.visitors_live.on_sites({site.id})
    assert (live.url, live.title) == (LANDING, "Spring sale")
