"""Random schedules and a deliberately simple reference for them, shared by the property
tests of schedules and of team availability."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from doorstep.domain.schedules import DatedHours, Schedule, WeeklyRange, check_weekly
from doorstep.errors import InvalidInput

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
    "Pacific/Chatham",
    "UTC",
]
# Days around 2026's clock changes in those zones, and ordinary days.
AROUND = [
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 9, 27),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 11, 1),
    date(2026, 6, 15),
    date(2026, 12, 31),
]


def reference_is_open(schedule: Schedule, instant: datetime) -> bool:
    """Every range laid out as wall-clock intervals; the wall time must fall in one."""
    zone = ZoneInfo(schedule.timezone)
    wall = instant.astimezone(zone).replace(tzinfo=None)
    for day in (wall.date() - timedelta(days=1), wall.date()):
        exception = next((e for e in schedule.exceptions if e.day == day), None)
        if exception is not None:
            ranges = list(exception.ranges)
        else:
            ranges = [(r.start, r.end) for r in schedule.weekly if r.weekday == day.weekday()]
        for start, end in ranges:
            begin = datetime(day.year, day.month, day.day) + timedelta(minutes=start)
            length = end - start if end > start else 24 * 60 - start + end
            if begin <= wall < begin + timedelta(minutes=length):
                return True
    return False


@st.composite
def schedules(draw: st.DrawFn, zone: str | None = None) -> Schedule:
    """Random valid weekly ranges (overnight ones too) and maybe an exception near a clock
    change; in a random zone unless one is given."""
    zone = zone or draw(st.sampled_from(ZONES))
    ranges = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, 47)) * 30
        length = draw(st.integers(1, 40)) * 30
        ranges.append(WeeklyRange(draw(st.integers(0, 6)), start, (start + length) % 1440 or 1440))
    try:
        weekly = check_weekly(ranges)
    except InvalidInput:
        weekly = ()
    exceptions = ()
    if draw(st.booleans()):
        day = draw(st.sampled_from(AROUND))
        hours = ((draw(st.integers(0, 23)) * 60, draw(st.integers(1, 24)) * 60),)
        exceptions = (DatedHours(day, () if draw(st.booleans()) else hours),)
    return Schedule(zone, weekly, exceptions)


instants = st.builds(
    lambda day, minute: (
        datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute)
    ),
    st.sampled_from(AROUND),
    st.integers(-2 * 24 * 60, 2 * 24 * 60),
)
