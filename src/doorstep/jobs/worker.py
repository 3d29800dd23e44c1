"""The job worker: claims due jobs, runs their handlers, sleeps until the next due time.

Every node runs one. Handlers must be idempotent and re-check state, because a job whose
worker died is claimed again when its lease runs out (docs/jobs.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain.events import Event
from doorstep.services.context import Ctx
from doorstep.services.jobs import JOB_SCHEDULED, claim_jobs, next_job_due, run_claimed

log = logging.getLogger(__name__)
Handler = Callable[[Ctx, dict[str, Any]], Awaitable[datetime | None]]
MAX_SLEEP = 60.0  # seconds; also bounds how late a job scheduled on another node can start


class Worker:
    def __init__(self, ctx: Ctx, handlers: dict[str, Handler], *, batch: int = 20) -> None:
        self.ctx = ctx
        self.handlers = handlers
        self.batch = batch
        self._wake = asyncio.Event()
        # When the worker will look next of its own accord; None while it is looking.
        self._sleeping_until: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = self.ctx.bus.subscribe(self._on_events)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def sleeping_until(self) -> datetime | None:
        """When the worker looks for due jobs next unless woken; None while it looks."""
        return self._sleeping_until

    async def _on_events(self, events: Sequence[Event]) -> None:
        if any(e.type == JOB_SCHEDULED and self._due_before_next_look(e) for e in events):
            self._wake.set()

    def _due_before_next_look(self, event: Event) -> bool:
        # A job due after the worker's next look needs no wake-up (and no database round):
        # the most common case, an automatic reply due in a minute while another is due sooner
        # or the worker sleeps its longest.
        sleeping_until = self._sleeping_until
        due_at = event.meta.get("due_at")
        if sleeping_until is None or not isinstance(due_at, str):
            return True
        try:
            return datetime.fromisoformat(due_at) < sleeping_until
        except ValueError:
            return True

    async def run_due(self) -> int:
        """Run every job due now; returns how many ran (tests call this with a manual clock)."""
        ran = 0
        while True:
            claimed = await claim_jobs(self.ctx, limit=self.batch)
            if not claimed:
                return ran
            for job in claimed:
                await run_claimed(self.ctx, job, self.handlers.get(job.kind))
                ran += 1

    async def _run(self) -> None:
        while True:
            # Cleared before looking, so a job scheduled while we look still wakes the sleep.
            self._wake.clear()
            try:
                await self.run_due()
                due = await next_job_due(self.ctx)
            except Exception:  # a database hiccup must not end the loop
                log.exception("job worker iteration failed")
                due = None
            now = self.ctx.clock.now()
            delay = MAX_SLEEP if due is None else (due - now).total_seconds()
            if delay > 0:
                delay = min(delay, MAX_SLEEP)
                self._sleeping_until = now + timedelta(seconds=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                self._sleeping_until = None
