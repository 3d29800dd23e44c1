"""Schedules as editors and the API write them, checked and turned into `Schedule` values.

The wire form is readable JSON (`{"day": "mon", "start": "09:00", "end": "18:00"}`); the
domain form counts minutes. Every check happens here, at save time, so a stored schedule can
always be evaluated (docs/schedules.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from doorstep.domain.schedules import (
    DatedHours,
    Schedule,
    WeeklyRange,
    check_country,
    check_dated,
    check_weekly,
    hhmm,
    parse_time,
)
from doorstep.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EXCEPTIONS = 366
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class ScheduleForm:
    """A schedule's checked content, without the time zone (that is the site's)."""

    name: str
    staffed: bool
    weekly: tuple[WeeklyRange, ...]
    exceptions: tuple[DatedHours, ...]
    holiday_country: str | None

    def schedule(self, timezone: str) -> Schedule:
        return Schedule(timezone, self.weekly, self.exceptions, self.holiday_country)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "staffed": self.staffed,
            "weekly": weekly_json(self.weekly),
            "exceptions": exceptions_json(self.exceptions),
            "holiday_country": self.holiday_country,
        }


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(f"a name has 1 to {MAX_NAME} characters", code="invalid_name")
    return name.strip()


def parse_form(data: dict[str, Any]) -> ScheduleForm:
    return ScheduleForm(
        name=check_name(data.get("name")),
        staffed=bool(data.get("staffed", True)),
        weekly=parse_weekly(data.get("weekly", [])),
        exceptions=parse_exceptions(data.get("exceptions", [])),
        holiday_country=check_country(data.get("holiday_country") or None),
    )


def parse_weekly(items: object) -> tuple[WeeklyRange, ...]:
    if not isinstance(items, list):
        raise InvalidInput("weekly is a list of {day, start, end}", code="invalid_range")
    ranges = []
    for item in items[:1000]:
        if not isinstance(item, dict) or item.get("day") not in DAYS:
            raise InvalidInput(
                "each weekly range has a day (mon…sun), a start and an end", code="invalid_range"
            )
        start, end = _times(item)
        ranges.append(WeeklyRange(DAYS.index(item["day"]), start, end))
    return check_weekly(ranges)


def parse_exceptions(items: object) -> tuple[DatedHours, ...]:
    if not isinstance(items, list) or len(items) > MAX_EXCEPTIONS:
        raise InvalidInput(
            f"exceptions is a list of at most {MAX_EXCEPTIONS} dates", code="invalid_exception"
        )
    seen: set[date] = set()
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("ranges", []), list):
            raise InvalidInput("each exception has a date and ranges", code="invalid_exception")
        try:
            day = date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise InvalidInput(
                f"an exception's date looks like 2026-12-24, not {str(item.get('date'))[:20]!r}",
                code="invalid_exception",
            ) from None
        if day in seen:
            raise InvalidInput(f"{day} is listed twice", code="invalid_exception")
        seen.add(day)
        ranges = tuple(_times(r) for r in item.get("ranges", [])[:100])
        found.append(check_dated(DatedHours(day, ranges)))
    return tuple(sorted(found, key=lambda e: e.day))


def _times(item: object) -> tuple[int, int]:
    if not isinstance(item, dict):
        raise InvalidInput("a range is {start, end}", code="invalid_range")
    start = parse_time(item.get("start"))
    end = parse_time(item.get("end"), end=True)
    if start == end:
        raise InvalidInput(
            f"a range cannot be empty: {item.get('start')}-{item.get('end')}", code="empty_range"
        )
    return start, end


def weekly_json(ranges: tuple[WeeklyRange, ...]) -> list[dict[str, str]]:
    ordered = sorted(ranges, key=lambda r: (r.weekday, r.start))
    return [{"day": DAYS[r.weekday], "start": hhmm(r.start), "end": hhmm(r.end)} for r in ordered]


def exceptions_json(exceptions: tuple[DatedHours, ...]) -> list[dict[str, Any]]:
    return [
        {
            "date": e.day.isoformat(),
            "ranges": [{"start": hhmm(s), "end": hhmm(t)} for s, t in e.ranges],
        }
        for e in exceptions
    ]
