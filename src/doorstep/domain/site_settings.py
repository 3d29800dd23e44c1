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


def check_name(name: object) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 200:
        raise InvalidInput("a site name has 1 to 200 characters")
    return name


def is_key(key: object) -> bool:
    """Whether `key` has the form of a site key (so it can be looked up at all)."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def check_key(key: object) -> str:
    if not is_key(key):
        raise InvalidInput("a site key has 4 to 64 letters, digits, '-' or '_'")
    assert isinstance(key, str)
    return key


def check_timezone(timezone: object) -> str:
    if not isinstance(timezone, str):
        raise InvalidInput("a time zone is a name such as Europe/Berlin", code="invalid_timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {timezone[:64]!r}", code="invalid_timezone"
        ) from None
    return timezone


def check_locale(locale: object) -> str | None:
    if locale is not None and not (isinstance(locale, str) and _LOCALE.match(locale)):
        raise InvalidInput("locale looks like en, ja or pt-BR", code="invalid_locale")
    return locale


def check_color(color: object) -> str:
    if not isinstance(color, str) or not _COLOR.match(color):
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


MAX_ALLOWED_ORIGINS = 50
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
# scheme, host (names, or an IPv6 address in brackets), port: groups 1, 2 and 7.
_ORIGIN = re.compile(rf"^(https?)://(\[[0-9a-f:.]+\]|{_LABEL}(\.{_LABEL})*)(:(\d{{1,5}}))?$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def check_allowed_origins(origins: Any) -> tuple[str, ...]:
    """The origins whose pages may load the site's widget, each as browsers send it in the
    `Origin` header (`https://shop.example.com`, `http://localhost:3000`): lower case, no
    path, no default port. None or [] allows every origin."""
    if origins is None:
        return ()
    if not isinstance(origins, list | tuple) or len(origins) > MAX_ALLOWED_ORIGINS:
        raise InvalidInput(
            f"allowed_origins is a list of at most {MAX_ALLOWED_ORIGINS} origins",
            code="invalid_origins",
        )
    checked: list[str] = []
    for origin in origins:
        normal = _origin(origin)
        if normal not in checked:
            checked.append(normal)
    return tuple(checked)


def _origin(origin: Any) -> str:
    text = origin.strip().lower().rstrip("/") if isinstance(origin, str) else ""
    match = _ORIGIN.match(text) if len(text) <= 300 else None
    port = match and match[7]
    if match is None or (port is not None and not 0 < int(port) < 65536):
        shown = str(origin)[:100]
        raise InvalidInput(
            f"{shown!r} is not an origin such as https://shop.example.com", code="invalid_origins"
        )
    if port == _DEFAULT_PORTS[match[1]]:
        return f"{match[1]}://{match[2]}"
    return text


def origin_allowed(allowed: tuple[str, ...], origin: str | None) -> bool:
    """Whether a request with this `Origin` header may use the widget of a site that allows
    `allowed`. A browser sends the header with every widget request (the session's POST is
    cross-origin, and every WebSocket handshake carries it), so when a list is set a request
    without one is not from a page on a listed origin and is refused too."""
    if not allowed:
        return True
    return origin is not None and origin.lower() in allowed
