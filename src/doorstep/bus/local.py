"""In-process bus for a single node.

Every event makes a JSON round trip, so anything that would not survive the networked bus
(sets, datetimes, dataclasses) fails here too, in tests, on one node. As a networked bus
does on each node, the event is decoded once and every subscriber gets that one copy:
subscribers read events and never change them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import orjson

from doorstep.bus.base import Handler
from doorstep.domain.events import Event

log = logging.getLogger(__name__)


class LocalBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._handlers.clear()

    async def publish(self, events: Sequence[Event]) -> None:
        received = tuple(
            Event.from_wire(orjson.loads(orjson.dumps(event.to_wire()))) for event in events
        )
        for handler in list(self._handlers):
            try:
                await handler(received)
            except Exception:  # one failing subscriber must not starve the others
                log.exception("bus subscriber failed on %s", [e.type for e in received])

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    async def ping(self) -> bool:
        return True
