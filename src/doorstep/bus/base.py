"""The bus interface shared by the in-process and the networked implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from doorstep.domain.events import Event

# Gets the events of one commit together, in order.
Handler = Callable[[Sequence[Event]], Awaitable[None]]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> None:
        """Announce the events of one commit (or one ephemeral event), in order, to every
        node's subscribers; each subscriber gets them in one call."""

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler` with the events of every publish; returns a function that
        unsubscribes."""
        ...

    async def ping(self) -> bool: ...
