"""Abuse limits of the public doors over the real server (docs/security.md, "Abuse limits"):
each limit answers as documented, stores nothing, leaves other addresses and visitors alone,
and lifts when its window has passed (the context's manual clock)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from doorstep.config import Settings
from doorstep.domain.rate_limits import AbuseLimits, Rate
from doorstep.services import conversations as conversation_service
from doorstep.services import operators
from doorstep.store.tables import contacts, conversations, messages, visitor_events, visitors
from tests.factories import Factory
from tests.wsclient import Socket

OTHER = "203.0.113.50"  # a second client, as the trusted proxy on loopback reports it
LOOSE = Rate(1000, 60)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so that a test reaches each with a few requests; loopback is a trusted
    proxy, so that X-Forwarded-For names other clients."""
    limits = AbuseLimits(
        sessions=Rate(3, 600),
        conversations=Rate(2, 600),
        messages=Rate(3, 60),
        address_messages=Rate(5, 60),
        tracking=Rate(3, 60),
        address_tracking=Rate(5, 60),
        sockets=2,
    )
    return replace(settings, abuse_limits=limits, trusted_proxies=("127.0.0.1",))


@pytest.fixture
async def site(factory: Factory):
    return await factory.site(key="shop-key")


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield client


async def start(
    http: httpx.AsyncClient,
    *,
    token: str | None = None,
    address: str | None = None,
    origin: str | None = None,
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    if origin:
        headers["Origin"] = origin
    return await http.post(
        "/widget/v1/session", json={"site": "shop-key", "token": token}, headers=headers
    )


async def open_socket(
    server, token: str, *, address: str | None = None, origin: str | None = None
) -> Socket:
    headers = {"X-Forwarded-For": address} if address else {}
    ws = await connect(
        f"{server.ws_url}/widget/v1/ws?site=shop-key&token={token}",
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
    )
    return Socket(ws)


async def new_visitor(server, http, *, address: str | None = None) -> tuple[Socket, str]:
    response = await start(http, address=address)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    socket = await open_socket(server, token, address=address)
    await socket.next("ready")
    return socket, token


async def rows(ctx, table) -> int:
    async with ctx.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def closed_with(socket: Socket) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next(wait=5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def refused(frame: dict[str, Any], retry_after: int, **ids: str) -> None:
    assert frame["type"] == "error" and frame["code"] == "rate_limited", frame
    assert frame["retry_after"] == retry_after
    for name, value in ids.items():
        assert frame[name] == value


async def test_new_widget_sessions_are_limited_per_address(server, http, site) -> None:
    ctx = server.ctx
    tokens = [(await start(http)).json()["token"] for _ in range(3)]
    over = await start(http)
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limited"
    assert over.json()["error"]["retry_after"] == 200  # 3 per 600 s: one back every 200 s
    assert over.headers["retry-after"] == "200"
    # The widget on another origin can read the answer and its Retry-After.
    assert over.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in over.headers["access-control-expose-headers"]
    assert (await rows(ctx, visitors), await rows(ctx, contacts)) == (3, 3)
    # A forged token makes no visitor either.
    assert (await start(http, token="forged.token")).status_code == 429
    # Coming back with a valid token creates nothing, and is not counted.
    assert (await start(http, token=tokens[0])).status_code == 200
    # Another client is not affected.
    assert (await start(http, address=OTHER)).status_code == 200
    assert await rows(ctx, visitors) == 4

    ctx.clock.advance(seconds=199)
    assert (await start(http)).status_code == 429
    ctx.clock.advance(seconds=1)
    assert (await start(http)).status_code == 200
    assert (await start(http)).status_code == 429


async def test_an_ipv6_client_counts_as_its_whole_64(server, http, site) -> None:
    for n in range(3):
        assert (await start(http, address=f"2001:db8:5:6::{n + 1}")).status_code == 200
    assert (await start(http, address="2001:db8:5:6:ffff::9")).status_code == 429
    assert (await start(http, address="2001:db8:5:7::1")).status_code == 200


async def test_new_conversations_are_limited_per_address(server, http, site) -> None:
    ctx = server.ctx
    first, second, third = [(await new_visitor(server, http))[0] for _ in range(3)]
    for n, socket in enumerate((first, second)):
        await socket.send({"type": "message.send", "client_msg_id": f"m{n}", "text": "Hi"})
        assert (await socket.next("message.ack"))["message"]["seq"] == 1
    await third.send({"type": "message.send", "client_msg_id": "m3", "text": "Hi"})
    refused(await third.next("error"), 300, client_msg_id="m3")
    assert (await rows(ctx, conversations), await rows(ctx, messages)) == (2, 2)

    # Visitors who have a conversation go on writing in it.
    await first.send({"type": "message.send", "client_msg_id": "m4", "text": "More"})
    assert (await first.next("message.ack"))["message"]["seq"] == 2
    # A visitor of another client starts one.
    other, _ = await new_visitor(server, http, address=OTHER)
    await other.send({"type": "message.send", "client_msg_id": "o1", "text": "Hi"})
    await other.next("message.ack")

    ctx.clock.advance(seconds=300)
    await third.send({"type": "message.send", "client_msg_id": "m3", "text": "Hi"})
    assert (await third.next("message.ack"))["message"]["text"] == "Hi"
    for socket in (first, second, third, other):
        await socket.close()


async def test_a_resolved_conversation_reopens_over_the_conversation_limit(
    server, http, site, factory
) -> None:
    ctx = server.ctx
    socket, _ = await new_visitor(server, http)
    await socket.send({"type": "message.send", "client_msg_id": "m1", "text": "Hi"})
    conversation_id = (await socket.next("message.ack"))["message"]["conversation_id"]
    for n in range(2):  # the address's other new conversation, and one it is refused
        other, _ = await new_visitor(server, http)
        await other.send({"type": "message.send", "client_msg_id": f"x{n}", "text": "Hi"})
        await other.next("message.ack" if n == 0 else "error")
        await other.close()
    operator = await factory.operator(site)
    await conversation_service.set_conversation_status(ctx, operator, conversation_id, "resolved")
    await socket.send({"type": "message.send", "client_msg_id": "m2", "text": "Again"})
    ack = await socket.next("message.ack")
    assert ack["message"]["conversation_id"] == conversation_id
    await socket.close()


async def test_messages_are_limited_per_visitor(server, http, site) -> None:
    ctx = server.ctx
    socket, _ = await new_visitor(server, http)
    neighbour, _ = await new_visitor(server, http)
    for n in range(3):
        await socket.send({"type": "message.send", "client_msg_id": f"m{n}", "text": "Hi"})
        await socket.next("message.ack")
    await socket.send({"type": "message.send", "client_msg_id": "m3", "text": "Hi"})
    refused(await socket.next("error"), 20, client_msg_id="m3")
    await socket.send({"type": "email.submit", "client_msg_id": "e1", "email": "a@b.example"})
    refused(await socket.next("error"), 20, client_msg_id="e1")
    assert await rows(ctx, messages) == 3
    # Another visitor at the same address still writes.
    await neighbour.send({"type": "message.send", "client_msg_id": "n1", "text": "Hi"})
    await neighbour.next("message.ack")

    ctx.clock.advance(seconds=20)
    await socket.send({"type": "message.send", "client_msg_id": "m3", "text": "Hi"})
    assert (await socket.next("message.ack"))["client_msg_id"] == "m3"
    await socket.close()
    await neighbour.close()


async def test_messages_are_limited_per_address(server, http, site) -> None:
    ctx = server.ctx
    sockets = [(await new_visitor(server, http))[0] for _ in range(2)]
    for n in range(5):  # 3 and 2: each visitor within its own limit
        socket = sockets[n // 3]
        await socket.send({"type": "message.send", "client_msg_id": f"m{n}", "text": "Hi"})
        await socket.next("message.ack")
    await sockets[1].send({"type": "message.send", "client_msg_id": "m5", "text": "Hi"})
    refused(await sockets[1].next("error"), 12, client_msg_id="m5")  # 5 per 60 s
    assert await rows(ctx, messages) == 5
    other, _ = await new_visitor(server, http, address=OTHER)
    await other.send({"type": "message.send", "client_msg_id": "o1", "text": "Hi"})
    await other.next("message.ack")
    for socket in (*sockets, other):
        await socket.close()


async def test_tracking_frames_are_limited_per_visitor_and_per_address(server, http, site) -> None:
    ctx = server.ctx
    socket, _ = await new_visitor(server, http)
    for n in range(3):
        await socket.send({"type": "event.track", "name": "cart", "client_msg_id": f"t{n}"})
        await socket.next("event.ack")
    await socket.send({"type": "event.track", "name": "cart", "client_msg_id": "t3"})
    refused(await socket.next("error"), 20, client_msg_id="t3")
    page = {"type": "page.view", "client_id": "pv1", "url": "https://shop.example/"}
    await socket.send(page)
    refused(await socket.next("error"), 20, client_id="pv1")
    await socket.send({"type": "visitor.set", "attributes": {"plan": "pro"}, "client_msg_id": "s"})
    refused(await socket.next("error"), 20, client_msg_id="s")
    assert await rows(ctx, visitor_events) == 3
    # Messages are counted apart from tracking.
    await socket.send({"type": "message.send", "client_msg_id": "m1", "text": "Hi"})
    await socket.next("message.ack")

    # The address's 5: two more from a neighbour, then it is refused too.
    neighbour, _ = await new_visitor(server, http)
    for n in range(2):
        await neighbour.send({"type": "event.track", "name": "x", "client_msg_id": f"n{n}"})
        await neighbour.next("event.ack")
    await neighbour.send({"type": "event.track", "name": "x", "client_msg_id": "n2"})
    refused(await neighbour.next("error"), 12, client_msg_id="n2")
    other, _ = await new_visitor(server, http, address=OTHER)
    await other.send({"type": "event.track", "name": "x", "client_msg_id": "o1"})
    await other.next("event.ack")
    assert await rows(ctx, visitor_events) == 6

    ctx.clock.advance(seconds=60)
    await socket.send(page)
    await socket.next("page.ack")
    for each in (socket, neighbour, other):
        await each.close()


async def test_open_sockets_are_limited_per_visitor_token(server, http, site) -> None:
    ctx = server.ctx
    first, token = await new_visitor(server, http)
    second = await open_socket(server, token)
    await second.next("ready")
    third = await open_socket(server, token)
    assert await closed_with(third) == (4429, "too_many_sockets")
    # Another visitor's sockets are theirs.
    other, _ = await new_visitor(server, http)
    visitor_id = (await start(http, token=token)).json()["visitor_id"]

    await second.close()
    for _ in range(500):  # the server hears of the close on its own time
        if ctx.abuse.sockets.held(visitor_id) < 2:
            break
        await asyncio.sleep(0.01)
    again = await open_socket(server, token)
    await again.next("ready")
    for socket in (first, again, other):
        await socket.close()


async def test_a_flood_of_frames_on_one_socket_says_when_to_retry(server, http, site) -> None:
    socket, _ = await new_visitor(server, http)
    for _ in range(60):
        await socket.send({"type": "ping"})
    replies = [await socket.next() for _ in range(60)]
    errors = [r for r in replies if r["type"] == "error"]
    assert errors and all(r["code"] == "rate_limited" and r["retry_after"] == 1 for r in errors)
    await socket.close()


@pytest.fixture
async def admin_api(factory: Factory, ctx, server, site):
    admin = await factory.operator(site, role="admin")
    token = await operators.create_api_token(ctx, admin, name="admin")
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


async def test_a_site_lists_the_origins_allowed_to_load_its_widget(
    server, http, site, admin_api
) -> None:
    ctx = server.ctx
    token = (await start(http)).json()["token"]
    changed = await admin_api.patch(
        f"/sites/{site.id}",
        json={"allowed_origins": ["https://Shop.example.com/", "http://localhost:3000"]},
    )
    assert changed.status_code == 200, changed.text
    listed = ["https://shop.example.com", "http://localhost:3000"]
    assert changed.json()["data"]["allowed_origins"] == listed
    assert (await admin_api.get(f"/sites/{site.id}")).json()["data"]["allowed_origins"] == listed

    before = await rows(ctx, visitors)
    for origin in ("https://evil.example", "https://shop.example.com.evil.example", None):
        answer = await start(http, origin=origin)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "origin_not_allowed"
        assert answer.headers["access-control-allow-origin"] == "*"
        socket = await open_socket(server, token, origin=origin)
        assert await closed_with(socket) == (4403, "origin_not_allowed")
    assert await rows(ctx, visitors) == before

    assert (await start(http, origin="https://shop.example.com")).status_code == 200
    socket = await open_socket(server, token, origin="http://localhost:3000")
    await socket.next("ready")
    await socket.close()

    # An empty list lets every origin in again.
    await admin_api.patch(f"/sites/{site.id}", json={"allowed_origins": []})
    assert (await start(http, origin="https://evil.example")).status_code == 200


@pytest.mark.parametrize(
    "origins",
    [
        ["shop.example.com"],
        ["https://shop.example.com/checkout"],
        ["ftp://shop.example.com"],
        ["https://shop.example.com:70000"],
        "https://shop.example.com",
        [f"https://s{n}.example.com" for n in range(51)],
    ],
)
async def test_allowed_origins_are_checked(site, admin_api, origins) -> None:
    answer = await admin_api.patch(f"/sites/{site.id}", json={"allowed_origins": origins})
    assert answer.status_code == 422, answer.text
    assert (await admin_api.get(f"/sites/{site.id}")).json()["data"]["allowed_origins"] == []
