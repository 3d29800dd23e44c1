"""SQLite's WAL checkpoints, made on a thread of their own instead of inside a commit.

By default SQLite copies the write-ahead log back into the database file from within the
COMMIT that takes the log past 1,000 pages: that one commit writes megabytes and syncs the
database file, and a chat message waits 100 ms or more behind it (with the writer's commits
on the event loop's thread, every socket waits too; docs/benchmarks.md). The writer
connection therefore turns automatic checkpoints off (`PRAGMA wal_autocheckpoint=0`) and
this thread checkpoints instead, once a second:

- PASSIVE first: it copies what is committed without taking any lock a writer needs, so
  messages go on being written while it works;
- RESTART when the log is still long afterwards (writes never stopped long enough for the
  writer to start the log over): it waits for the writer's current transaction, copies the
  few pages written meanwhile, and makes the next commit start the log from its beginning,
  so the log cannot grow without bound under steady traffic. While it waits for readers
  still on the old log, new write transactions wait too, so it gives up after 200 ms (a
  long read) and tries again a second later;
- TRUNCATE when asked (`truncate`, after an erasure): like RESTART, and the log file is then
  cut to nothing, so that no image of a page from before the erasure (the erased text) is
  left in it. Until a reader still on a snapshot from before the erasure is done, it cannot
  be; each later pass tries again until it succeeds.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0
# Log pages (4 KiB each by default) past which a checkpoint also restarts the log: about
# ten seconds of steady messages at 200 a second.
RESTART_PAGES = 16000
# How long the RESTART waits for the writer's transaction and for readers, in milliseconds;
# writers wait as long while it does.
RESTART_WAIT_MS = 200
# The same for a TRUNCATE, once per try.
TRUNCATE_WAIT_MS = 200


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What one checkpoint found: pages in the log, pages copied, and whether it restarted."""

    log_pages: int
    copied_pages: int
    restarted: bool
    truncated: bool = False  # the log file is empty


class Checkpointer:
    """Checkpoints one SQLite database's WAL from a daemon thread (started by `start`)."""

    def __init__(
        self,
        path: str,
        *,
        interval: float = INTERVAL_SECONDS,
        restart_pages: int = RESTART_PAGES,
    ) -> None:
        self.path = path
        self.interval = interval
        self.restart_pages = restart_pages
        self.passes = 0
        self.running = False  # a checkpoint is under way (read by the writer, any thread)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one checkpoint at a time: the thread's or a caller's
        self._truncate_wanted = False  # guarded by _lock

    def start(self) -> None:
        """Start the thread; calling it again while it runs does nothing."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="doorstep-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for a checkpoint under way to finish."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    def checkpoint(self) -> Checkpoint:
        """One pass: copy what is committed; restart the log if it is still long, or
        truncate it if that is wanted still."""
        with self._lock:
            return self._pass()

    def truncate(self) -> bool:
        """Copy the whole log into the database file and cut the log file to nothing;
        return whether that is done. If a reader still needs the log, the thread's passes
        try again until it is. Call it after the commit whose old pages are to go."""
        with self._lock:
            # Set under the lock: a pass under way may have begun before that commit.
            self._truncate_wanted = True
            try:
                return self._pass().truncated
            except sqlite3.Error:  # still wanted: the thread's next pass tries again
                log.warning("SQLite checkpoint failed", exc_info=True)
                return False

    def _pass(self) -> Checkpoint:
        connection = sqlite3.connect(self.path, isolation_level=None)
        self.running = True
        try:
            return self._checkpoint(connection)
        finally:
            self.running = False
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> Checkpoint:
        # PASSIVE first in every case: it copies without holding writers up, which leaves
        # a RESTART or a TRUNCATE only the few pages written since.
        _busy, log_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        restarted = truncated = False
        if self._truncate_wanted:
            # Its figures after success are zeros: keep those of the PASSIVE.
            busy, _, _ = _waiting(connection, "TRUNCATE", TRUNCATE_WAIT_MS)
            restarted = truncated = not busy
            self._truncate_wanted = not truncated
            if busy:
                log.info("the SQLite log is still being read; a later pass empties it")
        elif log_pages >= self.restart_pages:
            busy, log_pages, copied = _waiting(connection, "RESTART", RESTART_WAIT_MS)
            restarted = not busy
        self.passes += 1
        return Checkpoint(max(log_pages, 0), max(copied, 0), restarted, truncated)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.checkpoint()
            except sqlite3.Error:
                # The next pass tries again; the log only grows until one succeeds.
                log.warning("SQLite checkpoint failed", exc_info=True)


def _waiting(connection: sqlite3.Connection, mode: str, wait_ms: int) -> tuple[int, int, int]:
    """A checkpoint that waits up to `wait_ms` for the writer and readers (writers wait as
    long meanwhile): (busy, log pages, pages copied)."""
    connection.execute(f"PRAGMA busy_timeout={wait_ms}")
    return connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
