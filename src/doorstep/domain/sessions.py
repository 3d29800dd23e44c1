"""When a visit ends and the next begins (docs/tracking.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.domain.sources import Source

SESSION_TIMEOUT = timedelta(minutes=30)


def starts_new_session(
    last_activity_at: datetime | None,
    now: datetime,
    current: Source | None,
    arriving: Source,
    *,
    timeout: timedelta = SESSION_TIMEOUT,
) -> bool:
    """True after 30 minutes without activity, or when a visitor arrives from a new campaign.

    Only tagged traffic (UTM or click ids) splits a live session: reloading a page or
    following an internal link keeps the referrer-less "direct" source and never splits.
    """
    if last_activity_at is None or current is None:
        return True
    if now - last_activity_at >= timeout:
        return True
    return arriving.is_campaign and arriving.key() != current.key()
