"""Schedules against a deliberately simple reference, across DST changes and midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings

from doorstep.domain.schedules import (
    DatedHours,
    Schedule,
    WeeklyRange,
    check_dated,
    check_weekly,
    is_open,
    next_change,
    parse_time,
)
from doorstep.errors import InvalidInput
from tests.unit.schedule_reference import instants, reference_is_open, schedules


def reference_next_change(schedule: Schedule, instant: datetime, days: int) -> datetime | None:
    state = reference_is_open(schedule, instant)
    moment = instant
    for _ in range(days * 24 * 60):
        moment += timedelta(minutes=1)
        if reference_is_open(schedule, moment) != state:
            return moment
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), instants)
def test_is_open_matches_the_reference(schedule: Schedule, instant: datetime) -> None:
    assert is_open(schedule, instant) == reference_is_open(schedule, instant)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), instants)
def test_next_change_matches_the_reference(schedule: Schedule, instant: datetime) -> None:
    found = next_change(schedule, instant)
    expected = reference_next_change(schedule, instant, days=3)
    if expected is None:
        assert found is None or found > instant + timedelta(days=3)
    else:
        assert found == expected


BERLIN_OFFICE = Schedule("Europe/Berlin", tuple(WeeklyRange(d, 9 * 60, 18 * 60) for d in range(5)))
NIGHT = Schedule("Europe/Berlin", tuple(WeeklyRange(d, 18 * 60, 9 * 60) for d in range(5)))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def test_office_hours_follow_the_local_clock_across_dst() -> None:
    # Friday 27 March 2026 is still winter time (UTC+1), Monday 30 March summer time (UTC+2).
    assert is_open(BERLIN_OFFICE, berlin(2026, 3, 27, 17, 59))
    assert not is_open(BERLIN_OFFICE, berlin(2026, 3, 27, 18, 0))
    opening = next_change(BERLIN_OFFICE, berlin(2026, 3, 27, 18, 0))
    assert opening == berlin(2026, 3, 30, 9, 0)
    assert opening.astimezone(UTC).hour == 7


def test_a_range_inside_the_repeated_hour_opens_twice_when_clocks_go_back() -> None:
    # 25 October 2026, a Sunday: Berlin's clocks go from 03:00 back to 02:00.
    schedule = Schedule("Europe/Berlin", (WeeklyRange(6, 2 * 60, 2 * 60 + 30),))
    moment = berlin(2026, 10, 25, 1, 59)
    flips = []
    for _ in range(4):
        moment = next_change(schedule, moment)
        flips.append((moment.astimezone(UTC).strftime("%d %H:%M"), is_open(schedule, moment)))
    assert flips == [
        ("25 00:00", True),
        ("25 00:30", False),
        ("25 01:00", True),
        ("25 01:30", False),
    ]


def test_a_range_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    # 29 March 2026: 02:00 becomes 03:00; a range from 02:30 opens at 03:00 summer time.
    schedule = Schedule("Europe/Berlin", (WeeklyRange(6, 2 * 60 + 30, 4 * 60),))
    opening = next_change(schedule, berlin(2026, 3, 29, 1, 0))
    assert opening == berlin(2026, 3, 29, 3, 0)


def test_a_night_shift_runs_past_midnight_and_belongs_to_its_start_day() -> None:
    assert is_open(NIGHT, berlin(2026, 6, 19, 23, 0))  # Friday night
    assert is_open(NIGHT, berlin(2026, 6, 20, 8, 59))  # Saturday morning, Friday's shift
    assert not is_open(NIGHT, berlin(2026, 6, 20, 9, 0))
    assert not is_open(NIGHT, berlin(2026, 6, 20, 23, 0))  # no Saturday night shift


def test_exceptions_replace_the_week_and_holidays_close() -> None:
    closed_new_year = Schedule(BERLIN_OFFICE.timezone, BERLIN_OFFICE.weekly, holiday_country="DE")
    assert not is_open(closed_new_year, berlin(2026, 1, 1, 10, 0))  # a Thursday, a holiday
    assert is_open(closed_new_year, berlin(2026, 1, 2, 10, 0))
    special = Schedule(
        BERLIN_OFFICE.timezone,
        BERLIN_OFFICE.weekly,
        (DatedHours(date(2026, 1, 1), ((10 * 60, 12 * 60),)),),
        "DE",
    )
    assert is_open(special, berlin(2026, 1, 1, 11, 0))  # the exception wins over the holiday
    assert not is_open(special, berlin(2026, 1, 1, 13, 0))


def test_always_open_and_never_open_have_no_next_change() -> None:
    always = Schedule("UTC", tuple(WeeklyRange(d, 0, 1440) for d in range(7)))
    never = Schedule("UTC", ())
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert is_open(always, now) and next_change(always, now) is None
    assert not is_open(never, now) and next_change(never, now) is None


@pytest.mark.parametrize(
    ("ranges", "code"),
    [
        ([WeeklyRange(0, 540, 540)], "empty_range"),
        ([WeeklyRange(0, 540, 1080), WeeklyRange(0, 720, 780)], "overlapping_ranges"),
        ([WeeklyRange(6, 1320, 120), WeeklyRange(0, 60, 300)], "overlapping_ranges"),
        ([WeeklyRange(7, 0, 60)], "invalid_range"),
    ],
)
def test_bad_ranges_are_refused_at_save_time(ranges, code) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_weekly(ranges)
    assert refused.value.code == code


def test_an_overnight_range_next_to_a_morning_range_is_fine() -> None:
    check_weekly([WeeklyRange(4, 18 * 60, 9 * 60), WeeklyRange(5, 9 * 60, 12 * 60)])
    with pytest.raises(InvalidInput):
        check_dated(DatedHours(date(2026, 1, 1), ((600, 700), (650, 800))))


@pytest.mark.parametrize("text", ["9:00", "24:30", "12:60", "ab:cd", None, "25:00"])
def test_bad_times_are_refused(text) -> None:
    with pytest.raises(InvalidInput):
        parse_time(text)


def test_times_parse_and_midnight_ends_a_day() -> None:
    assert parse_time("09:30") == 570
    assert parse_time("24:00", end=True) == 1440
