"""The receive loop both sockets share: bounded frames, errors as frames, never a crash."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from doorstep.errors import DomainError
from doorstep.web.collector import FullCollections
from doorstep.web.ws.hub import Connection
from doorstep.web.ws.limits import TokenBucket
from doorstep.web.ws.protocol import FrameError, Frames, error_frame, frame_ids, parse_frame

log = logging.getLogger(__name__)
Dispatch = Callable[[Any], Awaitable[dict[str, Any] | None]]


async def receive_frames(
    websocket: WebSocket,
    conn: Connection,
    frames: Frames,
    dispatch: Dispatch,
    bucket: TokenBucket,
    collector: FullCollections,
) -> None:
    """Answer each frame in turn until the peer goes away; the collector hears of the
    socket's life and of each frame."""
    collector.socket_opened()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            collector.frame_received()  # the node is not quiet: no full collection now
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            await _answer(raw, conn, frames, dispatch, bucket)
    finally:
        collector.socket_closed()


async def _answer(
    raw: str | bytes,
    conn: Connection,
    frames: Frames,
    dispatch: Dispatch,
    bucket: TokenBucket,
) -> None:
    frame = None
    try:
        frame = parse_frame(frames, raw)
        # Checked after parsing so the refusal names the write (client_msg_id) to retry.
        if bucket.take():
            reply = await dispatch(frame)
        else:  # the bucket has a token again within a second
            reply = error_frame(
                "rate_limited", "too many frames; slow down and retry", frame_ids(frame), 1
            )
    except FrameError as exc:
        reply = error_frame(exc.code, exc.message, exc.ids)
    except DomainError as exc:
        # `rate_limited` (services/abuse.py) says when to retry.
        wait = getattr(exc, "retry_after", None)
        reply = error_frame(exc.code, exc.message, frame_ids(frame), wait)
    except WebSocketDisconnect:
        raise
    except Exception:
        log.exception("socket frame failed")
        reply = error_frame("internal", "something went wrong; retry", frame_ids(frame))
    if reply is not None:
        await conn.reply(reply)
