"""Weekly opening hours with dated exceptions and public holidays (docs/schedules.md).

Pure functions of a schedule and an instant: `is_open` and `next_change`. Ranges are in the
schedule's local wall-clock time, so "9:00-18:00" means nine to six on the clock in that place,
summer and winter alike. A range whose end is not after its start runs past midnight and
belongs to the day it starts on ("Night 18:00-9:00" on Friday ends Saturday at nine).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data

from doorstep.errors import InvalidInput

DAY = 24 * 60
WEEK = 7 * DAY
MAX_RANGES = 100
HORIZON_DAYS = 400


@dataclass(frozen=True, slots=True)
class WeeklyRange:
    weekday: int  # 0 Monday … 6 Sunday
    start: int  # minutes after local midnight, 0…1439
    end: int  # 1…1440; not after `start` means the range runs past midnight

    @property
    def minutes(self) -> int:
        return self.end - self.start if self.end > self.start else DAY - self.start + self.end


@dataclass(frozen=True, slots=True)
class DatedHours:
    """Hours that replace the weekly ones on one date; no ranges means closed all day."""

    day: date
    ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str
    weekly: tuple[WeeklyRange, ...]
    exceptions: tuple[DatedHours, ...] = ()
    holiday_country: str | None = None  # closed on this country's public holidays

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_data.country_holidays(country, years=year).keys())


def _day_ranges(schedule: Schedule, day: date) -> Iterable[tuple[int, int]]:
    """The (start, end) minute ranges that begin on this local date."""
    for exception in schedule.exceptions:
        if exception.day == day:
            return exception.ranges
    if schedule.holiday_country and day in _holidays(schedule.holiday_country, day.year):
        return ()
    weekday = day.weekday()
    return [(r.start, r.end) for r in schedule.weekly if r.weekday == weekday]


def _covers(schedule: Schedule, day: date, minute: float) -> bool:
    for start, end in _day_ranges(schedule, day):
        if (start <= minute < end) if end > start else start <= minute:
            return True
    for start, end in _day_ranges(schedule, day - timedelta(days=1)):
        if end <= start and minute < end:  # yesterday's overnight range spills into today
            return True
    return False


def is_open(schedule: Schedule, instant: datetime) -> bool:
    local = instant.astimezone(schedule.zone)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return _covers(schedule, local.date(), minute)


def _boundaries(schedule: Schedule, day: date) -> Iterator[datetime]:
    """Wall-clock moments on or right after `day` where the schedule may open or close."""
    midnight = datetime.combine(day, time(0))
    for start, end in _day_ranges(schedule, day):
        yield midnight + timedelta(minutes=start)
        length = end - start if end > start else DAY - start + end
        yield midnight + timedelta(minutes=start + length)


def _instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Both readings of a wall time: they differ when clocks repeat or skip that time."""
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def next_change(schedule: Schedule, instant: datetime) -> datetime | None:
    """The first instant after `instant` at which `is_open` changes (None within ~a year)."""
    zone = schedule.zone
    state = is_open(schedule, instant)
    start_day = instant.astimezone(zone).date() - timedelta(days=1)
    previous = instant
    for offset in range(HORIZON_DAYS):
        day = start_day + timedelta(days=offset)
        candidates = sorted(
            {c for wall in _boundaries(schedule, day) for c in _instants(wall, zone)}
            | {c for c in _instants(datetime.combine(day + timedelta(days=1), time(0)), zone)}
        )
        for candidate in candidates:
            if candidate <= previous:
                continue
            if is_open(schedule, candidate) != state:
                return _first_flip(schedule, previous, candidate, state)
            previous = candidate
    return None


def _first_flip(schedule: Schedule, low: datetime, high: datetime, state: bool) -> datetime:
    """Narrow (low, high] to the second where the state flips; changes fall on whole seconds
    (range edges are whole minutes on the wall clock, time-zone shifts are whole seconds)."""
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if is_open(schedule, datetime.fromtimestamp(middle, UTC)) != state:
            high_s = middle
        else:
            low_s = middle
    return datetime.fromtimestamp(high_s, UTC)


# --- validation: what an editor may save -------------------------------------------------


def parse_time(text: object, *, end: bool = False) -> int:
    """ "09:30" -> 570; "24:00" is allowed as an end."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise InvalidInput(f"times look like 09:30, not {str(text)[:20]!r}", code="invalid_time")
    try:
        hours, minutes = int(text[:2]), int(text[3:])
    except ValueError:
        raise InvalidInput(f"times look like 09:30, not {text!r}", code="invalid_time") from None
    value = hours * 60 + minutes
    if not (0 <= minutes < 60 and (0 <= value < DAY or (end and value == DAY))):
        raise InvalidInput(f"{text} is not a time of day", code="invalid_time")
    return value


def check_timezone(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise InvalidInput(
            "a time zone is an IANA name such as Europe/Berlin", code="invalid_timezone"
        )
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", code="invalid_timezone") from None
    return name


def check_country(code: object) -> str | None:
    if code is None:
        return None
    if not isinstance(code, str) or code.upper() not in holiday_data.list_supported_countries():
        raise InvalidInput(
            f"no public holidays known for country {str(code)[:8]!r}", code="invalid_country"
        )
    return code.upper()


def check_weekly(ranges: Iterable[WeeklyRange]) -> tuple[WeeklyRange, ...]:
    """Refuse empty, malformed and overlapping ranges (overnight ranges are fine)."""
    ranges = tuple(ranges)
    if len(ranges) > MAX_RANGES:
        raise InvalidInput(f"at most {MAX_RANGES} ranges", code="too_many_ranges")
    spans = []
    for r in ranges:
        if not 0 <= r.weekday <= 6:
            raise InvalidInput("weekday is 0 (Monday) to 6 (Sunday)", code="invalid_range")
        if r.start == r.end:
            raise InvalidInput("a range cannot be empty", code="empty_range")
        begin = r.weekday * DAY + r.start
        spans.append((begin, begin + r.minutes, r))
    _refuse_overlaps(spans, WEEK)
    return ranges


def check_dated(exception: DatedHours) -> DatedHours:
    spans = []
    for start, end in exception.ranges:
        if start == end:
            raise InvalidInput(f"{exception.day}: a range cannot be empty", code="empty_range")
        length = end - start if end > start else DAY - start + end
        spans.append((start, start + length, (start, end)))
    _refuse_overlaps(spans, None)
    return exception


def _refuse_overlaps(spans: list[tuple[int, int, object]], period: int | None) -> None:
    ordered = sorted(spans, key=lambda span: span[0])
    for (_a_start, a_end, a), (b_start, _b_end, b) in itertools.pairwise(ordered):
        if b_start < a_end:
            raise InvalidInput(
                f"ranges overlap: {_describe(a)} and {_describe(b)}", code="overlapping_ranges"
            )
    if period and len(ordered) > 1:
        _last_start, last_end, last = ordered[-1]
        first_start, _first_end, first = ordered[0]
        if last_end - period > first_start:  # the week wraps: Sunday night into Monday
            raise InvalidInput(
                f"ranges overlap: {_describe(last)} and {_describe(first)}",
                code="overlapping_ranges",
            )


def _describe(item: object) -> str:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    if isinstance(item, WeeklyRange):
        return f"{days[item.weekday]} {hhmm(item.start)}-{hhmm(item.end)}"
    start, end = item  # type: ignore[misc]
    return f"{hhmm(start)}-{hhmm(end)}"


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
