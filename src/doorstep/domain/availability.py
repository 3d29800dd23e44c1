"""When the team is expected to answer, and the phrase that tells a visitor (docs/autoreplies.md).

A site describes its hours as schedules, each staffed ("Working hours") or not ("Lunch"). The
team is available while a staffed schedule is open and no unstaffed one is: lunch inside working
hours is a break. Auto-replies promise an answer "tomorrow at 9:00", so `next_available` finds
the first such instant by walking the schedules' changes (`schedules.next_change`), and
`reply_time_phrase` says it in the visitor's language and time zone. Pure functions: the instant
and "now" are always parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

from doorstep.domain.schedules import HORIZON_DAYS, Schedule, is_open, next_change

Hours = Sequence[tuple[Schedule, bool]]  # (schedule, staffed)

MAX_STEPS = 2000
SOON = timedelta(minutes=5)
LANGUAGES = ("en", "ja", "ru", "de", "fr", "es")

_IN_A_FEW_MINUTES = {
    "en": "in a few minutes",
    "ja": "数分以内",
    "ru": "в течение нескольких минут",
    "de": "in wenigen Minuten",
    "fr": "dans quelques minutes",
    "es": "en unos minutos",
}
# Frames around a day word and a time; `{day}` is a weekday or a date from Babel.
_TODAY = {
    "en": "today at {time}",
    "ja": "今日 {time}",
    "ru": "сегодня в {time}",
    "de": "heute um {time}",
    "fr": "aujourd\u2019hui à {time}",  # typographic apostrophe
    "es": "hoy {at} {time}",
}
_TOMORROW = {
    "en": "tomorrow at {time}",
    "ja": "明日 {time}",
    "ru": "завтра в {time}",
    "de": "morgen um {time}",
    "fr": "demain à {time}",
    "es": "mañana {at} {time}",
}
_WEEKDAY = {
    "en": "on {day} at {time}",
    "ja": "{day} {time}",
    "ru": "{day} в {time}",  # the day carries its preposition: see _RU_WEEKDAYS
    "de": "am {day} um {time}",
    "fr": "{day} à {time}",
    "es": "el {day} {at} {time}",
}
_DATE = {
    "en": "on {day} at {time}",
    "ja": "{day} {time}",
    "ru": "{day} в {time}",
    "de": "am {day} um {time}",
    "fr": "le {day} à {time}",
    "es": "el {day} {at} {time}",
}
# Russian needs the accusative after «в» (в среду, в пятницу), and «во» before «вторник»;
# Babel's names are nominative, so these are written out (Monday first).
_RU_WEEKDAYS = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)


def team_available(hours: Hours, instant: datetime) -> bool:
    """A staffed schedule is open and no unstaffed one is; no staffed schedule: always."""
    if not any(staffed for _schedule, staffed in hours):
        return True
    staffed_open = unstaffed_open = False
    for schedule, staffed in hours:
        if is_open(schedule, instant):
            if staffed:
                staffed_open = True
            else:
                unstaffed_open = True
    return staffed_open and not unstaffed_open


def next_available(hours: Hours, instant: datetime) -> datetime | None:
    """`instant` if the team is available then, else the first later instant it becomes so.

    None when that does not happen within the schedules' horizon (about a year) or within
    MAX_STEPS changes of the schedules.
    """
    if team_available(hours, instant):
        return instant
    horizon = instant + timedelta(days=HORIZON_DAYS)
    # Each schedule's next change stays valid until the walk reaches it.
    pending = [next_change(schedule, instant) for schedule, _staffed in hours]
    for _ in range(MAX_STEPS):
        upcoming = [change for change in pending if change is not None]
        if not upcoming:
            return None
        moment = min(upcoming)
        if moment > horizon:
            return None
        if team_available(hours, moment):
            return moment
        pending = [
            next_change(schedule, moment) if change == moment else change
            for (schedule, _staffed), change in zip(hours, pending, strict=True)
        ]
    return None


def reply_time_phrase(
    when: datetime | None,
    now: datetime,
    *,
    language: str | None,
    timezone: str | None,
    fallback_timezone: str,
) -> str:
    """ "in a few minutes", "today at 9:00", "tomorrow at 9:00", "on Monday at 9:00" or
    "on 5 January at 9:00", in the visitor's language and local time."""
    lang, locale = _language(language)
    if when is None or when <= now + SOON:
        return _IN_A_FEW_MINUTES[lang]
    zone = _zone(timezone) or _zone(fallback_timezone) or ZoneInfo("UTC")
    local = when.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    clock = format_time(local, _short_time_pattern(locale), tzinfo=zone, locale=locale)
    # Spanish: "a la 1:00" but "a las 9:00" (one o'clock is singular).
    at = "a la" if lang == "es" and re.match(r"0?1\D", clock) else "a las"
    if days <= 0:
        frame, day = _TODAY[lang], ""
    elif days == 1:
        frame, day = _TOMORROW[lang], ""
    elif days <= 6:
        frame, day = _WEEKDAY[lang], _weekday(local, lang, locale)
    else:
        frame, day = _DATE[lang], format_skeleton("MMMMd", local, tzinfo=zone, locale=locale)
    return frame.format(day=day, time=clock, at=at)


def _short_time_pattern(locale: Locale) -> str:
    """The locale's short time, with the hour unpadded in running text: "um 9:00", not "um
    09:00" (12-hour locales keep theirs: "9:00 AM")."""
    return locale.time_formats["short"].pattern.replace("HH", "H")


def _weekday(local: datetime, lang: str, locale: Locale) -> str:
    if lang == "ru":
        return _RU_WEEKDAYS[local.weekday()]
    return format_date(local.date(), "EEEE", locale=locale)


def _language(tag: str | None) -> tuple[str, Locale]:
    """The phrase language (primary subtag, English if unsupported) and the Babel locale for
    dates and times: the full tag when Babel knows it ("en-GB" writes 09:00 and 5 January)."""
    parts = (tag or "").replace("_", "-").split("-")
    lang = parts[0].lower()
    if lang not in LANGUAGES:
        return "en", Locale("en")
    try:
        locale = Locale.parse("_".join(parts[:3]))
    except (UnknownLocaleError, ValueError, TypeError):
        locale = Locale(lang)
    return lang, locale if locale.language == lang else Locale(lang)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
