"""The hub routes each event to its audience's sockets and nowhere else."""

from __future__ import annotations

import asyncio

from doorstep.domain.events import Event
from doorstep.web.ws.hub import Connection, Hub


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)


async def test_operator_and_visitor_frames_go_to_their_own_audiences() -> None:
    hub = Hub()
    op_a, op_b, visitor = (
        Connection(FakeSocket(), 1),
        Connection(FakeSocket(), 2),  # type: ignore[arg-type]
        Connection(FakeSocket()),
    )  # type: ignore[arg-type]
    hub.add_operator(op_a, {10})
    hub.add_operator(op_b, {20})
    hub.add_visitor(visitor, 7)
    await hub.deliver(
        Event(
            "message.created",
            operator_sites=(10,),
            contacts=(7,),
            operator_frame={"type": "op"},
            visitor_frame={"type": "vis"},
        )
    )
    await asyncio.sleep(0)
    assert op_a.websocket.sent == ['{"type":"op"}']
    assert op_b.websocket.sent == []
    assert visitor.websocket.sent == ['{"type":"vis"}']


async def test_an_operator_in_two_sites_gets_one_copy_and_not_their_own_typing() -> None:
    hub = Hub()
    op = Connection(FakeSocket(), 1)  # type: ignore[arg-type]
    hub.add_operator(op, {10, 20})
    await hub.deliver(
        Event("presence.changed", operator_sites=(10, 20), operator_frame={"type": "presence"})
    )
    await hub.deliver(
        Event(
            "typing.changed",
            operator_sites=(10,),
            operator_frame={"type": "typing"},
            meta={"operator_id": 1},
        )
    )
    await asyncio.sleep(0)
    assert op.websocket.sent == ['{"type":"presence"}']


async def test_removed_sockets_get_nothing() -> None:
    hub = Hub()
    visitor = Connection(FakeSocket())  # type: ignore[arg-type]
    hub.add_visitor(visitor, 7)
    hub.remove_visitor(visitor, 7)
    await hub.deliver(Event("x", contacts=(7,), visitor_frame={"type": "x"}))
    await asyncio.sleep(0)
    assert visitor.websocket.sent == []
    assert hub.visitor_count() == 0
