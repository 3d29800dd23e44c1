"""Failed sign-ins throttle the next ones, from the database every node reads, on a clock
the tests move; an attacker's failures never keep the operator out."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from doorstep.errors import TooManyAttempts, Unauthorized
from doorstep.services import operators
from doorstep.store.tables import sign_in_failures
from tests.factories import PASSWORD, Factory

ATTACKER, OPERATOR_HOME = "203.0.113.7", "198.51.100.20"


async def fail(ctx, email: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            await operators.sign_in(ctx, email=email, password="wrong guess", address=address)


async def test_ten_failures_refuse_even_the_right_password_until_the_window_passes(
    ctx, clock, factory: Factory
) -> None:
    operator = await factory.operator()
    await fail(ctx, operator.email, ATTACKER, 10)
    with pytest.raises(TooManyAttempts) as refused:
        await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=ATTACKER)
    assert refused.value.retry_after == 15 * 60
    assert refused.value.message == "Too many attempts, try again in 15 minutes"
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(TooManyAttempts):
        await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=ATTACKER)
    clock.advance(seconds=1)
    signed_in, _token = await operators.sign_in(
        ctx, email=operator.email, password=PASSWORD, address=ATTACKER
    )
    assert signed_in.id == operator.id


async def test_the_right_password_from_another_address_is_not_blocked(ctx, factory) -> None:
    operator = await factory.operator()
    await fail(ctx, operator.email.upper(), ATTACKER, 10)  # the same email, however written
    signed_in, _ = await operators.sign_in(
        ctx, email=operator.email, password=PASSWORD, address=OPERATOR_HOME
    )
    assert signed_in.id == operator.id
    with pytest.raises(TooManyAttempts):
        await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=ATTACKER)


async def test_failures_from_many_addresses_delay_the_email_but_not_the_operators_browser(
    ctx, clock, factory
) -> None:
    operator = await factory.operator()
    for n, times in enumerate((7, 7, 6)):  # 20, none of the addresses past its own limit
        await fail(ctx, operator.email, f"203.0.113.{n}", times)
    for delay in (1, 2, 4):  # each further failure doubles the wait after it
        with pytest.raises(TooManyAttempts) as delayed:
            await operators.sign_in(
                ctx, email=operator.email, password=PASSWORD, address=OPERATOR_HOME
            )
        assert delayed.value.retry_after == delay
        clock.advance(seconds=delay)
        await fail(ctx, operator.email, ATTACKER)
    with pytest.raises(TooManyAttempts) as delayed:
        await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address="192.0.2.1")
    assert delayed.value.message == "Too many attempts, try again in 1 minute"
    known, _ = await operators.sign_in(
        ctx,
        email=operator.email,
        password=PASSWORD,
        address=OPERATOR_HOME,
        known_operator_id=operator.id,
    )
    assert known.id == operator.id
    clock.advance(seconds=delayed.value.retry_after)  # a delay, never a lockout
    await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address="192.0.2.1")


async def test_an_address_failing_for_thirty_emails_is_refused_for_every_email(
    ctx, factory
) -> None:
    operator = await factory.operator()
    for n in range(30):
        await fail(ctx, f"nobody{n}@example.com", ATTACKER)
    with pytest.raises(TooManyAttempts):
        await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=ATTACKER)
    await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=OPERATOR_HOME)


async def test_a_right_password_forgives_that_addresses_mistakes(ctx, clock, factory) -> None:
    operator = await factory.operator()
    await fail(ctx, operator.email, OPERATOR_HOME, 9)
    await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address=OPERATOR_HOME)
    await fail(ctx, operator.email, OPERATOR_HOME, 9)  # a fresh count: still no refusal
    clock.advance(minutes=15)
    await operators.schedule_housekeeping(ctx)
    await operators.purge_expired_sessions(ctx, {})
    async with ctx.db.read() as conn:
        left = (await conn.execute(select(func.count()).select_from(sign_in_failures))).scalar()
    assert left == 0  # the housekeeping deletes what no longer counts


async def test_the_sign_in_page_says_when_to_try_again(server, factory: Factory) -> None:
    operator = await factory.operator()
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(10):
            wrong = await client.post(
                "/console/login", data={"email": operator.email, "password": "wrong guess"}
            )
            assert wrong.status_code == 401
        refused = await client.post(
            "/console/login", data={"email": operator.email, "password": PASSWORD}
        )
    assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
    assert "Too many attempts, try again in 15 minutes" in refused.text
    assert "doorstep_session" not in refused.headers.get("set-cookie", "")


async def test_a_browser_that_signed_in_before_is_not_delayed(server, factory: Factory) -> None:
    operator = await factory.operator()
    async with httpx.AsyncClient(base_url=server.url) as mine:
        first = await mine.post(
            "/console/login", data={"email": operator.email, "password": PASSWORD}
        )
        assert first.status_code == 303
        assert "path=/console/login" in first.headers["set-cookie"].lower()
        for n, times in enumerate((7, 7, 6)):
            await fail(server.ctx, operator.email, f"203.0.113.{n}", times)
        async with httpx.AsyncClient(base_url=server.url) as stranger:
            refused = await stranger.post(
                "/console/login", data={"email": operator.email, "password": PASSWORD}
            )
        assert refused.status_code == 429
        again = await mine.post(
            "/console/login", data={"email": operator.email, "password": PASSWORD}
        )
        assert again.status_code == 303
