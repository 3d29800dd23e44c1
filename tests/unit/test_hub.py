"""The hub routes each event to its audience's sockets and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from doorstep.clock import ManualClock
from doorstep.domain.events import Event
from doorstep.web.ws.hub import Connection, Hub, start_eagerly


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


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
        (
            Event(
                "message.created",
                operator_sites=(10,),
                contacts=(7,),
                operator_frame={"type": "op"},
                visitor_frame={"type": "vis"},
            ),
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
        (Event("presence.changed", operator_sites=(10, 20), operator_frame={"type": "presence"}),)
    )
    await hub.deliver(
        (
            Event(
                "typing.changed",
                operator_sites=(10,),
                operator_frame={"type": "typing"},
                meta={"operator_id": 1},
            ),
        )
    )
    await asyncio.sleep(0)
    assert op.websocket.sent == ['{"type":"presence"}']


async def test_a_signed_out_contacts_sockets_close_and_hear_nothing_more() -> None:
    hub = Hub()
    alice, other = Connection(FakeSocket()), Connection(FakeSocket())  # type: ignore[arg-type]
    hub.add_visitor(alice, 7)
    hub.add_visitor(other, 8)
    signed_out = Event("contact.signed_out", operator_sites=(1,), meta={"contact_id": 7})
    later = Event("message.created", contacts=(7, 8), visitor_frame={"type": "vis"})
    await hub.deliver((signed_out, later))
    assert alice.closed  # at once: the socket's next frame is not answered
    for _ in range(3):
        await asyncio.sleep(0)
    assert alice.websocket.closed_with == (4401, "signed_out")
    assert alice.websocket.sent == []
    assert other.websocket.sent == ['{"type":"vis"}'] and other.websocket.closed_with is None


async def test_an_ended_sessions_console_sockets_close_and_hear_nothing_more() -> None:
    hub = Hub()
    tab1, tab2, other = (Connection(FakeSocket(), 1) for _ in range(3))  # type: ignore[arg-type]
    expires_at = ManualClock().now() + timedelta(days=1)
    for tab, session_id in ((tab1, 100), (tab2, 100), (other, 101)):  # other: another browser
        hub.add_operator(tab, {10})
        hub.watch_session(tab, session_id, expires_at)
    ended = Event("operator.session_ended", meta={"operator_id": 1, "session_ids": [100]})
    later = Event("message.created", operator_sites=(10,), operator_frame={"type": "op"})
    await hub.deliver((ended, later))
    assert tab1.closed and tab2.closed  # at once: their next frame is not answered
    for _ in range(3):
        await asyncio.sleep(0)
    for tab in (tab1, tab2):
        assert tab.websocket.closed_with == (4401, "session_ended")
        assert tab.websocket.sent == []
    assert other.websocket.sent == ['{"type":"op"}'] and other.websocket.closed_with is None


async def test_sockets_of_an_expired_session_close_and_the_check_stops_with_the_last() -> None:
    clock = ManualClock()
    hub = Hub(clock)
    soon, later = Connection(FakeSocket(), 1), Connection(FakeSocket(), 2)  # type: ignore[arg-type]
    hub.watch_session(soon, 100, clock.now() + timedelta(minutes=1))
    hub.watch_session(later, 101, clock.now() + timedelta(days=1))
    assert hub._expiry_checks is not None  # one task for the node, while consoles are open
    hub.close_expired(clock.advance(minutes=1))
    await asyncio.sleep(0)
    assert soon.websocket.closed_with == (4401, "session_expired")
    assert later.websocket.closed_with is None and not later.closed
    hub.unwatch_session(soon, 100)
    assert hub._expiry_checks is not None
    hub.unwatch_session(later, 101)
    assert hub._expiry_checks is None and hub.operators_by_session == {}


async def test_removed_sockets_get_nothing() -> None:
    hub = Hub()
    visitor = Connection(FakeSocket())  # type: ignore[arg-type]
    hub.add_visitor(visitor, 7)
    hub.remove_visitor(visitor, 7)
    await hub.deliver((Event("x", contacts=(7,), visitor_frame={"type": "x"}),))
    await asyncio.sleep(0)
    assert visitor.websocket.sent == []
    assert hub.visitor_count() == 0


async def test_each_socket_gets_its_frames_of_a_commit_before_the_next_socket_gets_any() -> None:
    sends: list[tuple[str, str]] = []

    class Recording(FakeSocket):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        async def send_text(self, text: str) -> None:
            sends.append((self.name, text))

    hub = Hub()
    for n in (1, 2, 3):
        hub.add_operator(Connection(Recording(f"op{n}"), n), {10})  # type: ignore[arg-type]
    hub.add_visitor(Connection(Recording("visitor")), 7)  # type: ignore[arg-type]
    created = Event(
        "conversation.created",
        operator_sites=(10,),
        contacts=(7,),
        operator_frame={"type": "conversation.created"},
    )
    message = Event(
        "message.created",
        operator_sites=(10,),
        contacts=(7,),
        operator_frame={"type": "message.created"},
        visitor_frame={"type": "message.created"},
    )
    await hub.deliver((created, message))
    names = [name for name, _ in sends]
    assert sorted(names) == ["op1", "op1", "op2", "op2", "op3", "op3", "visitor"]
    for name in ("op1", "op2", "op3"):
        first = names.index(name)
        assert names[first + 1] == name  # its two frames back to back
        assert [text for who, text in sends if who == name] == [
            '{"type":"conversation.created"}',
            '{"type":"message.created"}',
        ]


class SlowSocket(FakeSocket):
    """A peer that reads slowly: each send waits until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.writable = asyncio.Event()

    async def send_text(self, text: str) -> None:
        await self.writable.wait()
        self.sent.append(text)


