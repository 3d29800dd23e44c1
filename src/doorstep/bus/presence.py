"""Live presence: how many console sockets each operator has open on this node."""

from __future__ import annotations

from collections import Counter


class LocalPresence:
    def __init__(self) -> None:
        self._sockets: Counter[int] = Counter()

    def connect(self, operator_id: int) -> bool:
        """Count a socket; True when it is the operator's first (they just came online)."""
        self._sockets[operator_id] += 1
        return self._sockets[operator_id] == 1

    def disconnect(self, operator_id: int) -> bool:
        """Forget a socket; True when it was the operator's last (they are now away)."""
        self._sockets[operator_id] -= 1
        if self._sockets[operator_id] <= 0:
            del self._sockets[operator_id]
            return True
        return False

    def is_connected(self, operator_id: int) -> bool:
        return self._sockets[operator_id] > 0

    def connected(self) -> tuple[int, ...]:
        """The operators with a console open on this node."""
        return tuple(self._sockets)


class LiveVisitor:
    """A visitor with at least one widget socket open, and the page they look at now."""

    __slots__ = (
        "connections",
        "contact_id",
        "page_since",
        "site_id",
        "title",
        "url",
        "visit_id",
        "visitor_id",
    )

    def __init__(self, site_id: int, visitor_id: int, contact_id: int) -> None:
        self.site_id = site_id
        self.visitor_id = visitor_id
        self.contact_id = contact_id
        self.connections = 0
        self.visit_id: int | None = None
        self.url: str | None = None
        self.title: str | None = None
        self.page_since: float | None = None  # epoch seconds

    def public(self) -> dict[str, object]:
        return {
            "visitor_id": self.visitor_id,
            "contact_id": self.contact_id,
            "visit_id": self.visit_id,
            "url": self.url,
            "title": self.title,
            "page_since": self.page_since,
        }


class VisitorPresence:
    """Who is on each site right now, on this node."""

    def __init__(self) -> None:
        self._by_visitor: dict[int, LiveVisitor] = {}

    def connect(self, site_id: int, visitor_id: int, contact_id: int) -> tuple[LiveVisitor, bool]:
        live = self._by_visitor.get(visitor_id)
        first = live is None
        if live is None:
            live = self._by_visitor[visitor_id] = LiveVisitor(site_id, visitor_id, contact_id)
        live.connections += 1
        return live, first

    def disconnect(self, visitor_id: int) -> LiveVisitor | None:
        """The visitor's entry when their last socket closed, else None."""
        live = self._by_visitor.get(visitor_id)
        if live is None:
            return None
        live.connections -= 1
        if live.connections > 0:
            return None
        return self._by_visitor.pop(visitor_id)

    def get(self, visitor_id: int) -> LiveVisitor | None:
        return self._by_visitor.get(visitor_id)

    def on_sites(self, site_ids: set[int]) -> list[LiveVisitor]:
        return [live for live in self._by_visitor.values() if live.site_id in site_ids]

    def move_contact(self, old_contact_id: int, new_contact_id: int) -> None:
        for live in self._by_visitor.values():
            if live.contact_id == old_contact_id:
                live.contact_id = new_contact_id
