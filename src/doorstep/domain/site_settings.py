"""Validation of a site's settings: name, time zone, widget language, colour and texts."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorstep.errors import InvalidInput

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_STRING_KEY = re.compile(r"^[a-z][a-zA-Z0-9_]{0,63}$")
MAX_STRINGS = 200
MAX_STRING_CHARS = 500


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("a site name has 1 to 200 characters")
    return name


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidInput("a site key has 4 to 64 letters, digits, '-' or '_'")
    return key


def check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {timezone[:64]!r}", code="invalid_timezone"
        ) from None
    return timezone


def check_locale(locale: str | None) -> str | None:
    if locale is not None and not _LOCALE.match(locale):
        raise InvalidInput("locale looks like en, ja or pt-BR", code="invalid_locale")
    return locale


def check_color(color: str) -> str:
    if not _COLOR.match(color):
        raise InvalidInput("color looks like #4f46e5", code="invalid_color")
    return color


def check_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("expected true or false", code="invalid_value")
    return value


def check_widget_strings(strings: Any) -> dict[str, Any]:
    """`{key: text}` for every language, or `{locale: {key: text}}` per language."""
    if not isinstance(strings, dict):
        raise InvalidInput("widget_strings is an object", code="invalid_strings")
    count = 0
    for key, value in strings.items():
        if isinstance(value, dict):
            check_locale(key)
            for inner_key, text in value.items():
                _check_string(inner_key, text)
                count += 1
        else:
            _check_string(key, value)
            count += 1
    if count > MAX_STRINGS:
        raise InvalidInput(f"at most {MAX_STRINGS} widget strings", code="invalid_strings")
    return strings


def _check_string(key: Any, text: Any) -> None:
    if not isinstance(key, str) or not _STRING_KEY.match(key):
        raise InvalidInput(
            f"widget string key {str(key)[:64]!r} is not valid", code="invalid_strings"
        )
    if not isinstance(text, str) or len(text) > MAX_STRING_CHARS:
        raise InvalidInput(
            f"widget string {key!r} is a text of at most {MAX_STRING_CHARS} characters",
            code="invalid_strings",
        )
