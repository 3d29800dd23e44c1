"""Full collections run in a quiet second, when overdue, or when many sockets have closed."""

from __future__ import annotations

import asyncio
import gc

from doorstep.web.collector import FullCollections, Policy, give_back, take_over


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def collections(**policy: float) -> tuple[FullCollections, Clock, list[int]]:
    clock, runs = Clock(), []

    def collect(generation: int) -> int:
        runs.append(generation)
        return 0

    return FullCollections(Policy(**policy), clock=clock, collect=collect), clock, runs


def test_a_quiet_second_a_minute_after_the_last_collection_runs_the_next() -> None:
    full, clock, _ = collections(quiet=1.0, least_apart=60.0)
    clock.now = 30.0
    assert full.reason_due() is None  # quiet, but the last collection was half a minute ago
    clock.now = 59.5
    full.frame_received()
    clock.now = 60.0
    assert full.reason_due() is None  # a minute, but a frame came half a second ago
    clock.now = 60.5
    assert full.reason_due() == "quiet"


def test_frames_keep_it_waiting_until_it_is_overdue() -> None:
    full, clock, _ = collections(quiet=1.0, least_apart=60.0, most_apart=600.0)
    while clock.now < 599.5:
        full.frame_received()
        assert full.reason_due() is None
        clock.now += 0.5
    clock.now = 600.0
    full.frame_received()
    assert full.reason_due() == "overdue"


def test_as_many_closed_sockets_as_open_ones_collect_at_once() -> None:
    full, _, runs = collections(closed_floor=3)
    for _ in range(10):
        full.socket_opened()
    full.frame_received()
    for _ in range(4):
        full.socket_closed()
    assert (full.open_sockets, full.reason_due()) == (6, None)  # 4 closed, 6 still open
    full.socket_closed()
    assert full.reason_due() == "sockets closed"  # 5 closed, 5 open

    full.collect("sockets closed")
    assert runs == [2] and full.closed_since == 0 and full.reason_due() is None
    full.socket_closed()
    full.socket_closed()
    assert full.reason_due() is None  # 2 closed: below the floor of 3 though 3 remain open


def test_a_collection_restarts_the_wait() -> None:
    full, clock, runs = collections(quiet=1.0, least_apart=60.0)
    clock.now = 100.0
    assert full.reason_due() == "quiet"
    full.collect("quiet")
    clock.now = 159.0
    assert full.reason_due() is None
    clock.now = 160.0
    assert full.reason_due() == "quiet" and runs == [2]


async def test_run_collects_when_due_and_stops_when_cancelled() -> None:
    full, clock, runs = collections(quiet=0.0, least_apart=10.0, check_every=0.001)
    running = asyncio.create_task(full.run())
    await asyncio.sleep(0.02)
    assert runs == []  # not due: the clock stands at 0
    clock.now = 10.0
    for _ in range(500):
        if runs:
            break
        await asyncio.sleep(0.001)
    assert runs == [2]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert running.cancelled()


def test_take_over_leaves_the_oldest_generation_to_the_policy() -> None:
    before = gc.get_threshold()
    previous = take_over()
    try:
        full_before = gc.get_stats()[2]["collections"]
        # Enough survivors and young collections that Python's own rule would start several
        # full collections.
        kept = [[] for _ in range(200_000)]
        for _ in range(20):
            cycles = [[None] for _ in range(50_000)]
            for cell in cycles:
                cell[0] = cell
            del cycles
        assert gc.get_stats()[2]["collections"] == full_before
        assert gc.get_stats()[1]["collections"] > 0
        del kept
    finally:
        give_back(previous)
    assert gc.get_threshold() == before
