"""What every use case needs: database, bus, presence, clock and settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from doorstep.bus.base import Bus
from doorstep.bus.local import LocalBus
from doorstep.bus.presence import LocalPresence, VisitorPresence
from doorstep.clock import Clock, SystemClock
from doorstep.config import Settings
from doorstep.domain.events import Event
from doorstep.domain.rate_limits import AbuseCounters
from doorstep.geo import Locator
from doorstep.services.facts import FactWriter
from doorstep.services.passwords import Passwords, password_hasher
from doorstep.store.engine import Database

# A site's automatic-reply setup (schedules, rules, time zone) changed: cached copies go.
AUTOREPLY_SETUP_CHANGED = "autoreply.setup_changed"


@dataclass
class Ctx:
    settings: Settings
    db: Database
    bus: Bus
    clock: Clock = field(default_factory=SystemClock)
    presence: LocalPresence = field(default_factory=LocalPresence)
    # Password hashing on threads of its own (services/passwords.py).
    passwords: Passwords = field(default_factory=lambda: Passwords(password_hasher()))
    locator: Locator = field(default_factory=Locator)
    visitors_live: VisitorPresence = field(default_factory=VisitorPresence)
    # The current visit of each visitor with an open socket on this node (services/tracking.py).
    visits: dict[int, Any] = field(default_factory=dict)
    # Each site's automatic-reply setup as a visitor's first message needs it
    # (services/autoreplies.py), dropped on every node when it changes.
    autoreply_setups: dict[int, Any] = field(default_factory=dict)
    facts: FactWriter = field(init=False)
    # This node's counters for the abuse limits of the public doors (services/abuse.py).
    abuse: AbuseCounters = field(init=False)

    def __post_init__(self) -> None:
        self.facts = FactWriter(self.db, self.bus)
        self.abuse = AbuseCounters(self.settings.abuse_limits)
        self.bus.subscribe(self._forget_changed)

    async def _forget_changed(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type == AUTOREPLY_SETUP_CHANGED:
                self.autoreply_setups.pop(event.meta.get("site_id"), None)


def build_ctx(settings: Settings, *, clock: Clock | None = None, bus: Bus | None = None) -> Ctx:
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    hasher = password_hasher(settings.password_time_cost, settings.password_memory_cost)
    passwords = Passwords(hasher, settings.password_concurrency)
    return Ctx(
        settings=settings,
        db=db,
        bus=bus or LocalBus(),
        clock=clock or SystemClock(),
        passwords=passwords,
        locator=Locator(settings.geoip_city_db),
    )