async def test_a_frame_to_a_peer_that_keeps_up_leaves_at_once_with_no_task() -> None:
    conn = Connection(FakeSocket())  # type: ignore[arg-type]
    tasks_before = len(asyncio.all_tasks())
    conn.push({"type": "a"})
    conn.push("b")
    assert conn.websocket.sent == ['{"type":"a"}', "b"]  # no turn of the loop in between
    assert len(asyncio.all_tasks()) == tasks_before and conn.outbox == []


async def test_frames_behind_a_waiting_send_leave_after_it_in_order() -> None:
    socket = SlowSocket()
    conn = Connection(socket)  # type: ignore[arg-type]
    conn.push("1")
    conn.push("2")
    await conn.reply({"type": "3"})  # queued behind: a reply never overtakes a push
    assert socket.sent == [] and conn.outbox == ["2", '{"type":"3"}']
    socket.writable.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert socket.sent == ["1", "2", '{"type":"3"}']
    conn.push("4")  # the peer keeps up again: straight out
    assert socket.sent[-1] == "4" and conn.outbox == []


async def test_a_peer_gone_mid_send_closes_the_connection() -> None:
    class GoneSocket(SlowSocket):
        async def send_text(self, text: str) -> None:
            await self.writable.wait()
            raise RuntimeError("disconnected")

    socket = GoneSocket()
    conn = Connection(socket)  # type: ignore[arg-type]
    conn.push("1")
    conn.push("2")
    socket.writable.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert conn.closed and socket.sent == []
    conn.push("3")  # dropped: the receive loop unregisters the connection
    assert conn.outbox == ["2"]  # left unsent: the connection is closed


async def test_start_eagerly_runs_to_the_first_wait_and_a_task_does_the_rest() -> None:
    steps: list[str] = []
    gate = asyncio.Event()

    async def work() -> None:
        steps.append("before")
        await gate.wait()
        steps.append("after")

    task = start_eagerly(work())
    assert steps == ["before"] and task is not None
    gate.set()
    await task
    assert steps == ["before", "after"]

    async def quick() -> None:
        steps.append("quick")

    assert start_eagerly(quick()) is None and steps[-1] == "quick"


async def test_start_eagerly_passes_on_failures_and_cancellation() -> None:
    failing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def reads_the_failure() -> None:
        try:
            await failing
        except ValueError:
            seen.append("value error")

    task = start_eagerly(reads_the_failure())
    assert task is not None
    failing.set_exception(ValueError("boom"))
    await task
    assert seen == ["value error"]

    async def cleans_up() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("cleaned up")

    task = start_eagerly(cleans_up())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled() and seen[-1] == "cleaned up"
