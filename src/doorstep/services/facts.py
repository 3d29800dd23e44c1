"""One writer for high-rate facts: page views, page progress, tracked events.

Callers await their fact's commit (persist, then acknowledge), but facts that arrive while a
transaction is running are committed together in the next one. At low load a fact is written at
once; under load batches grow by themselves (and commits are spaced, see COMMIT_SPACING), so
one SQLite commit carries dozens to hundreds of rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.bus.base import Bus
from doorstep.domain.events import Event
from doorstep.store import tracking as store
from doorstep.store.engine import Database

log = logging.getLogger(__name__)
MAX_BATCH = 500
# Under load a commit starts at least this long after the previous one began, so that the
# facts arriving meanwhile share it: each commit costs the event loop about 0.2 ms (a pooled
# connection and a hop to SQLite's thread) and SQLite an fsync. A fact arriving after a quiet
# spell is written at once. 5 ms measured best at 3,600 page views per second
# (docs/benchmarks.md, "Tracking"): less CPU per page view than 0, 10 or 20 ms.
COMMIT_SPACING = 0.005


@dataclass(slots=True)
class Fact:
    page_view: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    visit_id: int | None = None
    contact_id: int | None = None
    at: datetime | None = None
    announce: list[Event] = field(default_factory=list)


class FactWriter:
    def __init__(self, db: Database, bus: Bus) -> None:
        self.db = db
        self.bus = bus
        self._queue: list[tuple[Fact, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # for benchmarks and tests: how many transactions carried the facts

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Write what is queued, then end the loop."""
        while self._queue:
            await self._flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def write(self, fact: Fact) -> None:
        """Return once the fact is committed; raise if it could not be stored."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((fact, future))
        if self._task is None:
            await self._flush()  # no loop running (a script or a test): write now
        else:
            self._wake.set()
        await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_commit = float("-inf")
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                wait = last_commit + COMMIT_SPACING - loop.time()
                if wait > 0 and len(self._queue) < MAX_BATCH:
                    await asyncio.sleep(wait)
                last_commit = loop.time()
                await self._flush()

    async def _flush(self) -> None:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        if not batch:
            return
        committed = [fact for fact, _ in batch]
        try:
            await self._commit(committed)
        except Exception:
            log.warning("a batch of %d facts failed; writing them one by one", len(batch))
            committed = []
            for fact, future in batch:
                try:
                    await self._commit([fact])
                except Exception as exc:
                    _settle(future, exc)
                else:
                    committed.append(fact)
                    _settle(future, None)
        else:
            for _, future in batch:
                _settle(future, None)
        self.batches += 1
        # Only what was stored is announced, and a batch's events together, as a commit's are.
        announced = [event for fact in committed for event in fact.announce]
        if announced:
            await self.bus.publish(announced)

    async def _commit(self, facts: list[Fact]) -> None:
        await store.write_facts(
            self.db,
            store.FactRows(
                page_views=[f.page_view for f in facts if f.page_view],
                progress=[f.progress for f in facts if f.progress],
                events=[f.event for f in facts if f.event],
                visits=_latest(facts, "visit_id", "b_visit"),
                contacts=_latest(facts, "contact_id", "b_contact"),
            ),
        )


def _latest(facts: Iterable[Fact], attribute: str, key: str) -> list[dict[str, Any]]:
    """One touch per visit or contact: the latest moment in the batch."""
    latest: dict[int, datetime] = {}
    for fact in facts:
        owner = getattr(fact, attribute)
        if (
            owner is not None
            and fact.at is not None
            and (owner not in latest or fact.at > latest[owner])
        ):
            latest[owner] = fact.at
    return [{key: owner, "b_at": at} for owner, at in latest.items()]


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
