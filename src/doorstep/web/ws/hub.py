"""Fan-out of bus events to this node's sockets; the only door that subscribes to the bus.

A frame to a peer that keeps up is written at once, on the turn of the event loop that made
it, with no task. Only frames behind a send that has to wait (a peer reading slowly) queue in
the connection's short outbox, drained by a task that exists only until it is empty, so ten
thousand idle sockets cost no tasks (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any

import orjson
from starlette.websockets import WebSocket

from doorstep.clock import Clock, SystemClock
from doorstep.domain.events import Event

log = logging.getLogger(__name__)
MAX_OUTBOX = 500  # frames; a client this far behind reconnects and resumes from the database
# How often console sockets are checked for an expired session: well within the 5 s in
# which an ended session's sockets must close, and one cheap look at a few sockets.
EXPIRY_CHECK_SECONDS = 1.0
_SENDING = object()  # marks a reply being sent directly: pushes queue up behind it


class Connection:
    __slots__ = ("_drain", "closed", "contact_id", "operator_id", "outbox", "websocket")

    def __init__(
        self, websocket: WebSocket, operator_id: int | None = None, contact_id: int | None = None
    ) -> None:
        self.websocket = websocket
        self.operator_id = operator_id
        self.contact_id = contact_id
        self.outbox: list[str] = []
        self._drain: asyncio.Task[None] | object | None = None
        self.closed = False

    def push(self, frame: dict[str, Any] | str) -> None:
        """Send a frame, or queue it behind those not sent yet; frames leave in the order
        they were pushed."""
        if self.closed:
            return
        if len(self.outbox) >= MAX_OUTBOX:
            self.closed = True
            asyncio.get_running_loop().create_task(self._close_slow())
            return
        text = frame if isinstance(frame, str) else orjson.dumps(frame).decode()
        if self._drain is None:
            # Nothing ahead of it: sent on this turn of the event loop, with no task, unless
            # the peer reads too slowly (the send then waits in a task, the next frames
            # queue behind it).
            self._drain = start_eagerly(self._send_first(text))
            return
        self.outbox.append(text)

    async def _send_first(self, text: str) -> None:
        try:
            await self.websocket.send_text(text)
        except Exception:
            self.closed = True
        await self._send_all()  # what was pushed while it waited

    async def reply(self, frame: dict[str, Any]) -> None:
        """Answer from the receive loop: sent at once, with no task, when nothing is queued."""
        if self.closed:
            return
        if self._drain is not None or self.outbox:
            self.push(frame)
            return
        self._drain = _SENDING
        try:
            await self.websocket.send_text(orjson.dumps(frame).decode())
        except Exception:
            self.closed = True
        finally:
            self._drain = None
            if self.outbox and not self.closed:
                self._drain = asyncio.get_running_loop().create_task(self._send_all())

    async def _send_all(self) -> None:
        try:
            while self.outbox and not self.closed:
                await self.websocket.send_text(self.outbox.pop(0))
        except Exception:  # the peer went away; the receive loop notices and unregisters
            self.closed = True
        finally:
            self._drain = None

    async def _close_slow(self) -> None:
        await self.close(4408, "too slow")

    async def close(self, code: int, reason: str) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)


class Hub:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.operators_by_site: dict[int, set[Connection]] = defaultdict(set)
        self.visitors_by_contact: dict[int, set[Connection]] = defaultdict(set)
        # Console sockets by session, and when each one's session expires.
        self.operators_by_session: dict[int, set[Connection]] = defaultdict(set)
        self.session_expiry: dict[Connection, datetime] = {}
        self._expiry_checks: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def add_operator(self, conn: Connection, site_ids: set[int]) -> None:
        for site_id in site_ids:
            self.operators_by_site[site_id].add(conn)

    def remove_operator(self, conn: Connection, site_ids: set[int]) -> None:
        for site_id in site_ids:
            _discard(self.operators_by_site, site_id, conn)

    def watch_session(self, conn: Connection, session_id: int, expires_at: datetime) -> None:
        """Close this console socket when its session ends or expires."""
        self.operators_by_session[session_id].add(conn)
        self.session_expiry[conn] = expires_at
        if self._expiry_checks is None:  # only while a console socket is open
            self._expiry_checks = asyncio.get_running_loop().create_task(self._check_expiry())

    def unwatch_session(self, conn: Connection, session_id: int) -> None:
        _discard(self.operators_by_session, session_id, conn)
        self.session_expiry.pop(conn, None)
        if not self.session_expiry:
            self.close()

    def end_sessions(self, session_ids: Sequence[int]) -> None:
        """The sessions ended (signed out, a new password, a removal): their console sockets
        close with 4401 and hear nothing more; the console returns to the sign-in page."""
        for session_id in session_ids:
            for conn in self.operators_by_session.pop(session_id, set()):
                self.close_now(conn, 4401, "session_ended")

    def close_expired(self, now: datetime) -> None:
        """Close the console sockets whose session has expired by `now`."""
        for conn, expires_at in list(self.session_expiry.items()):
            if expires_at <= now and not conn.closed:
                self.close_now(conn, 4401, "session_expired")

    async def _check_expiry(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)
            self.close_expired(self.clock.now())

    def close(self) -> None:
        """At shutdown: no more expiry checks."""
        if self._expiry_checks is not None:
            self._expiry_checks.cancel()
            self._expiry_checks = None

    def close_now(self, conn: Connection, code: int, reason: str) -> None:
        """From now on the socket's frames are neither sent nor answered; its close follows."""
        conn.closed = True
        task = asyncio.get_running_loop().create_task(conn.close(code, reason))
        self._closing.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._closing.discard)

    def add_visitor(self, conn: Connection, contact_id: int) -> None:
        self.visitors_by_contact[contact_id].add(conn)

    def remove_visitor(self, conn: Connection, contact_id: int) -> None:
        _discard(self.visitors_by_contact, contact_id, conn)

    def visitor_count(self) -> int:
        return sum(len(conns) for conns in self.visitors_by_contact.values())

    def move_contact(self, old_contact_id: int, new_contact_id: int) -> None:
        """After a merge, the merged contact's sockets belong to the surviving contact."""
        for conn in self.visitors_by_contact.pop(old_contact_id, set()):
            conn.contact_id = new_contact_id
            self.visitors_by_contact[new_contact_id].add(conn)

    def sign_out(self, contact_id: int) -> None:
        """The contact's browsers were signed out: their sockets close with 4401 and hear
        nothing more of the contact; the widget starts again as a new anonymous visitor."""
        for conn in self.visitors_by_contact.pop(contact_id, set()):
            self.close_now(conn, 4401, "signed_out")

    async def deliver(self, events: Sequence[Event]) -> None:
        """Bus subscriber: route the events of one commit to the sockets of their audiences.

        Each socket gets all its frames of the commit before the next socket gets any: the
        first operator sees a new conversation's message after two frames, not after every
        operator has been sent the conversation.
        """
        frames: dict[Connection, list[str]] = {}
        for event in events:
            if event.type == "contact.merged":
                self.move_contact(event.meta["from"], event.meta["into"])
            elif event.type == "contact.signed_out":
                self.sign_out(event.meta["contact_id"])
            elif event.type == "operator.session_ended":
                self.end_sessions(event.meta["session_ids"])
            if event.operator_frame is not None:
                targets = {
                    conn
                    for site_id in event.operator_sites
                    for conn in self.operators_by_site.get(site_id, ())
                    if conn.operator_id != event.meta.get("operator_id")
                }
                if targets:  # encode once, and only when someone listens
                    text = orjson.dumps(event.operator_frame).decode()
                    for conn in targets:
                        frames.setdefault(conn, []).append(text)
            if event.visitor_frame is not None:
                sockets = [
                    c for cid in event.contacts for c in self.visitors_by_contact.get(cid, ())
                ]
                if sockets:
                    text = orjson.dumps(event.visitor_frame).decode()
                    for conn in sockets:
                        frames.setdefault(conn, []).append(text)
        for conn, texts in frames.items():
            for text in texts:
                conn.push(text)


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coro` right here until it first has to wait; a task finishes it from there.

    Returns that task, or None when `coro` finished without waiting. A frame sent this way
    leaves on this turn of the event loop, and costs no task when the peer keeps up.
    """
    try:
        waiting_for = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_resume(coro, waiting_for))


async def _resume(coro: Coroutine[Any, Any, None], waiting_for: Any) -> None:
    """Drive `coro` on from where it waited, as its own task would have."""
    while True:
        error: BaseException | None = None
        try:
            if waiting_for is None:  # a bare yield: one turn of the loop
                await asyncio.sleep(0)
            else:
                # Taken over as a task takes the future a coroutine yields to it.
                waiting_for._asyncio_future_blocking = False
                await waiting_for
        except asyncio.CancelledError as exc:
            # This task was cancelled; `coro` learns it from the future when the future was
            # cancelled with it, and here when the future had finished already.
            if waiting_for is None or not waiting_for.cancelled():
                error = exc
        except BaseException:  # the future's own failure: `coro` reads it from the future
            pass
        try:
            waiting_for = coro.send(None) if error is None else coro.throw(error)
        except StopIteration:
            return


def _discard(index: dict[int, set[Connection]], key: int, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None:
        conns.discard(conn)
        if not conns:
            del index[key]
