"""Fixtures shared by every test: databases (SQLite always, PostgreSQL when configured),
a context with a manual clock, captured bus events, factories and a live server."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from doorstep.app import build_app
from doorstep.bus.local import LocalBus
from doorstep.clock import ManualClock
from doorstep.config import Settings
from doorstep.domain.events import Event
from doorstep.services.context import Ctx, build_ctx
from doorstep.services.jobs import JOB_SCHEDULED
from doorstep.store.engine import Database
from doorstep.store.migrate import upgrade
from doorstep.store.tables import metadata
from doorstep.web.collector import FullCollections
from tests.factories import Factory

PG_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def _migrate(url: str) -> None:
    async def run() -> None:
        db = Database(url)
        await upgrade(db)
        await db.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "doorstep.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    from doorstep.config import normalise_database_url

    url = normalise_database_url(PG_URL)
    _migrate(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "doorstep.db")
        return f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}"
    url = request.getfixturevalue("pg_migrated")
    _truncate(url)
    return url


def _truncate(url: str) -> None:
    async def run() -> None:
        engine = create_async_engine(url)
        names = ", ".join(t.name for t in metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(run())


def settings_for(database_url: str, data_dir: Path) -> Settings:
    """What every test server runs with: a fixed key and cheap password hashing."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://127.0.0.1",
        password_time_cost=1,
        password_memory_cost=1024,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def ctx(settings: Settings, clock: ManualClock) -> AsyncIterator[Ctx]:
    context = build_ctx(settings, clock=clock, bus=LocalBus(wire_check=True))
    yield context
    await context.db.dispose()


class CapturedEvents(list[Event]):
    def of_type(self, kind: str) -> list[Event]:
        return [event for event in self if event.type == kind]


@pytest.fixture
def events(ctx: Ctx) -> CapturedEvents:
    """Every event published on the bus for sockets, after its JSON round trip.

    Wake-ups of the job workers are left out: they are for other nodes, not for anyone's
    screen (tests/integration/test_jobs.py covers them).
    """
    captured = CapturedEvents()
    assert isinstance(ctx.bus, LocalBus)

    async def capture(published: Sequence[Event]) -> None:
        captured.extend(event for event in published if event.type != JOB_SCHEDULED)

    ctx.bus.subscribe(capture)
    return captured


@pytest.fixture
def factory(ctx: Ctx) -> Factory:
    return Factory(ctx)


class LiveServer:
    def __init__(self, url: str, ctx: Ctx, collector: FullCollections) -> None:
        self.url = url
        self.ws_url = url.replace("http://", "ws://")
        self.ctx = ctx
        self.collector = collector


@pytest.fixture
async def server(ctx: Ctx) -> AsyncIterator[LiveServer]:
    """The real ASGI stack (uvicorn, httptools, websockets) on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    collector = FullCollections()
    app = build_app(ctx.settings, ctx=ctx, demo_site_key="demo-shop", full_collections=collector)
    config = uvicorn.Config(
        app,
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=1024 * 1024,
        log_level="warning",
        lifespan="on",
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:
        await asyncio.sleep(0.005)
        if task.done():
            task.result()
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", ctx, collector)
    finally:
        uv.should_exit = True
        await task
        sock.close()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    # Browser tests last: Playwright's sync API keeps an event loop running in the main
    # thread while it is open, which no asyncio test may share.
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))
