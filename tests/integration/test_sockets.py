"""Both sockets against the real server stack (uvicorn, httptools, websockets)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from doorstep.web.collector import Policy
from tests.factories import Factory, proven
from tests.wsclient import open_operator, open_visitor


@pytest.fixture
async def team(factory: Factory):
    site = await factory.site(key="shop-key")
    operator = await factory.operator(site, name="Anna")
    return site, operator


async def test_visitor_message_reaches_operator_and_reply_reaches_visitor(server, team) -> None:
    site, operator = team
    console = await open_operator(server.url, operator.email)
    assert (await console.next("ready"))["operator"]["name"] == "Anna"
    visitor, _ = await open_visitor(server.url, site.key)
    ready = await visitor.next("ready")
    assert ready["conversation"] is None and ready["operators"][0]["name"] == "Anna"

    await visitor.send({"type": "message.send", "client_msg_id": "m1", "text": "Hello"})
    ack = await visitor.next("message.ack")
    assert ack["message"]["seq"] == 1 and ack["client_msg_id"] == "m1"
    created = await console.next("conversation.created")
    incoming = await console.next("message.created")
    assert incoming["message"]["text"] == "Hello"
    conversation_id = created["conversation"]["id"]

    await console.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_msg_id": "r1",
            "text": "Hi! How can I help?",
        }
    )
    assert (await console.next("message.ack"))["message"]["seq"] == 2
    reply = await visitor.next("message.created")
    while reply["message"]["author"]["type"] != "operator":
        reply = await visitor.next("message.created")
    assert reply["message"]["text"] == "Hi! How can I help?"
    assert reply["message"]["author"]["name"] == "Anna"
    await visitor.close()
    await console.close()


async def test_reconnecting_visitor_resumes_after_its_last_seq(server, team) -> None:
    site, _operator = team
    visitor, token = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    for i in range(3):
        await visitor.send({"type": "message.send", "client_msg_id": f"m{i}", "text": f"t{i}"})
        await visitor.next("message.ack")
    await visitor.close()

    again, _same_token = await open_visitor(server.url, site.key, token)
    ready = await again.next("ready")
    assert ready["conversation"]["last_seq"] == 3
    await again.send({"type": "resume", "after_seq": 1})
    resumed = await again.next("messages")
    assert [m["text"] for m in resumed["messages"]] == ["t1", "t2"]
    # The retried message with a known client_msg_id is acknowledged, not stored again.
    await again.send({"type": "message.send", "client_msg_id": "m2", "text": "t2"})
    assert (await again.next("message.ack"))["message"]["seq"] == 3
    await again.send({"type": "resume", "after_seq": 0})
    assert len((await again.next("messages"))["messages"]) == 3
    await again.close()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "message.send", "text": "no id"}', "invalid_frame"),
        ('{"type": "resume", "after_seq": -4}', "invalid_frame"),
        (
            '{"type": "message.send", "client_msg_id": "a", "text": "' + "x" * 10_001 + '"}',
            "text_too_long",
        ),
        ("x" * (70 * 1024), "frame_too_large"),
        (b"\x00\xff binary", "invalid_json"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_keeps_working(server, team, raw, code):
    site, _ = team
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    await visitor.send(raw)
    error = await visitor.next("error")
    assert error["code"] == code
    await visitor.send({"type": "message.send", "client_msg_id": "ok", "text": "still here"})
    assert (await visitor.next("message.ack"))["message"]["text"] == "still here"
    await visitor.close()


async def test_text_that_looks_like_html_arrives_as_the_same_text(server, team) -> None:
    site, operator = team
    console = await open_operator(server.url, operator.email)
    await console.next("ready")
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await visitor.send({"type": "message.send", "client_msg_id": "x", "text": evil})
    assert (await console.next("message.created"))["message"]["text"] == evil
    await console.close()
    await visitor.close()


async def test_unknown_site_and_forged_token_close_the_socket(server, team) -> None:
    site, _ = team
    for query, code in (("site=nope&token=x", 4404), (f"site={site.key}&token=forged.sig", 4401)):
        async with connect(f"{server.ws_url}/widget/v1/ws?{query}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == code


async def test_a_socket_to_any_other_path_is_refused(server) -> None:
    for path in ("/widget/v1/ws/", "/widget/v1/socket", "/api/v1/ws"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}{path}"):
                pass
        assert refused.value.response.status_code == 403


async def test_operator_socket_needs_a_session_and_same_origin(server, team) -> None:
    async with connect(f"{server.ws_url}/console/ws") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4401
    async with connect(f"{server.ws_url}/console/ws", origin="https://evil.example") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4403


async def test_internal_note_never_reaches_the_visitor_socket(server, team) -> None:
    site, operator = team
    console = await open_operator(server.url, operator.email)
    await console.next("ready")
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    await visitor.send({"type": "message.send", "client_msg_id": "1", "text": "Q"})
    conversation_id = (await console.next("conversation.created"))["conversation"]["id"]
    await visitor.next("message.ack")
    await visitor.nothing_more()
    await console.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_msg_id": "n",
            "text": "secret note",
            "internal": True,
        }
    )
    await console.next("message.ack")
    frames = await visitor.nothing_more(0.3)
    assert all("secret note" not in str(frame) for frame in frames)
    await visitor.send({"type": "resume", "after_seq": 0})
    assert [m["text"] for m in (await visitor.next("messages"))["messages"]] == ["Q"]


async def test_typing_and_read_receipts_cross_between_the_sides(server, team) -> None:
    site, operator = team
    console = await open_operator(server.url, operator.email)
    await console.next("ready")
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    await visitor.send({"type": "message.send", "client_msg_id": "1", "text": "Q"})
    conversation_id = (await console.next("conversation.created"))["conversation"]["id"]
    await visitor.send({"type": "typing.start"})
    typing = await console.next("typing")
    assert typing["active"] and typing["author"]["type"] == "visitor"
    await console.send({"type": "messages.read", "conversation_id": conversation_id, "seq": 1})
    read = await visitor.next("conversation.read")
    assert read == {
        "type": "conversation.read",
        "conversation_id": conversation_id,
        "reader": "operator",
        "seq": 1,
    }
    await console.send({"type": "typing.start", "conversation_id": conversation_id})
    assert (await visitor.next("typing"))["author"]["name"] == "Anna"


async def test_presence_goes_away_when_the_last_console_tab_closes(server, team, factory) -> None:
    site, operator = team
    colleague = await factory.operator(site, name="Boris")
    watcher = await open_operator(server.url, colleague.email)
    await watcher.next("ready")
    tab1 = await open_operator(server.url, operator.email)
    await tab1.next("ready")
    assert (await watcher.next("presence")) == {
        "type": "presence",
        "operator_id": operator.id,
        "status": "online",
    }
    tab2 = await open_operator(server.url, operator.email)
    await tab2.next("ready")
    await tab1.close()
    assert await watcher.nothing_more(0.3) == []  # still one tab open
    await tab2.close()
    assert (await watcher.next("presence"))["status"] == "away"


async def test_a_flood_of_frames_is_rate_limited_without_closing(server, team) -> None:
    site, _ = team
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    for _ in range(80):
        await visitor.send({"type": "ping"})
    replies = [await visitor.next() for _ in range(80)]
    kinds = {r["type"] for r in replies}
    assert kinds == {"pong", "error"}
    assert {r["code"] for r in replies if r["type"] == "error"} == {"rate_limited"}
    # A refused write names itself, so the widget knows what to send again.
    await visitor.send({"type": "event.track", "name": "x", "client_msg_id": "t-1"})
    refused = await visitor.next("error")
    assert (refused["code"], refused["client_msg_id"]) == ("rate_limited", "t-1")


async def test_visitor_identify_set_and_track_update_the_contact(server, team) -> None:
    site, _operator = team
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    await visitor.send(
        {
            "type": "visitor.identify",
            "traits": {"email": "Jane@Example.com", "name": "Jane", "plan": "pro"},
        }
    )
    assert (await visitor.next("visitor.updated"))["email_known"] is True
    await visitor.send({"type": "visitor.set", "attributes": {"cart_value": 120}})
    await visitor.next("visitor.updated")
    await visitor.send(
        {"type": "event.track", "name": "added_to_cart", "properties": {"value": 120}}
    )
    assert (await visitor.next("event.ack"))["name"] == "added_to_cart"
    await visitor.send({"type": "visitor.set", "attributes": {"bad name!": 1}})
    assert (await visitor.next("error"))["code"] == "invalid_name"


async def test_two_tabs_of_one_visitor_both_see_each_message(server, team) -> None:
    site, _ = team
    tab1, token = await open_visitor(server.url, site.key)
    await tab1.next("ready")
    tab2, _ = await open_visitor(server.url, site.key, token)
    await tab2.next("ready")
    await tab1.send({"type": "message.send", "client_msg_id": "1", "text": "from tab 1"})
    assert (await tab2.next("message.created"))["message"]["text"] == "from tab 1"


async def test_a_refused_page_view_names_its_client_id(server, team) -> None:
    site, _ = team
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    await visitor.send({"type": "page.view", "client_id": "pv-1", "url": "javascript:alert(1)"})
    error = await visitor.next("error")
    assert (error["code"], error["client_id"]) == ("invalid_url", "pv-1")


async def test_ready_is_the_operator_sockets_first_frame(server, team) -> None:
    _site, operator = team
    console = await open_operator(server.url, operator.email)
    first = await console.next()
    assert first["type"] == "ready"
    assert {"operator_id": operator.id, "name": "Anna", "status": "online"} in first["presence"]


async def test_page_views_are_acknowledged_in_order_and_bad_ones_refused(server, team) -> None:
    site, _ = team
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    view = {"type": "page.view", "url": "https://shop.example/p", "title": "P"}
    for bad, code in (
        (
            {**view, "client_id": "long", "url": "https://shop.example/" + "x" * 2000},
            "invalid_frame",
        ),
        ({**view, "client_id": "typed", "screen": "390x844"}, "invalid_frame"),
        ({**view, "client_id": "kind", "type": ["page.view"]}, "unknown_type"),
    ):
        await visitor.send(bad)
        error = await visitor.next()
        assert (error["type"], error["code"], error["client_id"]) == (
            "error",
            code,
            bad["client_id"],
        )
    for n in range(5):
        await visitor.send({**view, "client_id": f"pv-{n}"})
    acks = [await visitor.next() for _ in range(5)]
    assert [(a["type"], a["client_id"]) for a in acks] == [
        ("page.ack", f"pv-{n}") for n in range(5)
    ]
    assert len({a["visit_id"] for a in acks}) == 1
    await visitor.close()


async def test_after_a_proven_merge_the_socket_records_for_the_surviving_contact(
    server, team
) -> None:
    site, _ = team
    laptop, _ = await open_visitor(server.url, site.key)
    laptop_id = (await laptop.next("ready"))["visitor_id"]
    phone, _ = await open_visitor(server.url, site.key)
    phone_id = (await phone.next("ready"))["visitor_id"]
    for sock in (laptop, phone):
        traits = proven(site, email="jane@example.com")
        await sock.send({"type": "visitor.identify", "traits": traits})
        await sock.next("visitor.updated")
    view = {"type": "page.view", "client_id": "after-merge", "url": "https://shop.example/"}
    await phone.send(view)
    await phone.next("page.ack")
    async with server.ctx.db.read() as conn:
        rows = await conn.execute(text("SELECT id, contact_id FROM visitors"))
        owners = {visitor_id: contact_id for visitor_id, contact_id in rows}
        recorded = await conn.execute(
            text("SELECT contact_id FROM page_views WHERE client_id = 'after-merge'")
        )
        assert recorded.scalar_one() == owners[laptop_id] == owners[phone_id]
    await laptop.close()
    await phone.close()


async def test_sockets_tell_the_collector_when_they_open_talk_and_close(server, team) -> None:
    site, operator = team
    collector = server.collector
    collector.policy = Policy(least_apart=3600, most_apart=7200)  # nothing due in this test
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    console = await open_operator(server.url, operator.email)
    await console.next("ready")
    assert collector.open_sockets == 2
    before = collector.last_frame
    await visitor.send({"type": "ping"})
    await visitor.next("pong")
    assert collector.last_frame > before
    await visitor.close()
    await console.close()
    for _ in range(200):
        if collector.open_sockets == 0:
            break
        await asyncio.sleep(0.01)
    assert (collector.open_sockets, collector.closed_since) == (0, 2)
