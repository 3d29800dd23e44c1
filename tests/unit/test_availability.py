"""Team availability against a minute-by-minute reference, and reply-time phrases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.domain.availability import next_available, reply_time_phrase, team_available
from doorstep.domain.schedules import Schedule, WeeklyRange
from tests.unit.schedule_reference import ZONES, instants, reference_is_open, schedules

DAY = 24 * 60


def reference_available(hours: list[tuple[Schedule, bool]], instant: datetime) -> bool:
    if all(not staffed for _, staffed in hours):
        return True
    open_now = [staffed for schedule, staffed in hours if reference_is_open(schedule, instant)]
    return any(open_now) and all(open_now)


def reference_next_available(
    hours: list[tuple[Schedule, bool]], instant: datetime, days: int
) -> datetime | None:
    for minute in range(days * DAY + 1):
        moment = instant + timedelta(minutes=minute)
        if reference_available(hours, moment):
            return moment
    return None


@st.composite
def site_hours(draw: st.DrawFn) -> list[tuple[Schedule, bool]]:
    """Up to three schedules, usually in one zone (a site), sometimes in several."""
    zone = draw(st.sampled_from(ZONES))
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        own_zone = draw(st.sampled_from(ZONES)) if draw(st.integers(0, 4)) == 0 else zone
        entries.append((draw(schedules(own_zone)), draw(st.booleans())))
    return entries


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_hours(), instants)
def test_team_available_matches_the_reference(hours, instant: datetime) -> None:
    assert team_available(hours, instant) == reference_available(hours, instant)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_hours(), instants)
def test_next_available_matches_the_reference(hours, instant: datetime) -> None:
    found = next_available(hours, instant)
    expected = reference_next_available(hours, instant, days=2)
    if expected is None:
        assert found is None or found > instant + timedelta(days=2)
    else:
        assert found == expected
    if found is not None:
        assert found >= instant
        assert team_available(hours, found)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def new_york(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("America/New_York"), fold=fold)


WORKING = Schedule("Europe/Berlin", tuple(WeeklyRange(d, 9 * 60, 18 * 60) for d in range(5)))
LUNCH = Schedule("Europe/Berlin", tuple(WeeklyRange(d, 12 * 60, 13 * 60) for d in range(5)))
OFFICE = [(WORKING, True), (LUNCH, False)]


def test_lunch_inside_working_hours_is_a_break() -> None:
    assert team_available(OFFICE, berlin(2026, 6, 15, 11, 59))
    assert not team_available(OFFICE, berlin(2026, 6, 15, 12, 30))
    assert next_available(OFFICE, berlin(2026, 6, 15, 12, 30)) == berlin(2026, 6, 15, 13, 0)
    assert not team_available(OFFICE, berlin(2026, 6, 13, 10, 0))  # Saturday


def test_the_weekend_across_the_spring_clock_change_ends_monday_at_nine_local() -> None:
    # Friday 27 March 2026 is winter time (UTC+1), Monday 30 March summer time (UTC+2).
    found = next_available(OFFICE, berlin(2026, 3, 27, 18, 0))
    assert found == berlin(2026, 3, 30, 9, 0)
    assert found.astimezone(UTC).hour == 7


def test_an_autumn_week_end_in_berlin_follows_the_local_clock() -> None:
    found = next_available(OFFICE, berlin(2026, 10, 23, 19, 0))
    assert found == berlin(2026, 10, 26, 9, 0)
    assert found.astimezone(UTC).hour == 8


def test_new_york_hours_starting_in_the_skipped_hour_open_when_the_clock_jumps() -> None:
    # 8 March 2026: 2:00 EST becomes 03:00 EDT; 02:30 does not exist that night.
    early = Schedule("America/New_York", tuple(WeeklyRange(d, 150, 300) for d in range(7)))
    found = next_available([(early, True)], new_york(2026, 3, 8, 1, 0))
    assert found == new_york(2026, 3, 8, 3, 0)
    assert found.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_new_york_hours_in_the_repeated_hour_open_again_when_clocks_go_back() -> None:
    # 1 November 2026: 2:00 EDT becomes 01:00 EST, so 01:00-01:30 happens twice.
    night = Schedule("America/New_York", tuple(WeeklyRange(d, 60, 90) for d in range(7)))
    after_first = new_york(2026, 11, 1, 1, 45)  # first pass, EDT
    found = next_available([(night, True)], after_first)
    # (a fold=1 wall time never compares equal across zones, so compare in UTC)
    assert found.astimezone(UTC) == new_york(2026, 11, 1, 1, 0, fold=1).astimezone(UTC)
    assert found.astimezone(UTC) == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def test_a_site_without_staffed_hours_is_always_available() -> None:
    moment = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
    assert team_available([], moment)
    assert next_available([], moment) == moment
    assert team_available([(LUNCH, False)], berlin(2026, 6, 15, 12, 30))


def test_never_available_gives_none() -> None:
    closed = Schedule("UTC", ())
    always = Schedule("UTC", tuple(WeeklyRange(d, 0, DAY) for d in range(7)))
    moment = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
    assert next_available([(closed, True)], moment) is None
    assert next_available([(WORKING, True), (always, False)], moment) is None


def test_either_of_two_staffed_schedules_is_enough() -> None:
    evening = Schedule("Asia/Tokyo", tuple(WeeklyRange(d, 18 * 60, 2 * 60) for d in range(7)))
    hours = [(WORKING, True), (evening, True), (LUNCH, False)]
    saturday = berlin(2026, 6, 13, 10, 0)  # 17:00 in Tokyo
    assert not team_available(hours, saturday)
    assert next_available(hours, saturday) == berlin(2026, 6, 13, 11, 0)  # 18:00 in Tokyo


# --- phrases ------------------------------------------------------------------------------

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # Monday 5 January, 11:00 in Berlin
LATER = {
    "soon": NOW + timedelta(minutes=5),
    "today": datetime(2026, 1, 5, 13, 0, tzinfo=UTC),
    "tomorrow": datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
    "weekday": datetime(2026, 1, 9, 8, 0, tzinfo=UTC),  # Friday
    "date": datetime(2026, 1, 12, 8, 0, tzinfo=UTC),  # a week later
}
EXPECTED = {
    "en-GB": [
        "in a few minutes",
        "today at 14:00",
        "tomorrow at 9:00",
        "on Friday at 9:00",
        "on 12 January at 9:00",
    ],
    "en": [
        "in a few minutes",
        "today at 2:00\u202fPM",
        "tomorrow at 9:00\u202fAM",
        "on Friday at 9:00\u202fAM",
        "on January 12 at 9:00\u202fAM",
    ],
    "ja": ["数分以内", "今日 14:00", "明日 9:00", "金曜日 9:00", "1月12日 9:00"],
    "ru-RU": [
        "в течение нескольких минут",
        "сегодня в 14:00",
        "завтра в 9:00",
        "в пятницу в 9:00",
        "12 января в 9:00",
    ],
    "de": [
        "in wenigen Minuten",
        "heute um 14:00",
        "morgen um 9:00",
        "am Freitag um 9:00",
        "am 12. Januar um 9:00",
    ],
    "fr": [
        "dans quelques minutes",
        "aujourd’hui à 14:00",  # noqa: RUF001
        "demain à 9:00",
        "vendredi à 9:00",
        "le 12 janvier à 9:00",
    ],
    "es": [
        "en unos minutos",
        "hoy a las 14:00",
        "mañana a las 9:00",
        "el viernes a las 9:00",
        "el 12 de enero a las 9:00",
    ],
}


@pytest.mark.parametrize("language", list(EXPECTED))
def test_phrases_in_every_language(language: str) -> None:
    phrases = [
        reply_time_phrase(
            when, NOW, language=language, timezone="Europe/Berlin", fallback_timezone="UTC"
        )
        for when in LATER.values()
    ]
    assert phrases == EXPECTED[language]


def phrase(when: datetime | None, language: str | None = "en-GB", **zones: str | None) -> str:
    zones.setdefault("timezone", "Europe/Berlin")
    zones.setdefault("fallback_timezone", "UTC")
    return reply_time_phrase(when, NOW, language=language, **zones)  # type: ignore[arg-type]


def test_no_time_or_a_time_within_five_minutes_is_a_few_minutes() -> None:
    assert phrase(None) == "in a few minutes"
    assert phrase(NOW - timedelta(hours=1)) == "in a few minutes"
    assert phrase(NOW + timedelta(minutes=5, seconds=1)) == "today at 11:05"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("pt", "today at 2:00\u202fPM"),
        ("xx-YY", "today at 2:00\u202fPM"),
        (None, "today at 2:00\u202fPM"),
        ("", "today at 2:00\u202fPM"),
        ("DE-de", "heute um 14:00"),
        ("ja_JP", "今日 14:00"),
        ("en-ZZ", "today at 2:00\u202fPM"),
    ],
)
def test_language_tags_use_their_primary_subtag_and_default_to_english(language, expected) -> None:
    assert phrase(LATER["today"], language) == expected


def test_the_day_word_follows_the_visitors_local_date() -> None:
    when = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)  # Monday in London, Tuesday in Berlin
    assert phrase(when, timezone="Europe/London") == "today at 23:30"
    assert phrase(when, timezone="Europe/Berlin") == "tomorrow at 0:30"
    assert phrase(when, timezone="Asia/Tokyo") == "tomorrow at 8:30"


@pytest.mark.parametrize("bad", [None, "", "Mars/Olympus", "../../etc/passwd", "x" * 100])
def test_an_unknown_visitor_zone_falls_back_to_the_sites(bad: str | None) -> None:
    assert phrase(LATER["today"], timezone=bad, fallback_timezone="Asia/Tokyo") == (
        "today at 22:00"
    )
    assert phrase(LATER["today"], timezone=bad, fallback_timezone="nowhere") == "today at 13:00"


def test_russian_weekdays_take_the_accusative_after_v() -> None:
    monday = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    days = [monday + timedelta(days=offset) for offset in range(7)]
    phrases = [
        reply_time_phrase(
            day, day - timedelta(days=2), language="ru", timezone="UTC", fallback_timezone="UTC"
        )
        for day in days
    ]
    assert phrases == [
        "в понедельник в 10:00",
        "во вторник в 10:00",
        "в среду в 10:00",
        "в четверг в 10:00",
        "в пятницу в 10:00",
        "в субботу в 10:00",
        "в воскресенье в 10:00",
    ]


def test_spanish_says_a_la_for_one_oclock() -> None:
    one = datetime(2026, 1, 6, 0, 0, tzinfo=UTC)  # 01:00 in Berlin
    assert phrase(one, "es") == "mañana a la 1:00"
    assert phrase(one + timedelta(hours=12), "es") == "mañana a las 13:00"
