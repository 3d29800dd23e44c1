"""A console session that ends stops its open sockets: sign-out, a new password, a removal
(or role change) through `end_sessions`, a session ended on another node, and expiry."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
from sqlalchemy import delete
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from doorstep.services import operators
from doorstep.services.uow import unit_of_work
from doorstep.store.tables import messages, operator_sessions
from doorstep.web.ws import hub
from tests.factories import Factory
from tests.wsclient import Socket, console_cookie, open_visitor

ENDED_WITHIN = 5.0  # seconds, as promised in docs/security.md


async def open_console(server, email: str) -> tuple[Socket, str]:
    """A console socket of a new session, and that session's cookie."""
    cookie = await console_cookie(server.url, email)
    ws = await connect(
        f"{server.ws_url}/console/ws", additional_headers={"Cookie": f"doorstep_session={cookie}"}
    )
    socket = Socket(ws)
    await socket.next("ready")
    await socket.send({"type": "ping"})
    await socket.next("pong")  # set up and answering: the hub knows it
    return socket, cookie


async def closed_with(socket: Socket, wait: float = ENDED_WITHIN) -> tuple[int | None, str]:
    """Reads until the server closes the socket; fails the test if it does not in time."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(wait):
            while True:
                await socket.ws.recv()
    return socket.ws.close_code, socket.ws.close_reason or ""


@pytest.fixture
async def team(factory: Factory):
    site = await factory.site()
    return site, await factory.operator(site)


async def test_signing_out_closes_that_sessions_sockets_and_no_other(server, team) -> None:
    site, operator = team
    console, cookie = await open_console(server, operator.email)
    other_browser, _ = await open_console(server, operator.email)
    async with httpx.AsyncClient(base_url=server.url, cookies={"doorstep_session": cookie}) as c:
        page = (await c.get("/console/")).text
        csrf = page.split('"csrf_token": "')[1].split('"')[0]
        assert (await c.post("/console/logout", data={"csrf_token": csrf})).status_code == 303
    assert await closed_with(console) == (4401, "session_ended")
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.send({"type": "message.send", "client_msg_id": "m1", "text": "Hello"})
    assert (await other_browser.next("message.created"))["message"]["text"] == "Hello"
    await other_browser.close()
    await visitor.close()


async def test_a_new_password_closes_every_console_of_the_operator(server, ctx, team) -> None:
    _site, operator = team
    first, _ = await open_console(server, operator.email)
    second, cookie = await open_console(server, operator.email)
    await operators.set_password(ctx, operator, "a brand new password")
    assert await closed_with(first) == (4401, "session_ended")
    assert await closed_with(second) == (4401, "session_ended")
    assert await operators.console_session(ctx, cookie) is None


async def test_ending_an_operators_sessions_closes_their_consoles(server, ctx, team) -> None:
    # What removing an operator or changing their role calls, in its own transaction.
    _site, operator = team
    console, cookie = await open_console(server, operator.email)
    async with unit_of_work(ctx) as uow:
        assert await operators.end_sessions(uow, operator.id) == 1
    assert await closed_with(console) == (4401, "session_ended")
    ws = await connect(
        f"{server.ws_url}/console/ws", additional_headers={"Cookie": f"doorstep_session={cookie}"}
    )
    assert await closed_with(Socket(ws)) == (4401, "sign in first")


async def test_a_session_ended_unannounced_does_nothing_more_on_an_open_socket(
    server, ctx, team
) -> None:
    """Ended where this node heard nothing of it (another node, a lost event): the socket's
    next write is refused by the look-up each frame makes, and the socket closes."""
    site, operator = team
    console, _ = await open_console(server, operator.email)
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.send({"type": "message.send", "client_msg_id": "m1", "text": "Hello"})
    conversation_id = (await console.next("message.created"))["message"]["conversation_id"]
    async with ctx.db.transaction() as conn:
        await conn.execute(delete(operator_sessions))
    await console.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_msg_id": "r1",
            "text": "sent after signing out",
        }
    )
    assert await closed_with(console) == (4401, "session_ended")
    async with ctx.db.read() as conn:
        texts = (await conn.execute(messages.select())).all()
    assert [row.text for row in texts] == ["Hello"]
    await visitor.close()


async def test_an_expired_sessions_console_closes(server, clock, team, monkeypatch) -> None:
    monkeypatch.setattr(hub, "EXPIRY_CHECK_SECONDS", 0.01)
    _site, operator = team
    console, _ = await open_console(server, operator.email)
    clock.advance(days=operators.SESSION_LIFETIME.days)
    assert await closed_with(console) == (4401, "session_expired")
