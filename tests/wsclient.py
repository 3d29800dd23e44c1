"""A small test client for Doorstep's sockets: frames as dicts, waiting by frame type."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from tests.factories import PASSWORD


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(
            frame if isinstance(frame, str | bytes) else orjson.dumps(frame).decode()
        )

    async def next(self, kind: str | None = None, wait: float = 5.0) -> dict[str, Any]:
        """The next frame (of `kind`, skipping others), failing the test if none comes."""
        async with asyncio.timeout(wait):
            while True:
                frame = orjson.loads(await self.ws.recv())
                self.seen.append(frame)
                if kind is None or frame["type"] == kind:
                    return frame

    async def nothing_more(self, wait: float = 0.2) -> list[dict[str, Any]]:
        extra = []
        try:
            async with asyncio.timeout(wait):
                while True:
                    extra.append(orjson.loads(await self.ws.recv()))
        except TimeoutError:
            return extra

    async def close(self) -> None:
        await self.ws.close()


async def visitor_session(base: str, site_key: str, token: str | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/widget/v1/session", json={"site": site_key, "token": token})
        response.raise_for_status()
        return response.json()


async def open_visitor(base: str, site_key: str, token: str | None = None) -> tuple[Socket, str]:
    session = await visitor_session(base, site_key, token)
    ws_base = base.replace("http://", "ws://")
    ws = await connect(f"{ws_base}/widget/v1/ws?site={site_key}&token={session['token']}")
    return Socket(ws), session["token"]


async def console_cookie(base: str, email: str, password: str = PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/console/login", data={"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response.cookies["doorstep_session"]


async def open_operator(base: str, email: str) -> Socket:
    cookie = await console_cookie(base, email)
    ws_base = base.replace("http://", "ws://")
    ws = await connect(
        f"{ws_base}/console/ws", additional_headers={"Cookie": f"doorstep_session={cookie}"}
    )
    return Socket(ws)
