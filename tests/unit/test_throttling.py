"""The sign-in throttle's rule, on a clock the tests move (domain/throttling.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.throttling import (
    ADDRESS_LIMIT,
    EMAIL_FREE,
    MAX_DELAY,
    NO_WAIT,
    PAIR_LIMIT,
    WINDOW,
    RecentFailures,
    delay_after,
    wait_before_attempt,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def seconds_ago(*ages: float) -> list[datetime]:
    return [NOW - timedelta(seconds=age) for age in ages]


def test_nine_failures_of_one_email_from_one_address_do_not_throttle() -> None:
    failures = seconds_ago(*range(9))
    assert wait_before_attempt(RecentFailures(pair=failures, email=failures), NOW) == NO_WAIT


def test_the_tenth_failure_refuses_until_the_window_has_passed_since_it() -> None:
    failures = seconds_ago(*range(0, 100, 10))  # ten, the oldest 90 s ago
    wait = wait_before_attempt(RecentFailures(pair=failures, email=failures), NOW)
    assert wait == WINDOW - timedelta(seconds=90)
    later = NOW + wait
    assert wait_before_attempt(RecentFailures(pair=failures, email=failures), later) == NO_WAIT


def test_only_the_newest_ten_count_when_more_are_in_the_window() -> None:
    failures = seconds_ago(*range(12))  # the 10th newest is 9 s old
    assert wait_before_attempt(RecentFailures(pair=failures), NOW) == WINDOW - timedelta(seconds=9)


def test_failures_older_than_the_window_are_forgotten() -> None:
    old = [NOW - WINDOW - timedelta(seconds=1)] * 50
    assert wait_before_attempt(RecentFailures(pair=old, email=old, address=old), NOW) == NO_WAIT


def test_an_address_failing_for_many_emails_is_refused_after_thirty() -> None:
    assert wait_before_attempt(RecentFailures(address=seconds_ago(*range(29))), NOW) == NO_WAIT
    wait = wait_before_attempt(RecentFailures(address=seconds_ago(*range(30))), NOW)
    assert wait == WINDOW - timedelta(seconds=29)
    assert ADDRESS_LIMIT == 30 and PAIR_LIMIT == 10


def test_one_email_failing_from_many_addresses_waits_longer_after_each_failure() -> None:
    assert [delay_after(n).total_seconds() for n in (19, 20, 21, 22, 25)] == [0, 1, 2, 4, 32]
    assert delay_after(40) == delay_after(10**9) == MAX_DELAY
    email = seconds_ago(*range(EMAIL_FREE + 2))  # 22 failures, the newest just now
    assert wait_before_attempt(RecentFailures(email=email), NOW) == timedelta(seconds=4)
    assert wait_before_attempt(RecentFailures(email=email), NOW + timedelta(seconds=4)) == NO_WAIT


def test_the_operators_own_browser_is_spared_the_per_email_delay_only() -> None:
    email = seconds_ago(*range(40))
    pair = seconds_ago(*range(PAIR_LIMIT))
    assert wait_before_attempt(RecentFailures(email=email), NOW, known_browser=True) == NO_WAIT
    assert (
        wait_before_attempt(RecentFailures(pair=pair, email=email), NOW, known_browser=True)
        > NO_WAIT
    )


times = st.lists(st.integers(min_value=0, max_value=3600), max_size=60).map(
    lambda ages: seconds_ago(*ages)
)


@given(pair=times, email=times, address=times, known=st.booleans())
def test_waiting_as_long_as_answered_is_always_enough(
    pair: list[datetime], email: list[datetime], address: list[datetime], known: bool
) -> None:
    failures = RecentFailures(pair=pair, email=email + pair, address=address + pair)
    wait = wait_before_attempt(failures, NOW, known_browser=known)
    assert NO_WAIT <= wait <= max(WINDOW, MAX_DELAY)
    assert wait_before_attempt(failures, NOW + wait, known_browser=known) == NO_WAIT
