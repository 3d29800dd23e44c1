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
