"""Validation of what the widget reports about a page (docs/tracking.md, "Limits")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorstep.errors import InvalidInput

MAX_URL = 2000
MAX_TITLE = 300
MAX_DURATION_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class PageView:
    client_id: str
    url: str
    path: str
    host: str
    title: str | None
    referrer: str | None
    timezone: str | None
    language: str | None
    screen: str | None


@lru_cache(maxsize=8192)
def _split(url: str) -> tuple[str, str, str] | None:
    """(scheme, host, path) of a URL, or None when it does not parse; pages repeat a lot."""
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or "", parts.path
    except ValueError:
        return None


def check_url(url: object, what: str = "url") -> str:
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise InvalidInput(
            f"{what} is an address of at most {MAX_URL} characters", code="invalid_url"
        )
    parts = _split(url)
    if parts is None:
        raise InvalidInput(f"{what} is not a valid address", code="invalid_url")
    if parts[0] not in ("http", "https") or not parts[1]:
        raise InvalidInput(f"{what} must be an http or https address", code="invalid_url")
    return url


def _timezone(name: object) -> str | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # an odd browser setting is not worth refusing the page view over
    return name


def _screen(screen: object) -> str | None:
    if not isinstance(screen, dict):
        return None
    w, h = screen.get("w"), screen.get("h")
    if isinstance(w, int) and isinstance(h, int) and 0 < w <= 20000 and 0 < h <= 20000:
        return f"{w}x{h}"
    return None


def check_page_view(
    client_id: str,
    url: object,
    title: object,
    referrer: object,
    timezone: object,
    language: object,
    screen: object,
) -> PageView:
    url = check_url(url)
    _scheme, host, path = _split(url) or ("", "", "")
    referrer_url = None
    if isinstance(referrer, str) and referrer:
        try:
            referrer_url = check_url(referrer, "referrer")
        except InvalidInput:
            referrer_url = None  # about:blank, android-app:// and friends: no referrer
    clean_title = title.strip()[:MAX_TITLE] or None if isinstance(title, str) else None
    clean_language = language[:35] if isinstance(language, str) and language else None
    return PageView(
        client_id=client_id,
        url=url,
        path=(path or "/")[:1000],
        host=host.removeprefix("www."),
        title=clean_title,
        referrer=referrer_url,
        timezone=_timezone(timezone),
        language=clean_language,
        screen=_screen(screen),
    )


def check_progress(duration_ms: object, scroll_depth: object) -> tuple[int, int]:
    if not isinstance(duration_ms, int) or not 0 <= duration_ms <= MAX_DURATION_MS:
        raise InvalidInput("duration_ms is 0 to 86,400,000", code="invalid_value")
    if not isinstance(scroll_depth, int) or not 0 <= scroll_depth <= 100:
        raise InvalidInput("scroll_depth is 0 to 100", code="invalid_value")
    return duration_ms, scroll_depth
