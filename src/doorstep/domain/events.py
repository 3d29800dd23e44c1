"""Events announced after a commit, with the audience that receives them (docs/events.md).

An event names its audience explicitly (operators of some sites, the visitor sockets of some
contacts) and carries the frame each kind of receiver gets, so the socket hub only routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    operator_sites: tuple[int, ...] = ()
    contacts: tuple[int, ...] = ()
    operator_frame: dict[str, Any] | None = None
    visitor_frame: dict[str, Any] | None = None
    # Ephemeral events (typing, presence) are not facts in the database; see Bus.announce.
    ephemeral: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "operator_sites": list(self.operator_sites),
            "contacts": list(self.contacts),
            "operator_frame": self.operator_frame,
            "visitor_frame": self.visitor_frame,
            "ephemeral": self.ephemeral,
            "meta": self.meta,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Event:
        return cls(
            data["type"],
            tuple(data["operator_sites"]),
            tuple(data["contacts"]),
            data["operator_frame"],
            data["visitor_frame"],
            data["ephemeral"],
            data.get("meta") or {},
        )
