"""Fan-out of bus events to this node's sockets; the only door that subscribes to the bus.

Each connection keeps a short outbox drained by a task that exists only while there is
something to send, so ten thousand idle sockets cost no tasks (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

import orjson
from starlette.websockets import WebSocket

from doorstep.domain.events import Event

log = logging.getLogger(__name__)
MAX_OUTBOX = 500  # frames; a client this far behind reconnects and resumes from the database
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
        """Queue a frame; frames leave in the order they were pushed."""
        if self.closed:
            return
        if len(self.outbox) >= MAX_OUTBOX:
            self.closed = True
            asyncio.get_running_loop().create_task(self._close_slow())
            return
        self.outbox.append(frame if isinstance(frame, str) else orjson.dumps(frame).decode())
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._send_all())

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
        with contextlib.suppress(Exception):
            await self.websocket.close(code=4408, reason="too slow")


class Hub:
    def __init__(self) -> None:
        self.operators_by_site: dict[int, set[Connection]] = defaultdict(set)
        self.visitors_by_contact: dict[int, set[Connection]] = defaultdict(set)

    def add_operator(self, conn: Connection, site_ids: set[int]) -> None:
        for site_id in site_ids:
            self.operators_by_site[site_id].add(conn)

    def remove_operator(self, conn: Connection, site_ids: set[int]) -> None:
        for site_id in site_ids:
            _discard(self.operators_by_site, site_id, conn)

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

    async def deliver(self, event: Event) -> None:
        """Bus subscriber: route one event to the sockets of its audience."""
        if event.type == "contact.merged":
            self.move_contact(event.meta["from"], event.meta["into"])
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
                    conn.push(text)
        if event.visitor_frame is not None:
            sockets = [c for cid in event.contacts for c in self.visitors_by_contact.get(cid, ())]
            if sockets:
                text = orjson.dumps(event.visitor_frame).decode()
                for conn in sockets:
                    conn.push(text)


def _discard(index: dict[int, set[Connection]], key: int, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None:
        conns.discard(conn)
        if not conns:
            del index[key]
