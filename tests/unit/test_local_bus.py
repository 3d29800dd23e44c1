"""The in-process bus: order, one call per commit, failing subscribers, the wire check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from doorstep.bus.local import LocalBus
from doorstep.domain.events import Event


def _events() -> tuple[Event, ...]:
    return (
        Event("conversation.created", operator_sites=(1,), operator_frame={"type": "a"}),
        Event("message.created", contacts=(7,), visitor_frame={"type": "b"}, meta={"k": "v"}),
    )


class Received(list[Sequence[Event]]):
    async def __call__(self, events: Sequence[Event]) -> None:
        self.append(events)


async def test_each_subscriber_gets_a_commits_events_in_one_call_in_order() -> None:
    bus = LocalBus()
    first, second = Received(), Received()
    bus.subscribe(first)
    bus.subscribe(second)
    await bus.publish(_events())
    for received in (first, second):
        assert [[e.type for e in events] for events in received] == [
            ["conversation.created", "message.created"]
        ]


async def test_without_the_wire_check_subscribers_get_the_published_events() -> None:
    bus = LocalBus()
    received = Received()
    bus.subscribe(received)
    events = _events()
    await bus.publish(events)
    assert all(got is sent for got, sent in zip(received[0], events, strict=True))


async def test_the_wire_check_hands_on_what_a_networked_bus_would() -> None:
    bus = LocalBus(wire_check=True)
    first, second = Received(), Received()
    bus.subscribe(first)
    bus.subscribe(second)
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    sent = Event("job.scheduled", meta={"due_at": moment})
    await bus.publish((sent,))
    got = first[0][0]
    assert got is not sent and got == Event("job.scheduled", meta={"due_at": moment.isoformat()})
    assert second[0][0] is got  # decoded once for every subscriber, as on a node


async def test_the_wire_check_refuses_what_json_cannot_carry() -> None:
    bus = LocalBus(wire_check=True)
    received = Received()
    bus.subscribe(received)
    with pytest.raises(TypeError):
        await bus.publish((Event("x", meta={"ids": {1, 2}}),))
    assert received == []


async def test_a_failing_subscriber_does_not_starve_the_others() -> None:
    bus = LocalBus()

    async def failing(_events: Sequence[Event]) -> None:
        raise RuntimeError("boom")

    received = Received()
    bus.subscribe(failing)
    bus.subscribe(received)
    await bus.publish(_events())
    assert len(received) == 1


async def test_unsubscribed_handlers_get_nothing() -> None:
    bus = LocalBus()
    received = Received()
    unsubscribe = bus.subscribe(received)
    unsubscribe()
    unsubscribe()  # twice is harmless
    await bus.publish(_events())
    assert received == []
