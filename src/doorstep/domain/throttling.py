"""When failed console sign-ins make the next attempt wait (docs/security.md).

Three counts of failures within one window, each with its own answer:

- one email from one client address: after `PAIR_LIMIT` failures, refused until the window
  has passed since enough of them, even with the right password;
- one client address, every email: after `ADDRESS_LIMIT`, refused the same way;
- one email from every address: after `EMAIL_FREE`, each attempt waits a delay after the
  latest failure that doubles with every further failure, up to `MAX_DELAY`. A browser the
  operator has signed in from before is spared this one, so attackers spread over many
  addresses can slow guessing down but never keep the operator out of their usual browser.

A pure rule: the caller brings the failures and the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 10
ADDRESS_LIMIT = 30
EMAIL_FREE = 20
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=5)
NO_WAIT = timedelta(0)


@dataclass(frozen=True, slots=True)
class RecentFailures:
    """Times of failed sign-ins, in any order; those older than the window are ignored."""

    pair: Sequence[datetime] = ()  # this email from this address
    email: Sequence[datetime] = ()  # this email from every address
    address: Sequence[datetime] = ()  # this address, every email


def wait_before_attempt(
    failures: RecentFailures, now: datetime, *, known_browser: bool = False
) -> timedelta:
    """How long the next attempt must wait; `NO_WAIT` lets it be checked now."""
    waits = [
        _until_below(failures.pair, PAIR_LIMIT, now),
        _until_below(failures.address, ADDRESS_LIMIT, now),
    ]
    if not known_browser:
        waits.append(_growing_delay(failures.email, now))
    return max(waits)


def _recent(times: Sequence[datetime], now: datetime) -> list[datetime]:
    """Within the window, newest first."""
    return sorted((t for t in times if now - WINDOW < t <= now), reverse=True)


def _until_below(times: Sequence[datetime], limit: int, now: datetime) -> timedelta:
    """Until fewer than `limit` failures are left in the window: the limit-th newest has to
    leave it, and the newer ones stay."""
    recent = _recent(times, now)
    if len(recent) < limit:
        return NO_WAIT
    return max(NO_WAIT, recent[limit - 1] + WINDOW - now)


def delay_after(count: int) -> timedelta:
    """The pause after the latest failure once `count` failures are in the window."""
    if count < EMAIL_FREE:
        return NO_WAIT
    # Capped before the power is taken, so a huge count cannot make a huge number.
    doublings = min(count - EMAIL_FREE, 32)
    return min(MAX_DELAY, FIRST_DELAY * 2**doublings)


def _growing_delay(times: Sequence[datetime], now: datetime) -> timedelta:
    recent = _recent(times, now)
    if len(recent) < EMAIL_FREE:
        return NO_WAIT
    return max(NO_WAIT, recent[0] + delay_after(len(recent)) - now)
