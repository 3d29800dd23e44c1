"""When the garbage collector's full collections run: in a quiet second, not mid-conversation.

A full collection examines every object the collector tracks; with a thousand sockets open that
is about 150,000 objects and 50 to 100 ms with the event loop stopped (docs/benchmarks.md). Python
starts one whenever a quarter more objects have survived into the oldest generation since the
last, which is exactly what happens while sockets open, in the middle of a chat. So Python keeps
its young and middle collections, which stay under a millisecond, and this module decides when
the full ones run:

- when no socket frame has arrived for `quiet` seconds, at most once every `least_apart` seconds;
- in any case `most_apart` seconds after the last one, so a node that is never quiet still
  reclaims its cycles;
- at once when as many sockets have closed since the last one as are open now (and at least
  `closed_floor`): each closed socket leaves a few kilobytes of reference cycles behind until a
  full collection frees them, so memory stays in proportion to what is open, as with Python's
  own rule.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Young collections every 700 net allocations; each one also examines the middle generation, so
# survivors are looked at again at the next one rather than piling up for ten (a middle
# collection then takes about 0.5 ms with a thousand sockets open instead of 1.5 to 8 ms); the
# oldest generation is never collected by Python itself (FullCollections does it).
THRESHOLDS = (700, 1, 2**31 - 1)


@dataclass(frozen=True, slots=True)
class Policy:
    """When full collections run (seconds, monotonic; see the module's docstring)."""

    quiet: float = 1.0
    least_apart: float = 60.0
    most_apart: float = 600.0
    closed_floor: int = 1000
    check_every: float = 0.5


class FullCollections:
    """Runs full collections when `Policy` allows; sockets report opening, frames and closing."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[int], int] = gc.collect,
    ) -> None:
        self.policy = policy or Policy()
        self._clock = clock
        self._collect = collect
        self.last_frame = float("-inf")
        self._last_collection = clock()
        self.open_sockets = 0
        self.closed_since = 0

    def socket_opened(self) -> None:
        self.open_sockets += 1

    def frame_received(self) -> None:
        self.last_frame = self._clock()

    def socket_closed(self) -> None:
        self.open_sockets -= 1
        self.closed_since += 1

    def reason_due(self) -> str | None:
        """Why a full collection should run now, or None while it can wait."""
        policy, now = self.policy, self._clock()
        since = now - self._last_collection
        if self.closed_since >= max(policy.closed_floor, self.open_sockets):
            return "sockets closed"
        if since >= policy.most_apart:
            return "overdue"
        if since >= policy.least_apart and now - self.last_frame >= policy.quiet:
            return "quiet"
        return None

    def collect(self, reason: str) -> int:
        started = time.perf_counter()
        found = self._collect(2)
        self._last_collection = self._clock()
        self.closed_since = 0
        log.debug(
            "full collection (%s): %d unreachable, %.1f ms",
            reason,
            found,
            1000 * (time.perf_counter() - started),
        )
        return found

    async def run(self) -> None:
        """Check the policy every `check_every` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.policy.check_every)
            reason = self.reason_due()
            if reason is not None:
                self.collect(reason)


def take_over() -> tuple[int, int, int]:
    """Freeze what start-up built and stop Python's own full collections; returns the old
    thresholds for `give_back`."""
    previous = gc.get_threshold()
    # Objects alive after start-up never become garbage; no collection needs to examine them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    return previous


def give_back(previous: tuple[int, int, int]) -> None:
    gc.set_threshold(*previous)
