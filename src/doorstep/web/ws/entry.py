"""The WebSocket endpoints, reached straight from the server rather than through the app.

Starlette would pass a socket through its middleware, its router and two layers that map
exceptions to responses, none of which does anything for a WebSocket here: each of those
layers stays on the socket's task for the socket's whole life (about a dozen coroutines and
their closures per open socket, which every full garbage collection examines) and wraps every
frame the socket sends in two more calls. This entry hands a socket to its handler directly
and everything else to the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

SocketHandler = Callable[[WebSocket], Awaitable[None]]


class SocketEntry:
    def __init__(self, app: ASGIApp, sockets: Mapping[str, SocketHandler]) -> None:
        self.app = app
        self.sockets = dict(sockets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            handler = self.sockets.get(scope["path"])
            if handler is not None:
                await handler(WebSocket(scope, receive=receive, send=send))
                return
        await self.app(scope, receive, send)
