"""Scheduling durable timers inside a unit of work (docs/jobs.md)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain.events import Event
from doorstep.services.context import Ctx
from doorstep.services.uow import UnitOfWork, unit_of_work
from doorstep.store import jobs as store

log = logging.getLogger(__name__)

JOB_SCHEDULED = "job.scheduled"


async def schedule_job(
    uow: UnitOfWork, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Schedule (or reschedule) the job `key` in the same transaction as the fact needing it.

    Once committed, workers on every node are woken to look at their next due time.
    """
    await store.enqueue(
        uow.conn, kind=kind, key=key, due_at=due_at, payload=payload or {}, now=uow.now
    )
    job_scheduled(uow, key, due_at)


def job_scheduled(uow: UnitOfWork, key: str, due_at: datetime) -> None:
    """Wake the workers on every node, once committed, for a job stored due at `due_at`."""
    uow.emit(Event(JOB_SCHEDULED, meta={"key": key, "due_at": due_at.isoformat()}))


async def cancel_job(uow: UnitOfWork, key: str) -> bool:
    return await store.cancel(uow.conn, key)


MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


async def claim_jobs(ctx: Ctx, *, limit: int) -> list[store.Job]:
    async with unit_of_work(ctx) as uow:
        return await store.claim_due(uow.conn, uow.now, limit=limit, lease=LEASE)


async def next_job_due(ctx: Ctx) -> datetime | None:
    async with ctx.db.read() as conn:
        return await store.next_due_at(conn)


async def run_claimed(ctx: Ctx, job: store.Job, handler: Any) -> None:
    """Run one claimed job: done, rescheduled by its handler, retried later, or parked."""
    if handler is None:
        await _failed(ctx, job, f"no handler for job kind {job.kind!r}", retry=False)
        return
    try:
        again_at = await handler(ctx, job.payload)
    except Exception as exc:
        log.warning("job %s failed (attempt %d): %s", job.key, job.attempts, exc)
        await _failed(ctx, job, f"{type(exc).__name__}: {exc}", retry=job.attempts < MAX_ATTEMPTS)
        return
    async with unit_of_work(ctx) as uow:
        await store.complete(uow.conn, job)
        if again_at is not None:
            await schedule_job(uow, job.kind, job.key, again_at, job.payload)


async def _failed(ctx: Ctx, job: store.Job, error: str, *, retry: bool) -> None:
    async with unit_of_work(ctx) as uow:
        retry_at = uow.now + timedelta(seconds=min(3600, 2 ** min(job.attempts, 12)))
        await store.fail(uow.conn, job, error=error, retry_at=retry_at if retry else None)
