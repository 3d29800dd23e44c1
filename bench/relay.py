"""The baseline for bench/sockets.py: a bare WebSocket relay with no Doorstep code.

It answers the same paths the benchmark's client uses against Doorstep, so one client drives
both:

- ``POST /widget/v1/session`` answers a random token (nothing is stored);
- ``POST /console/login`` answers 303 with a ``doorstep_session`` cookie (nothing is checked);
- ``/widget/v1/ws`` (visitor socket) sends ``{"type":"ready"}``, then for every text frame it
  receives, forwards the frame unchanged to ONE operator socket (round robin) and answers the
  visitor with an ack that wraps the raw frame, without parsing any JSON;
- ``/console/ws`` (operator socket) sends ``{"type":"ready"}`` and waits.

It runs under the uvicorn settings of ``doorstep serve`` (src/doorstep/cli.py): httptools,
websockets-sansio, per-message deflate off, 1 MiB frame limit, the same loop and log level.

    .venv/bin/python bench/relay.py --port 8100
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
from collections import deque

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

WS_MAX_BYTES = 1024 * 1024  # as doorstep.cli.WS_MAX_BYTES (not imported: no Doorstep code here)
READY = '{"type":"ready"}'

operators: deque[WebSocket] = deque()


async def start_session(_request: Request) -> Response:
    return JSONResponse({"token": secrets.token_urlsafe(24), "ws_url": "/widget/v1/ws"})


async def login(_request: Request) -> Response:
    response = Response(status_code=303, headers={"location": "/console/"})
    response.set_cookie("doorstep_session", secrets.token_urlsafe(24), httponly=True)
    return response


async def visitor_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(READY)
    try:
        while True:
            raw = await websocket.receive_text()
            if operators:
                target = operators[0]
                operators.rotate(-1)
                # If that operator went away, its own handler unregisters it.
                with contextlib.suppress(Exception):
                    await target.send_text(raw)
            await websocket.send_text('{"type":"message.ack","frame":' + raw + "}")
    except WebSocketDisconnect:
        return


async def operator_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(READY)
    operators.append(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        return
    finally:
        operators.remove(websocket)


app = Starlette(
    routes=[
        Route("/healthz", lambda _r: JSONResponse({"status": "ok"})),
        Route("/widget/v1/session", start_session, methods=["POST"]),
        Route("/console/login", login, methods=["POST"]),
        WebSocketRoute("/widget/v1/ws", visitor_socket),
        WebSocketRoute("/console/ws", operator_socket),
    ]
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info", help="as DOORSTEP_LOG_LEVEL (default info)")
    args = parser.parse_args(argv)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=WS_MAX_BYTES,
        log_level=args.log_level,
        proxy_headers=False,
        lifespan="off",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
