"""Fixtures of the integration tests that more than one module uses."""

from __future__ import annotations

import httpx
import pytest

from doorstep.services import operators
from tests.factories import Factory


@pytest.fixture
async def api(factory: Factory, ctx, server):
    site = await factory.site()
    admin = await factory.operator(site, role="admin")
    agent = await factory.operator(site)
    clients = {}
    for name, who in (("admin", admin), ("agent", agent)):
        token = await operators.create_api_token(ctx, who, name=name)
        clients[name] = httpx.AsyncClient(
            base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
    yield site, clients
    for client in clients.values():
        await client.aclose()
