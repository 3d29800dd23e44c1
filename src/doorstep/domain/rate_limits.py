"""Abuse limits on the public doors: the rule (docs/security.md, "Abuse limits").

Each limit is a token bucket: at most `count` at once, then `count` more per `seconds`. It is
kept as one number per key, the moment the key's bucket would be full again (the "generic cell
rate algorithm"), so a limiter costs a dict lookup and a few additions per use. Pure: callers
pass the time in seconds, from the clock they were given.

The counters live in memory, one set per node. A limiter keeps at most `max_keys` keys: a key
whose bucket is full again says nothing and is dropped first; under a flood of more distinct
keys than that, the least recently used are forgotten (they start again with a full bucket).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Hashable
from dataclasses import dataclass

DEFAULT_MAX_KEYS = 20_000  # about 2.5 MB per limiter when full
_RATE = re.compile(r"^\s*(\d{1,9})\s*/\s*(\d{0,9}(?:\.\d+)?)\s*([smh]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` at once, then `count` more per `seconds`."""

    count: int
    seconds: float

    def __str__(self) -> str:
        for unit, size in (("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.count}/{self.seconds // size:g}{unit}"
        return f"{self.count}/{self.seconds:g}s"


def parse_rate(text: str) -> Rate | None:
    """`"60/10m"` (count / period in s, m or h; `"30/m"` is per minute), or None for `"off"`."""
    if text.strip().lower() in ("off", "0", "none"):
        return None
    match = _RATE.match(text)
    if match is None or not (match[2] or match[3]):
        raise ValueError(f"expected COUNT/PERIOD such as 60/10m, or off; got {text[:40]!r}")
    count, amount, unit = int(match[1]), float(match[2] or 1), match[3]
    seconds = amount * _UNIT[unit]
    if count < 1 or not 0 < seconds <= 86_400:
        raise ValueError(f"a count of at least 1 per at most a day; got {text[:40]!r}")
    return Rate(count, seconds)


def parse_count(text: str) -> int | None:
    """A plain limit such as `"20"`, or None for `"off"`."""
    if text.strip().lower() in ("off", "0", "none"):
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= 1_000_000:
        raise ValueError(f"expected a whole number from 1 to 1000000, or off; got {text[:40]!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class AbuseLimits:
    """The limits of the public doors; None switches one off. Defaults: docs/security.md."""

    sessions: Rate | None = Rate(60, 600)  # new visitors (a visitor and a contact) per address
    conversations: Rate | None = Rate(30, 600)  # new conversations per address
    messages: Rate | None = Rate(30, 60)  # a visitor's messages, per visitor
    address_messages: Rate | None = Rate(120, 60)  # visitors' messages, per address
    tracking: Rate | None = Rate(120, 60)  # tracking frames, per visitor
    address_tracking: Rate | None = Rate(600, 60)  # tracking frames, per address
    sockets: int | None = 20  # open sockets per visitor token


class RateLimiter:
    """One token bucket per key."""

    __slots__ = ("_due", "interval", "max_keys", "tolerance")

    def __init__(self, rate: Rate | None, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        # A bucket of `count` tokens, one back every `interval`: a key may run up to
        # `tolerance` ahead of the time before it is refused. interval 0: no limit. The slop
        # (at most a millisecond) absorbs rounding: `count` takes at once are never refused.
        self.interval = rate.seconds / rate.count if rate else 0.0
        slop = min(self.interval / 100, 0.001)
        self.tolerance = rate.seconds - self.interval + slop if rate else 0.0
        self.max_keys = max_keys
        # key -> when its bucket is full again; in order of last use, oldest first.
        self._due: dict[Hashable, float] = {}

    def take(self, key: Hashable, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there is (and nothing
        is taken, so being refused never lengthens the wait)."""
        if not self.interval:
            return 0.0
        due = self._due.pop(key, now)
        if due < now:
            due = now
        if due - now > self.tolerance:
            self._due[key] = due
            return due - now - self.tolerance
        self._due[key] = due + self.interval
        if len(self._due) > self.max_keys:
            self._shrink(now)
        return 0.0

    def give_back(self, key: Hashable) -> None:
        """Undo a `take` whose write turned out not to count (nothing was stored)."""
        if key in self._due:
            self._due[key] -= self.interval

    def __len__(self) -> int:
        return len(self._due)

    def _shrink(self, now: float) -> None:
        """Down to three quarters of `max_keys`, so this runs once per many new keys: idle
        keys first (a full bucket is no different from no entry), then the least recent."""
        target = self.max_keys * 3 // 4
        for key in [k for k, due in self._due.items() if due <= now]:
            del self._due[key]
        excess = len(self._due) - target
        if excess > 0:
            for key in list(self._due)[:excess]:
                del self._due[key]


class OpenCounts:
    """How many of something each key holds open right now, at most `limit` each."""

    __slots__ = ("_open", "limit")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._open: dict[Hashable, int] = {}

    def open(self, key: Hashable) -> bool:
        held = self._open.get(key, 0)
        if self.limit is not None and held >= self.limit:
            return False
        self._open[key] = held + 1
        return True

    def close(self, key: Hashable) -> None:
        held = self._open.get(key, 0) - 1
        if held > 0:
            self._open[key] = held
        else:
            self._open.pop(key, None)  # no entry for a key with nothing open: memory follows

    def held(self, key: Hashable) -> int:
        return self._open.get(key, 0)


class AbuseCounters:
    """One node's counters for every limit."""

    __slots__ = (
        "address_messages",
        "address_tracking",
        "conversations",
        "messages",
        "sessions",
        "sockets",
        "tracking",
    )

    def __init__(self, limits: AbuseLimits, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.sessions = RateLimiter(limits.sessions, max_keys)
        self.conversations = RateLimiter(limits.conversations, max_keys)
        self.messages = RateLimiter(limits.messages, max_keys)
        self.address_messages = RateLimiter(limits.address_messages, max_keys)
        self.tracking = RateLimiter(limits.tracking, max_keys)
        self.address_tracking = RateLimiter(limits.address_tracking, max_keys)
        self.sockets = OpenCounts(limits.sockets)


def address_key(ip: str | None) -> str | None:
    """What one client's address is counted as: an IPv4 address, or an IPv6 address's /64
    (one host commonly holds a whole /64, and would otherwise count as millions of clients).
    None when there is no address (then the per-address limits cannot apply)."""
    if not ip:
        return None
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])
    except ValueError:
        return ip[:64]  # a proxy's odd text: counted as itself
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
