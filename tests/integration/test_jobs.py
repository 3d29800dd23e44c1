"""Durable timers: due times on a manual clock, retries, leases, and no double runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from doorstep.jobs.handlers import HANDLERS
from doorstep.jobs.worker import Worker
from doorstep.services import jobs, operators
from doorstep.services.uow import unit_of_work
from doorstep.store import jobs as store


class Recorder:
    def __init__(self, fail_times: int = 0, again: timedelta | None = None) -> None:
        self.calls: list[dict] = []
        self.fail_times = fail_times
        self.again = again
        self.ctx = None

    async def __call__(self, ctx, payload):
        self.calls.append(payload)
        if len(self.calls) <= self.fail_times:
            raise RuntimeError("temporary trouble")
        return ctx.clock.now() + self.again if self.again else None


async def schedule(ctx, key: str, after: timedelta, kind: str = "test", **payload) -> None:
    async with unit_of_work(ctx) as uow:
        await jobs.schedule_job(uow, kind, key, uow.now + after, payload)


async def rows(ctx) -> list[dict]:
    async with ctx.db.read() as conn:
        return await store.pending(conn)


async def test_a_job_runs_once_when_due_and_not_before(ctx, clock) -> None:
    handler = Recorder()
    worker = Worker(ctx, {"test": handler})
    await schedule(ctx, "autoreply:1", timedelta(seconds=45), conversation=1)
    assert await worker.run_due() == 0
    clock.advance(seconds=44)
    assert await worker.run_due() == 0
    clock.advance(seconds=1)
    assert await worker.run_due() == 1
    assert await worker.run_due() == 0
    assert handler.calls == [{"conversation": 1}]
    assert await rows(ctx) == []


async def test_rescheduling_a_key_replaces_the_timer(ctx, clock) -> None:
    handler = Recorder()
    worker = Worker(ctx, {"test": handler})
    await schedule(ctx, "k", timedelta(seconds=10), n=1)
    await schedule(ctx, "k", timedelta(seconds=60), n=2)
    clock.advance(seconds=30)
    assert await worker.run_due() == 0
    clock.advance(seconds=30)
    assert await worker.run_due() == 1
    assert handler.calls == [{"n": 2}]


async def test_a_failing_job_is_retried_with_backoff_then_parked(ctx, clock) -> None:
    handler = Recorder(fail_times=100)
    worker = Worker(ctx, {"test": handler})
    await schedule(ctx, "k", timedelta(0))
    for _ in range(jobs.MAX_ATTEMPTS):
        assert await worker.run_due() == 1
        clock.advance(hours=2)
    assert await worker.run_due() == 0
    (parked,) = await rows(ctx)
    assert parked["attempts"] == jobs.MAX_ATTEMPTS
    assert "temporary trouble" in parked["last_error"]
    assert len(handler.calls) == jobs.MAX_ATTEMPTS


async def test_a_job_recovers_after_one_failure(ctx, clock) -> None:
    handler = Recorder(fail_times=1)
    worker = Worker(ctx, {"test": handler})
    await schedule(ctx, "k", timedelta(0))
    await worker.run_due()
    assert await worker.run_due() == 0  # backoff: not yet
    clock.advance(seconds=2)
    assert await worker.run_due() == 1
    assert await rows(ctx) == []


async def test_a_job_whose_worker_died_runs_again_after_its_lease_exactly_once(ctx, clock):
    await schedule(ctx, "k", timedelta(0))
    claimed = await jobs.claim_jobs(ctx, limit=10)  # claimed, then the process died
    assert [job.key for job in claimed] == ["k"]
    handler = Recorder()
    restarted = Worker(ctx, {"test": handler})
    assert await restarted.run_due() == 0  # the lease still holds
    clock.advance(seconds=jobs.LEASE.total_seconds() + 1)
    assert await restarted.run_due() == 1
    assert await restarted.run_due() == 0
    assert len(handler.calls) == 1


async def test_a_handler_can_schedule_its_next_run(ctx, clock) -> None:
    handler = Recorder(again=timedelta(hours=24))
    worker = Worker(ctx, {"test": handler})
    await schedule(ctx, "daily", timedelta(0))
    assert await worker.run_due() == 1
    clock.advance(hours=23)
    assert await worker.run_due() == 0
    clock.advance(hours=1)
    assert await worker.run_due() == 1
    assert len(await rows(ctx)) == 1


async def test_concurrent_claims_never_hand_out_the_same_job(ctx) -> None:
    for i in range(30):
        await schedule(ctx, f"k{i}", timedelta(0))
    batches = await asyncio.gather(*[jobs.claim_jobs(ctx, limit=7) for _ in range(6)])
    keys = [job.key for batch in batches for job in batch]
    assert sorted(keys) == sorted(f"k{i}" for i in range(30))


async def test_next_due_time_tells_the_worker_how_long_to_sleep(ctx, clock) -> None:
    assert await jobs.next_job_due(ctx) is None
    await schedule(ctx, "later", timedelta(minutes=5))
    await schedule(ctx, "sooner", timedelta(seconds=30))
    assert await jobs.next_job_due(ctx) == clock.now() + timedelta(seconds=30)


async def test_an_unknown_kind_is_parked_not_retried(ctx) -> None:
    worker = Worker(ctx, {})
    await schedule(ctx, "k", timedelta(0), kind="mystery")
    assert await worker.run_due() == 1
    (parked,) = await rows(ctx)
    assert "no handler" in parked["last_error"]
    assert await worker.run_due() == 0


async def test_expired_console_sessions_are_purged_daily(ctx, clock, factory) -> None:
    operator = await factory.operator()
    _op, token = await operators.sign_in(
        ctx, email=operator.email, password="correct horse battery"
    )
    await operators.schedule_housekeeping(ctx)
    clock.advance(days=15)
    assert await Worker(ctx, HANDLERS).run_due() == 1
    assert await operators.operator_for_session(ctx, token) is None
    (again,) = await rows(ctx)
    assert again["key"] == "purge_sessions"


class CountingWorker(Worker):
    looks = 0

    async def run_due(self) -> int:
        self.looks += 1
        return await super().run_due()


async def _until(condition) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in 5 s")


async def test_the_running_worker_wakes_for_a_job_due_before_its_next_look(ctx) -> None:
    done = asyncio.get_running_loop().create_future()

    async def handler(_ctx, payload):
        done.set_result(payload)

    worker = CountingWorker(ctx, {"test": handler})
    worker.start()
    try:
        await _until(lambda: worker.sleeping_until is not None)
        # Later than the worker's longest sleep: it would look in vain, so it is not woken.
        await schedule(ctx, "later", timedelta(hours=1))
        await asyncio.sleep(0.05)
        assert worker.looks == 1
        # Due before the next look: woken at once.
        await schedule(ctx, "now", timedelta(0), hello="world")
        assert await asyncio.wait_for(done, timeout=5) == {"hello": "world"}
        assert worker.looks == 2
    finally:
        await worker.stop()
