"""Operators: accounts, console sign-in, API tokens and presence (docs/console.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email

from doorstep.domain.models import Operator, PresenceStatus
from doorstep.errors import Conflict, InvalidInput, Unauthorized
from doorstep.services import audiences
from doorstep.services.context import Ctx
from doorstep.services.jobs import schedule_job
from doorstep.services.uow import announce, unit_of_work
from doorstep.signing import hash_token, random_token
from doorstep.store import operators as operator_store
from doorstep.store import sites as site_store

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$G8zaqTF3jxZ5d1iP6HzOLQ"


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
    password_hash = ctx.hasher.hash(password)
    async with unit_of_work(ctx) as uow:
        if await operator_store.operator_with_hash(uow.conn, email):
            raise Conflict(f"an operator with email {email} exists already", code="email_taken")
        operator = await operator_store.insert_operator(
            uow.conn, email=email, name=name, password_hash=password_hash, role=role, now=uow.now
        )
        for site_id in site_ids:
            await site_store.add_member(uow.conn, site_id, operator.id)
    return operator


async def sign_in(ctx: Ctx, *, email: str, password: str) -> tuple[Operator, str]:
    """Check the credentials and open a console session; returns the session token."""
    if len(password) > MAX_PASSWORD or len(email) > 254:
        raise Unauthorized("wrong email or password", code="bad_credentials")
    async with ctx.db.read() as conn:
        found = await operator_store.operator_with_hash(conn, email.strip())
    try:
        ctx.hasher.verify(found[1] if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        found = None
    if found is None:
        raise Unauthorized("wrong email or password", code="bad_credentials")
    operator, stored_hash = found
    token = random_token()
    async with unit_of_work(ctx) as uow:
        if ctx.hasher.check_needs_rehash(stored_hash):
            await operator_store.set_password_hash(uow.conn, operator.id, ctx.hasher.hash(password))
        await operator_store.insert_session(
            uow.conn,
            operator_id=operator.id,
            token_hash=hash_token(token),
            now=uow.now,
            expires_at=uow.now + SESSION_LIFETIME,
        )
    return operator, token


async def operator_for_session(ctx: Ctx, token: str | None) -> Operator | None:
    if not token or len(token) > 200:
        return None
    async with ctx.db.read() as conn:
        return await operator_store.operator_of_session(conn, hash_token(token), ctx.clock.now())


async def sign_out(ctx: Ctx, token: str) -> None:
    async with unit_of_work(ctx) as uow:
        await operator_store.delete_session(uow.conn, hash_token(token))


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


async def set_password(ctx: Ctx, operator: Operator, password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters")
    async with unit_of_work(ctx) as uow:
        await operator_store.set_password_hash(uow.conn, operator.id, ctx.hasher.hash(password))


PURGE_EVERY = timedelta(hours=24)


async def purge_expired_sessions(ctx: Ctx, _payload: dict[str, object]) -> datetime:
    """Job `purge_sessions`: delete ended console sessions; runs again a day later."""
    async with unit_of_work(ctx) as uow:
        await operator_store.delete_expired_sessions(uow.conn, uow.now)
    return ctx.clock.now() + PURGE_EVERY


async def schedule_housekeeping(ctx: Ctx) -> None:
    async with unit_of_work(ctx) as uow:
        await schedule_job(uow, "purge_sessions", "purge_sessions", uow.now + timedelta(minutes=1))
