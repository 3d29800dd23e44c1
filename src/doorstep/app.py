"""build_app(): one ASGI application wiring every door to one context (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from doorstep import __version__
from doorstep.clock import Clock
from doorstep.config import Settings
from doorstep.jobs.handlers import HANDLERS
from doorstep.jobs.worker import Worker
from doorstep.services import operators
from doorstep.services.context import Ctx, build_ctx
from doorstep.store.migrate import upgrade
from doorstep.web import collector, errors, health
from doorstep.web.api import autoreplies, contacts, conversations, live, segments, sites
from doorstep.web.console.routes import console_routes
from doorstep.web.demo import demo_page
from doorstep.web.deps import plain_text
from doorstep.web.security import ConsoleHeaders
from doorstep.web.widget import routes as widget
from doorstep.web.ws.entry import SocketEntry
from doorstep.web.ws.hub import Hub
from doorstep.web.ws.operator import operator_socket
from doorstep.web.ws.visitor import visitor_socket

log = logging.getLogger(__name__)


def build_api() -> FastAPI:
    api = FastAPI(
        title="Doorstep API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        description="Conversations, messages, contacts and sites. Authenticate with "
        "`Authorization: Bearer <token>` (`doorstep create-token`).",
        dependencies=[Depends(plain_text)],
    )
    for router in (
        sites.router,
        conversations.router,
        contacts.router,
        live.router,
        segments.router,
        autoreplies.router,
    ):
        api.include_router(router, responses=errors.RESPONSES)
    for exc_type, handler in errors.HANDLERS.items():
        api.add_exception_handler(exc_type, handler)
    return api


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    demo_site_key: str | None = None,
    ctx: Ctx | None = None,
    full_collections: collector.FullCollections | None = None,
) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        context = ctx or build_ctx(settings, clock=clock)
        await upgrade(context.db)
        await context.bus.start()
        hub = Hub(context.clock)
        unsubscribe = context.bus.subscribe(hub.deliver)
        context.facts.start()
        worker = Worker(context, HANDLERS)
        worker.start()
        await operators.schedule_housekeeping(context)
        full_gc = full_collections or collector.FullCollections()
        collecting = asyncio.create_task(full_gc.run())
        thresholds = collector.take_over()
        try:
            yield {"ctx": context, "hub": hub, "collector": full_gc}
        finally:
            collector.give_back(thresholds)
            collecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collecting
            await worker.stop()
            await context.facts.stop()  # what visitors sent before shutdown is kept
            unsubscribe()
            hub.close()
            await context.bus.stop()
            await context.db.dispose()

    routes: list[BaseRoute] = [
        Route("/", lambda _r: RedirectResponse("/console/", status_code=307)),
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/widget.js", widget.widget_script),
        Route("/widget/v1/session", widget.start_session, methods=["POST"]),
        Route("/widget/v1/session", widget.session_preflight, methods=["OPTIONS"]),
        *console_routes(),
        Mount("/api/v1", build_api()),
    ]
    if demo_site_key:
        page = demo_page(settings.public_url, demo_site_key)
        routes += [
            Route("/demo/", page),
            Route("/demo/{page:str}", page),
            Route("/demo", lambda _r: RedirectResponse("/demo/")),
        ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(GZipMiddleware, minimum_size=1024), Middleware(ConsoleHeaders)],
    )
    return SocketEntry(app, {"/widget/v1/ws": visitor_socket, "/console/ws": operator_socket})
