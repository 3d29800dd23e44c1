"""The operator socket used by the console (docs/websocket.md, "Operator socket")."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from doorstep.domain.models import Operator
from doorstep.services import conversations, operators, sites
from doorstep.services.context import Ctx
from doorstep.web.collector import FullCollections
from doorstep.web.console.auth import current_session, same_origin
from doorstep.web.ws import protocol as p
from doorstep.web.ws.hub import Connection, Hub
from doorstep.web.ws.limits import TokenBucket
from doorstep.web.ws.loop import receive_frames


async def operator_socket(websocket: WebSocket) -> None:
    ctx: Ctx = websocket.state.ctx
    hub: Hub = websocket.state.hub
    collector: FullCollections = websocket.state.collector
    await websocket.accept()
    if not same_origin(ctx, websocket):
        await websocket.close(code=4403, reason="cross-origin")
        return
    session = await current_session(ctx, websocket)
    if session is None:
        await websocket.close(code=4401, reason="sign in first")
        return
    conn = Connection(websocket, session.operator.id)
    hub.watch_session(conn, session.id, session.expires_at)
    try:
        # Ended while the hub did not know this socket yet: its event has gone by, so look
        # once more now that any later one will find the socket.
        state = await operators.session_state(ctx, session.id)
        if state != "active":
            await conn.close(4401, f"session_{state}")
            return
        await _serve(ctx, hub, collector, conn, session)
    finally:
        conn.closed = True
        hub.unwatch_session(conn, session.id)


async def _serve(
    ctx: Ctx,
    hub: Hub,
    collector: FullCollections,
    conn: Connection,
    session: operators.ConsoleSession,
) -> None:
    operator = session.operator
    site_ids = {site.id for site in await sites.list_sites(ctx, operator)}
    await operators.connect_console(ctx, operator)
    try:
        conn.push(
            {
                "type": "ready",
                "operator": {
                    **operator.public(),
                    "status": operators.effective_status(ctx, operator),
                },
                "presence": await operators.team_presence(ctx, operator),
            }
        )
        # Registered after `ready` is queued, so `ready` is always the first frame; the
        # console fetches its lists when it gets `ready`, so nothing before it is missed.
        hub.add_operator(conn, site_ids)

        async def dispatch(frame: Any) -> dict[str, Any] | None:
            if conn.closed:  # its session ended (Hub.end_sessions): nothing more is done
                return None
            # Looked up again before each frame it acts on: a session ended on a node whose
            # event never arrived here (or expired a moment ago) does nothing more.
            if not isinstance(frame, p.Ping) and not await _close_unless_active(
                ctx, hub, conn, session.id
            ):
                return None
            return await _dispatch(ctx, operator, frame)

        await receive_frames(
            conn.websocket,
            conn,
            p.operator_frames,
            dispatch,
            TokenBucket(rate=30, burst=100),
            collector,
        )
    finally:
        conn.closed = True
        hub.remove_operator(conn, site_ids)
        await operators.disconnect_console(ctx, operator)


async def _close_unless_active(ctx: Ctx, hub: Hub, conn: Connection, session_id: int) -> bool:
    state = await operators.session_state(ctx, session_id)
    if state != "active":
        hub.close_now(conn, 4401, f"session_{state}")  # session_ended, session_expired
    return state == "active"


async def _dispatch(ctx: Ctx, operator: Operator, frame: Any) -> dict[str, Any] | None:
    match frame:
        case p.Ping():
            return {"type": "pong"}
        case p.OperatorSend():
            sent = await conversations.send_operator_message(
                ctx,
                operator,
                frame.conversation_id,
                text=frame.text,
                client_msg_id=frame.client_msg_id,
                internal=frame.internal,
            )
            return {
                "type": "message.ack",
                "client_msg_id": frame.client_msg_id,
                "message": sent.message.public(),
            }
        case p.OperatorResume():
            found = await conversations.operator_messages_after(
                ctx, operator, frame.conversation_id, frame.after_seq
            )
            return {
                "type": "messages",
                "conversation_id": frame.conversation_id,
                "messages": [m.public() for m in found],
            }
        case p.OperatorTyping():
            await conversations.operator_typing(
                ctx, operator, frame.conversation_id, frame.type == "typing.start"
            )
        case p.OperatorRead():
            await conversations.mark_read_by_operator(
                ctx, operator, frame.conversation_id, frame.seq
            )
        case p.PresenceSet():
            await operators.set_presence(ctx, operator, frame.status)
    return None
