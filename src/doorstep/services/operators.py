"""Operators: accounts, console sign-in, API tokens and presence (docs/console.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from doorstep.domain import throttling
from doorstep.domain.models import Operator, PresenceStatus
from doorstep.domain.plain_text import has_nul
from doorstep.errors import Conflict, InvalidInput, TooManyAttempts, Unauthorized
from doorstep.services import audiences
from doorstep.services.context import Ctx
from doorstep.services.jobs import schedule_job
from doorstep.services.uow import UnitOfWork, announce, unit_of_work
from doorstep.signing import hash_token, random_token
from doorstep.store import operators as operator_store
from doorstep.store import sign_in_failures as failure_store
from doorstep.store import sites as site_store

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
UNKNOWN_ADDRESS = "unknown"
SessionState = Literal["active", "ended", "expired"]


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in console: whose, which session (to end it everywhere) and until when."""

    id: int
    operator: Operator
    expires_at: datetime


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address: {exc}", code="invalid_email") from None


async def create_operator(
    ctx: Ctx,
    *,
    email: str,
    name: str,
    password: str,
    role: str = "agent",
    site_ids: tuple[int, ...] = (),
) -> Operator:
    email = normalise_email(email)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("a name has 1 to 200 characters")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters")
    if role not in ("admin", "agent"):
        raise InvalidInput("role is admin or agent")
    password_hash = await ctx.passwords.hash(password)
    async with unit_of_work(ctx) as uow:
        if await operator_store.operator_with_hash(uow.conn, email):
            raise Conflict(f"an operator with email {email} exists already", code="email_taken")
        operator = await operator_store.insert_operator(
            uow.conn, email=email, name=name, password_hash=password_hash, role=role, now=uow.now
        )
        for site_id in site_ids:
            await site_store.add_member(uow.conn, site_id, operator.id)
    return operator


async def sign_in(
    ctx: Ctx,
    *,
    email: str,
    password: str,
    address: str | None = None,
    known_operator_id: int | None = None,
) -> tuple[Operator, str]:
    """Check the credentials and open a console session; returns the session token.

    `address` is the client's; `known_operator_id` the operator this browser signed in as
    before (a signed cookie), spared the per-email delay (domain/throttling.py). Refused
    with `TooManyAttempts` while failures throttle it, even with the right password.
    """
    # An email with U+0000 is nobody's, and PostgreSQL could not even look it up.
    if len(password) > MAX_PASSWORD or len(email) > 254 or has_nul(email):
        raise Unauthorized("wrong email or password", code="bad_credentials")
    key, address = email.strip().lower(), (address or UNKNOWN_ADDRESS)[:64]
    # Checked, verified and counted in one of a few places at once (services/passwords.py).
    async with ctx.passwords.attempt():
        now = ctx.clock.now()
        async with ctx.db.read() as conn:
            found = await operator_store.operator_with_hash(conn, key)
            failures = await failure_store.recent_failures(
                conn, email=key, address=address, since=now - throttling.WINDOW
            )
        known = found is not None and found[0].id == known_operator_id
        wait = throttling.wait_before_attempt(failures, now, known_browser=known)
        if wait > throttling.NO_WAIT:
            raise _too_many(wait)
        # Verified even for an unknown email (against a dummy), so both take as long.
        matches = await ctx.passwords.verify(found[1] if found else None, password)
        if found is None or not matches:
            async with unit_of_work(ctx) as uow:
                await failure_store.record_failure(uow.conn, email=key, address=address, at=now)
            raise Unauthorized("wrong email or password", code="bad_credentials")
    operator, stored_hash = found
    rehashed = None
    if ctx.passwords.needs_rehash(stored_hash):  # the cost settings went up since
        rehashed = await ctx.passwords.hash(password)
    token = random_token()
    async with unit_of_work(ctx) as uow:
        if rehashed:
            await operator_store.set_password_hash(uow.conn, operator.id, rehashed)
        await failure_store.clear_failures(uow.conn, email=key, address=address)
        await operator_store.insert_session(
            uow.conn,
            operator_id=operator.id,
            token_hash=hash_token(token),
            now=uow.now,
            expires_at=uow.now + SESSION_LIFETIME,
        )
    return operator, token


