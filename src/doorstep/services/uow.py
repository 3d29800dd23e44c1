"""Unit of work: commit, then publish. A rolled-back transaction announces nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.events import Event
from doorstep.services.context import Ctx


class UnitOfWork:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        """Queue an event; it is published only once the transaction has committed."""
        self.events.append(event)


@asynccontextmanager
async def unit_of_work(ctx: Ctx) -> AsyncIterator[UnitOfWork]:
    async with ctx.db.transaction() as conn:
        uow = UnitOfWork(conn, ctx.clock.now())
        yield uow
    await _publish(ctx, uow)


@asynccontextmanager
async def one_statement(ctx: Ctx) -> AsyncIterator[UnitOfWork]:
    """A unit of work that is a single write statement, committed as it returns:
    PostgreSQL only (`Database.autocommitted`). A second write would not be part of the
    first one's transaction, so the block makes one (reads before it are free), and its
    events are published after it."""
    async with ctx.db.autocommitted() as (conn, _driver):
        uow = UnitOfWork(conn, ctx.clock.now())
        yield uow
    await _publish(ctx, uow)


async def _publish(ctx: Ctx, uow: UnitOfWork) -> None:
    if uow.events:
        await ctx.bus.publish(uow.events)


async def announce(ctx: Ctx, event: Event) -> None:
    """Publish an ephemeral event (typing, presence) that no transaction records."""
    assert event.ephemeral, "facts go through unit_of_work so they are committed first"
    await ctx.bus.publish((event,))
