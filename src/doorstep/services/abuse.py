"""Abuse limits of the public doors, applied (docs/security.md, "Abuse limits").

The rule is domain/rate_limits.py. Here the counters of this node (`ctx.abuse`) are asked with
the time of the context's clock, and a refusal becomes `rate_limited` with the whole seconds
to wait (`retry_after`). An `address` is a client address as `address_of` counts it; None (no
address known) leaves the per-address limits out.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from doorstep.domain.rate_limits import RateLimiter, address_key
from doorstep.errors import TooManyAttempts
from doorstep.services.context import Ctx

RATE_LIMITED = "rate_limited"
address_of = address_key


def refusal(what: str, wait: float) -> TooManyAttempts:
    return TooManyAttempts(
        f"too many {what} from here; retry later",
        retry_after=max(1, math.ceil(wait)),
        code=RATE_LIMITED,
    )


def _take(ctx: Ctx, what: str, *pairs: tuple[RateLimiter, Hashable | None]) -> None:
    """A token from each limiter, or none at all and `rate_limited`."""
    now = ctx.clock.now().timestamp()
    taken: list[tuple[RateLimiter, Hashable]] = []
    for limiter, key in pairs:
        if key is None:
            continue
        wait = limiter.take(key, now)
        if wait:
            for earlier, earlier_key in taken:
                earlier.give_back(earlier_key)
            raise refusal(what, wait)
        taken.append((limiter, key))


def take_new_visitor(ctx: Ctx, address: str | None) -> None:
    """Before a widget session creates a visitor (and its contact)."""
    _take(ctx, "new visitors", (ctx.abuse.sessions, address))


def take_message(ctx: Ctx, visitor_id: int, address: str | None) -> None:
    """Before a visitor's write into their conversation (a message, an email)."""
    counters = ctx.abuse
    _take(ctx, "messages", (counters.messages, visitor_id), (counters.address_messages, address))


def release_message(ctx: Ctx, visitor_id: int, address: str | None) -> None:
    """Undo `take_message` for a message refused by another limit."""
    ctx.abuse.messages.give_back(visitor_id)
    if address is not None:
        ctx.abuse.address_messages.give_back(address)


def take_tracking(ctx: Ctx, visitor_id: int, address: str | None) -> None:
    """Before a page view, an event or an identify/set is recorded."""
    counters = ctx.abuse
    _take(ctx, "events", (counters.tracking, visitor_id), (counters.address_tracking, address))


def reserve_conversation(ctx: Ctx, address: str | None) -> float:
    """A token for a conversation that may be started: 0.0 when reserved (hand it back with
    `release_conversation` if none was started), else the seconds until one is free."""
    if address is None:
        return 0.0
    return ctx.abuse.conversations.take(address, ctx.clock.now().timestamp())


def release_conversation(ctx: Ctx, address: str | None) -> None:
    if address is not None:
        ctx.abuse.conversations.give_back(address)


def open_socket(ctx: Ctx, visitor_id: int) -> bool:
    """Whether the visitor may open one more socket on this node; pair with `close_socket`."""
    return ctx.abuse.sockets.open(visitor_id)


def close_socket(ctx: Ctx, visitor_id: int) -> None:
    ctx.abuse.sockets.close(visitor_id)