def _too_many(wait: timedelta) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = math.ceil(seconds / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return TooManyAttempts(f"Too many attempts, try again in {minutes} {unit}", retry_after=seconds)


async def console_session(ctx: Ctx, token: str | None) -> ConsoleSession | None:
    """The session a console cookie opens, if it has neither ended nor expired."""
    if not token or len(token) > 200:
        return None
    async with ctx.db.read() as conn:
        found = await operator_store.session_of_token(conn, hash_token(token), ctx.clock.now())
    return ConsoleSession(found[1], found[0], found[2]) if found else None


async def operator_for_session(ctx: Ctx, token: str | None) -> Operator | None:
    session = await console_session(ctx, token)
    return session.operator if session else None


async def session_state(ctx: Ctx, session_id: int) -> SessionState:
    """Asked by an open console socket before each frame it acts on."""
    async with ctx.db.read() as conn:
        expires_at = await operator_store.session_expiry(conn, session_id)
    if expires_at is None:
        return "ended"
    return "active" if expires_at > ctx.clock.now() else "expired"


async def sign_out(ctx: Ctx, token: str) -> None:
    """Ends this session; its open console sockets close on every node."""
    async with unit_of_work(ctx) as uow:
        ended = await operator_store.delete_session(uow.conn, hash_token(token))
        if ended is not None:
            session_id, operator_id = ended
            uow.emit(audiences.sessions_ended(operator_id, [session_id]))


async def end_sessions(uow: UnitOfWork, operator_id: int, *, keep: int | None = None) -> int:
    """Signs the operator out everywhere (but session `keep`), in the caller's transaction:
    after a password change, and for removing an operator or changing their role. Open
    console sockets of those sessions close on every node once it commits."""
    ended = await operator_store.delete_sessions_of_operator(uow.conn, operator_id, keep=keep)
    if ended:
        uow.emit(audiences.sessions_ended(operator_id, ended))
    return len(ended)


async def create_api_token(ctx: Ctx, operator: Operator, *, name: str) -> str:
    """A new bearer token for the REST API; only its hash is stored, so show it once."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("a token name has 1 to 200 characters")
    token = "ds_" + random_token()
    async with unit_of_work(ctx) as uow:
        await operator_store.insert_api_token(
            uow.conn, operator_id=operator.id, name=name, token_hash=hash_token(token), now=uow.now
        )
    return token


async def operator_for_api_token(ctx: Ctx, token: str | None) -> Operator | None:
    if not token or len(token) > 200:
        return None
    async with ctx.db.read() as conn:
        return await operator_store.operator_of_api_token(conn, hash_token(token))


async def operator_by_email(ctx: Ctx, email: str) -> Operator | None:
    async with ctx.db.read() as conn:
        found = await operator_store.operator_with_hash(conn, email)
    return found[0] if found else None


def effective_status(ctx: Ctx, operator: Operator) -> PresenceStatus:
    """Online only while a console tab is connected and the operator has not chosen away."""
    return operator.status if ctx.presence.is_connected(operator.id) else "away"


async def team_presence(ctx: Ctx, operator: Operator) -> list[dict[str, object]]:
    async with ctx.db.read() as conn:
        site_ids = await site_store.site_ids_of_operator(conn, operator.id)
        team: dict[int, Operator] = {}
        for site_id in site_ids:
            for member in await site_store.team_of_site(conn, site_id):
                team[member.id] = member
    return [
        {"operator_id": m.id, "name": m.name, "status": effective_status(ctx, m)}
        for m in team.values()
    ]


async def connect_console(ctx: Ctx, operator: Operator) -> None:
    if ctx.presence.connect(operator.id):
        await _announce_presence(ctx, operator.id, operator.status)


async def disconnect_console(ctx: Ctx, operator: Operator) -> None:
    if ctx.presence.disconnect(operator.id):
        await _announce_presence(ctx, operator.id, "away")


async def set_presence(ctx: Ctx, operator: Operator, status: str) -> Operator:
    if status not in ("online", "away"):
        raise InvalidInput("status is online or away")
    async with unit_of_work(ctx) as uow:
        await operator_store.set_status(uow.conn, operator.id, status)
        updated = await operator_store.operator_by_id(uow.conn, operator.id)
    assert updated is not None
    await _announce_presence(ctx, operator.id, effective_status(ctx, updated))
    return updated


async def _announce_presence(ctx: Ctx, operator_id: int, status: str) -> None:
    async with ctx.db.read() as conn:
        site_ids = await site_store.site_ids_of_operator(conn, operator_id)
    await announce(ctx, audiences.presence_changed(site_ids, operator_id, status))


async def set_password(
    ctx: Ctx, operator: Operator, password: str, *, keep_session: int | None = None
) -> None:
    """A new password signs the operator out everywhere, but for session `keep_session` (the
    one the operator changed it from, when they did it themselves)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters")
    password_hash = await ctx.passwords.hash(password)
    async with unit_of_work(ctx) as uow:
        await operator_store.set_password_hash(uow.conn, operator.id, password_hash)
        await end_sessions(uow, operator.id, keep=keep_session)


PURGE_EVERY = timedelta(hours=24)


async def purge_expired_sessions(ctx: Ctx, _payload: dict[str, object]) -> datetime:
    """Job `purge_sessions`: delete ended console sessions and the failed sign-ins that no
    longer count; runs again a day later."""
    async with unit_of_work(ctx) as uow:
        await operator_store.delete_expired_sessions(uow.conn, uow.now)
        await failure_store.delete_failures_before(uow.conn, uow.now - throttling.WINDOW)
    return ctx.clock.now() + PURGE_EVERY


async def schedule_housekeeping(ctx: Ctx) -> None:
    async with unit_of_work(ctx) as uow:
        await schedule_job(uow, "purge_sessions", "purge_sessions", uow.now + timedelta(minutes=1))
