"""The bus interface shared by the in-process and the networked implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from doorstep.domain.events import Event

Handler = Callable[[Event], Awaitable[None]]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Announce a committed fact to every node's subscribers."""

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler` for every event; returns a function that unsubscribes."""
        ...

    async def ping(self) -> bool: ...
