"""Console sign-in: cookies, wrong passwords, sign-out, redirects and origins."""

from __future__ import annotations

import httpx
from argon2 import PasswordHasher

from doorstep.services import operators
from doorstep.services.uow import unit_of_work
from doorstep.store import operators as operator_store
from tests.factories import PASSWORD, Factory


async def test_sign_in_sets_an_httponly_cookie_and_opens_the_inbox(server, factory: Factory):
    site = await factory.site()
    operator = await factory.operator(site)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/console/")).headers["location"].startswith("/console/login")
        response = await client.post(
            "/console/login", data={"email": operator.email.upper(), "password": PASSWORD}
        )
        assert response.status_code == 303
        cookie_header = response.headers["set-cookie"].lower()
        assert "httponly" in cookie_header and "samesite=lax" in cookie_header
        inbox = await client.get("/console/")
        assert inbox.status_code == 200 and operator.name in inbox.text


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    server, factory: Factory
):
    operator = await factory.operator()
    async with httpx.AsyncClient(base_url=server.url) as client:
        wrong = await client.post(
            "/console/login", data={"email": operator.email, "password": "nope nope"}
        )
        nobody = await client.post(
            "/console/login", data={"email": "who@example.com", "password": "nope nope"}
        )
    assert wrong.status_code == nobody.status_code == 401
    assert "wrong email or password" in wrong.text and "wrong email or password" in nobody.text
    assert "doorstep_session" not in wrong.headers.get("set-cookie", "")


async def test_sign_out_ends_the_session(server, factory: Factory):
    operator = await factory.operator()
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/console/login", data={"email": operator.email, "password": PASSWORD})
        page = (await client.get("/console/")).text
        csrf = page.split('"csrf_token": "')[1].split('"')[0]
        stolen = client.cookies["doorstep_session"]
        await client.post("/console/logout", data={"csrf_token": csrf})
        client.cookies.set("doorstep_session", stolen)
        assert (await client.get("/console/")).status_code == 303


async def test_cross_origin_sign_in_and_open_redirects_are_refused(server, factory: Factory):
    operator = await factory.operator()
    async with httpx.AsyncClient(base_url=server.url) as client:
        evil = await client.post(
            "/console/login",
            headers={"Origin": "https://evil.example"},
            data={"email": operator.email, "password": PASSWORD},
        )
        assert evil.status_code == 403
        redirect = await client.post(
            "/console/login?next=//evil.example/x",
            data={"email": operator.email, "password": PASSWORD},
        )
        assert redirect.headers["location"] == "/console/"


async def test_a_hash_made_with_four_lanes_is_made_again_with_one_at_sign_in(ctx, factory):
    """Hashes from before one lane per hash (argon2-cffi's default of 4) still verify, and
    the next sign-in stores one that a single thread computes (services/passwords.py)."""
    operator = await factory.operator()
    four_lanes = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=4).hash(PASSWORD)
    async with unit_of_work(ctx) as uow:
        await operator_store.set_password_hash(uow.conn, operator.id, four_lanes)
    await operators.sign_in(ctx, email=operator.email, password=PASSWORD, address="192.0.2.9")
    async with ctx.db.read() as conn:
        _operator, stored = await operator_store.operator_with_hash(conn, operator.email)
    assert stored != four_lanes and ",p=1$" in stored
    assert ctx.passwords.hasher.verify(stored, PASSWORD)
