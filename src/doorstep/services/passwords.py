"""Argon2 password hashing off the event loop, a few at a time (docs/security.md).

One hash costs tens to hundreds of milliseconds of CPU by design. On the event loop that
would stall every socket of the node for as long; on a thread it does not, because
argon2-cffi releases the GIL while it hashes. The threads are few (`concurrency`), so a flood
of sign-ins queues for them instead of taking every core from the loop, and at most that
many sign-in attempts are checked at once (`attempt`), so the throttle's count cannot be
overtaken by a burst of attempts that all read it before any failure was recorded. Where the
system allows it (Linux), the threads also run at a lower priority than the event loop, so
when the cores are busy a visitor's message goes before a sign-in's hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")
THREAD_PREFIX = "doorstep-password"
NICENESS = 10  # added to the threads' nice value: about a tenth of the loop's share of a core
# Argon2 computes each lane of a hash on a thread of its own; with argon2-cffi's default of 4
# lanes one hash took more than a core of a two-core machine and doubled the visitors'
# latency (bench/sign_in_flood.py). With one lane a hash is one thread, so `concurrency`
# bounds the cores. An attacker's work per guess (memory x passes) is the same.
LANES = 1


def password_hasher(time_cost: int = 3, memory_cost: int = 65536) -> PasswordHasher:
    """Argon2id at this cost, one lane; hashes made with more lanes still verify, and are
    made again with one at the next sign-in (`needs_rehash`)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=LANES)


class Passwords:
    def __init__(self, hasher: PasswordHasher, concurrency: int = 1) -> None:
        if concurrency < 1:
            raise ValueError("concurrency is at least 1")
        self.hasher = hasher
        self.concurrency = concurrency
        self._threads = ThreadPoolExecutor(
            concurrency, thread_name_prefix=THREAD_PREFIX, initializer=_yield_to_the_loop
        )
        self._attempts: asyncio.Semaphore | None = None
        self._dummy: str | None = None

    @asynccontextmanager
    async def attempt(self) -> AsyncIterator[None]:
        """Hold one of the `concurrency` places for a sign-in attempt, waiting for one."""
        if self._attempts is None:  # made on first use, inside the loop that uses it
            self._attempts = asyncio.Semaphore(self.concurrency)
        async with self._attempts:
            yield

    async def hash(self, password: str) -> str:
        return await self._off_loop(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether the password matches; without a stored hash (an unknown email) a dummy
        of the same cost is checked, so a wrong email takes as long as a wrong password."""
        if stored_hash is None:
            stored_hash = await self._dummy_hash()
        return await self._off_loop(self._matches, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _dummy_hash(self) -> str:
        # With this hasher's own cost, whatever the settings make it.
        if self._dummy is None:
            self._dummy = await self.hash("not anyone's password")
        return self._dummy

    async def _off_loop(self, work: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)


def _yield_to_the_loop() -> None:
    """Runs first on each password thread: lower its priority, not the whole process's
    (on Linux a thread id names the thread alone)."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS)
