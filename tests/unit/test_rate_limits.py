"""The abuse limits' rule: token buckets by key, bounded in memory (domain/rate_limits.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.rate_limits import (
    AbuseLimits,
    OpenCounts,
    Rate,
    RateLimiter,
    address_key,
    parse_count,
    parse_rate,
)

T0 = 1_767_607_200.123  # a real timestamp, so rounding is as large as in production


def takes(limiter: RateLimiter, key: str, now: float, times: int) -> list[float]:
    return [limiter.take(key, now) for _ in range(times)]


@pytest.mark.parametrize(
    "rate", [Rate(60, 600), Rate(600, 60), Rate(7, 10), Rate(1234, 60), Rate(1, 3600)]
)
def test_count_at_once_then_one_per_interval(rate: Rate) -> None:
    limiter = RateLimiter(rate)
    assert takes(limiter, "a", T0, rate.count) == [0.0] * rate.count
    interval = rate.seconds / rate.count
    assert limiter.take("a", T0) == pytest.approx(interval, abs=0.002)
    # Asking again while refused does not make the wait longer.
    assert limiter.take("a", T0 + interval / 2) == pytest.approx(interval / 2, abs=0.002)
    assert limiter.take("a", T0 + interval) == 0.0
    assert limiter.take("a", T0 + interval) > 0
    # After a whole period untouched, the whole burst is back.
    later = T0 + 2 * rate.seconds
    assert takes(limiter, "a", later, rate.count) == [0.0] * rate.count
    assert limiter.take("a", later) > 0


def test_keys_are_counted_apart() -> None:
    limiter = RateLimiter(Rate(2, 60))
    assert takes(limiter, "a", T0, 3)[-1] > 0
    assert takes(limiter, "b", T0, 2) == [0.0, 0.0]


def test_a_token_given_back_can_be_taken_again() -> None:
    limiter = RateLimiter(Rate(2, 60))
    takes(limiter, "a", T0, 2)
    limiter.give_back("a")
    assert limiter.take("a", T0) == 0.0
    assert limiter.take("a", T0) > 0


def test_no_rate_is_no_limit() -> None:
    limiter = RateLimiter(None)
    assert set(takes(limiter, "a", T0, 1000)) == {0.0}
    assert len(limiter) == 0


def test_a_flood_of_keys_cannot_grow_memory_beyond_the_bound() -> None:
    limiter = RateLimiter(Rate(5, 60), max_keys=1000)
    for n in range(20_000):
        limiter.take(f"10.0.{n // 256}.{n % 256}", T0 + n / 1000)
        assert len(limiter) <= 1000


def test_idle_keys_are_dropped_before_a_key_still_over_its_limit() -> None:
    limiter = RateLimiter(Rate(10, 60), max_keys=100)
    takes(limiter, "attacker", T0, 12)  # its bucket is empty, full again at T0 + 60
    # Many one-off visitors, each idle again 6 s after its visit.
    for n in range(400):
        limiter.take(f"visitor-{n}", T0 + n * 0.1)
        assert len(limiter) <= 100
    # Remembered: 45 s have given back 7 tokens, not the whole burst of 10.
    assert takes(limiter, "attacker", T0 + 45, 10).count(0.0) == 7


@given(
    count=st.integers(1, 50),
    seconds=st.sampled_from([1.0, 60.0, 600.0, 3600.0]),
    gaps=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=300),
)
def test_never_more_than_the_burst_plus_the_refill(
    count: int, seconds: float, gaps: list[float]
) -> None:
    limiter = RateLimiter(Rate(count, seconds))
    now, allowed = T0, []
    for gap in gaps:
        now += gap
        if limiter.take("k", now) == 0.0:
            allowed.append(now)
    interval = seconds / count
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            # Within any stretch of time: the burst, plus what refilled during it.
            assert j - i + 1 <= count + (allowed[j] - start) / interval + 1e-6


@given(gap=st.floats(0, 10_000, allow_nan=False))
def test_a_refusal_says_how_long_to_wait_and_that_is_enough(gap: float) -> None:
    limiter = RateLimiter(Rate(3, 60))
    takes(limiter, "k", T0, 3)
    wait = limiter.take("k", T0 + gap)
    if wait:
        assert limiter.take("k", T0 + gap + wait) == 0.0


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("60/10m", Rate(60, 600)),
        ("30/m", Rate(30, 60)),
        ("5/2s", Rate(5, 2)),
        (" 100 / 1h ", Rate(100, 3600)),
        ("10/30", Rate(10, 30)),
        ("off", None),
        ("0", None),
    ],
)
def test_rates_read_from_settings(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["60", "60/", "-1/m", "0/m", "5/0s", "5/2d", "x/m", "5/25h"])
def test_rates_that_are_not_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"at most a day|COUNT/PERIOD"):
        parse_rate(text)


def test_default_limits_read_back_as_written() -> None:
    assert str(AbuseLimits().sessions) == "60/10m"
    assert str(Rate(30, 60)) == "30/1m"
    assert str(Rate(5, 90)) == "5/90s"
    assert parse_count("20") == 20
    assert parse_count("off") is None
    with pytest.raises(ValueError):
        parse_count("-3")


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same host's /64
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not:an:address", "not:an:address"),
        (None, None),
        ("", None),
    ],
)
def test_a_client_address_is_counted_by_its_ipv4_address_or_ipv6_64(ip, key) -> None:
    assert address_key(ip) == key


def test_open_counts_hold_at_most_the_limit_and_forget_keys_with_nothing_open() -> None:
    counts = OpenCounts(2)
    assert [counts.open(7), counts.open(7), counts.open(7)] == [True, True, False]
    assert counts.open(8)
    counts.close(7)
    assert counts.open(7)
    for _ in range(3):
        counts.close(7)
    counts.close(8)
    assert counts._open == {}
    assert all(OpenCounts(None).open(1) for _ in range(100))
