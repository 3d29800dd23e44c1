"""Password hashing runs on threads of its own, a bounded number at once, never on the loop
(services/passwords.py); bench/sign_in_flood.py measures what that does for visitors."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

from argon2 import PasswordHasher

from doorstep.services.passwords import NICENESS, THREAD_PREFIX, Passwords


class WatchedHasher(PasswordHasher):
    """A real (cheap) Argon2 hasher that notes where and how many hashes run at once."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024)
        self.threads: set[str] = set()
        self.niceness: set[int] = set()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.niceness.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)

    def _leave(self) -> None:
        with self._lock:
            self.running -= 1

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._enter()
        try:
            threading.Event().wait(0.005)  # long enough for the others to pile up
            return super().hash(password, salt=salt)
        finally:
            self._leave()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self._enter()
        try:
            threading.Event().wait(0.005)
            return super().verify(hash, password)
        finally:
            self._leave()


async def test_hashes_run_on_the_password_threads_at_most_concurrency_at_once() -> None:
    hasher = WatchedHasher()
    passwords = Passwords(hasher, concurrency=2)
    stored = await passwords.hash("correct horse battery")
    results = await asyncio.gather(
        *(passwords.verify(stored, "correct horse battery") for _ in range(6)),
        *(passwords.verify(stored, "wrong") for _ in range(6)),
        *(passwords.hash(f"new password {n}") for n in range(4)),
    )
    assert results[:12] == [True] * 6 + [False] * 6
    assert threading.main_thread().name not in hasher.threads
    assert all(name.startswith(THREAD_PREFIX) for name in hasher.threads)
    assert hasher.most_at_once == 2
    if sys.platform == "linux":  # where a thread's priority is its own
        assert hasher.niceness == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)}
    passwords.close()


async def test_the_event_loop_keeps_turning_while_a_hash_runs() -> None:
    """The loop is not the thread doing the work: it runs other callbacks meanwhile."""
    release = threading.Event()

    class HeldHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            release.wait(5)
            return False

    passwords = Passwords(HeldHasher(time_cost=1, memory_cost=1024), concurrency=1)
    verifying = asyncio.ensure_future(passwords.verify("$argon2id$x", "pw"))
    for _ in range(5):
        await asyncio.sleep(0)  # would not come back if the verify held the loop
    assert not verifying.done()
    release.set()
    assert await verifying is False
    passwords.close()


async def test_sign_in_attempts_wait_for_one_of_the_places() -> None:
    passwords = Passwords(WatchedHasher(), concurrency=2)
    inside = 0
    most = 0

    async def attempt() -> None:
        nonlocal inside, most
        async with passwords.attempt():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(attempt() for _ in range(10)))
    assert most == 2
    passwords.close()


async def test_an_unknown_email_is_checked_against_a_hash_of_the_same_cost() -> None:
    hasher = WatchedHasher()
    passwords = Passwords(hasher)
    assert await passwords.verify(None, "anything") is False
    assert await passwords.verify("not a hash", "anything") is False
    assert passwords._dummy is not None and "m=1024,t=1" in passwords._dummy
    passwords.close()
