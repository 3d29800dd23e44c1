"""A live server on its own thread and event loop, for tests whose client is synchronous.

Schemathesis and the socket fuzz drive the server from hypothesis, whose examples run
synchronously: a server on the test's own event loop would never get a turn while they wait
for an answer. Here the server, its context and the data it starts with live on a thread of
their own, and every log record at ERROR or above (an unhandled exception, a socket frame
that failed) is kept for the test to check.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from doorstep.app import build_app
from doorstep.bus.local import LocalBus
from doorstep.clock import ManualClock
from doorstep.config import Settings
from doorstep.services.context import Ctx, build_ctx

Seed = Callable[[Ctx], Awaitable[dict[str, Any]]]


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class ThreadedServer:
    """`url`, the `seeded` data, its `clock` and the errors logged while it runs
    (`take_errors`)."""

    def __init__(self, settings: Settings, seed: Seed) -> None:
        self.settings = settings
        self.seed = seed
        self.url = ""
        self.seeded: dict[str, Any] = {}
        self._errors = _Errors()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.clock = ManualClock()

    def take_errors(self) -> list[str]:
        """The errors logged since the last call, formatted with their tracebacks."""
        records, self._errors.records = self._errors.records, []
        return [self._errors.format(record) for record in records]

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to the test by `running`
            self._failure = exc
        finally:
            self._ready.set()

    def advance(self, **delta: float) -> None:
        """Move the server's clock, on the server's loop (rate limits refill with it)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(lambda: self.clock.advance(**delta))

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        ctx = build_ctx(self.settings, clock=self.clock, bus=LocalBus(wire_check=True))
        self.seeded = await self.seed(ctx)
        # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on accepted connections: with
        # proto 0 it does not, and each answer to a synchronous client on a kept-alive
        # connection waited ~40 ms for Nagle's algorithm and the delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            build_app(ctx.settings, ctx=ctx),
            http="httptools",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            log_config=None,  # uvicorn's records reach the root logger too
            log_level="warning",
            lifespan="on",
        )
        server = uvicorn.Server(config)
        loop = self._loop
        self._stop = lambda: loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.005)
            if task.done():
                task.result()  # the server failed to start: say why
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._ready.set()
        try:
            await task
        finally:
            sock.close()


@contextmanager
def running(settings: Settings, seed: Seed) -> Iterator[ThreadedServer]:
    server = ThreadedServer(settings, seed)
    logging.getLogger().addHandler(server._errors)
    thread = threading.Thread(target=server.run, name="threaded-server", daemon=True)
    thread.start()
    try:
        server._ready.wait(30)
        if server._failure is not None:
            raise server._failure
        yield server
    finally:
        if server._stop is not None:
            server._stop()
        thread.join(30)
        logging.getLogger().removeHandler(server._errors)
