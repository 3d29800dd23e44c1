"""The visitor socket used by the widget (docs/websocket.md, "Visitor socket").

Its abuse limits (docs/security.md): a site's allowed origins and the open sockets per
visitor are checked at the door, the writes of each frame are counted per visitor and per
client address (services/abuse.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from starlette.websockets import WebSocket

from doorstep.domain.models import Site, Visitor
from doorstep.errors import DomainError
from doorstep.services import abuse, conversations, email_capture, sites, tracking, visitors
from doorstep.services.context import Ctx
from doorstep.web.client_ip import client_ip
from doorstep.web.collector import FullCollections
from doorstep.web.ws import protocol as p
from doorstep.web.ws.hub import Connection, Hub
from doorstep.web.ws.limits import TokenBucket
from doorstep.web.ws.loop import receive_frames

FRAMES_PER_SECOND = 10
FRAME_BURST = 40
# Close codes of a refused socket, by the refusal's HTTP status.
CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404}
TOO_MANY_SOCKETS = 4429


async def visitor_socket(websocket: WebSocket) -> None:
    ctx: Ctx = websocket.state.ctx
    hub: Hub = websocket.state.hub
    collector: FullCollections = websocket.state.collector
    await websocket.accept()
    admitted = await _admit(websocket, ctx)
    if admitted is None:
        return
    site, visitor = admitted
    client = tracking.Client(
        websocket.headers.get("user-agent"), client_ip(websocket, ctx.settings.trusted_proxies)
    )
    conn = Connection(websocket, contact_id=visitor.contact_id)
    session = _Session(
        visitor, client, conn, hub, has_conversation=False, address=abuse.address_of(client.ip)
    )
    hub.add_visitor(conn, visitor.contact_id)
    try:
        await tracking.connect_visitor(ctx, visitor, client)
        conversation = await conversations.visitor_conversation(ctx, visitor)
        session.has_conversation = conversation is not None
        team = await sites.site_team(ctx, site.id)
        conn.push(
            {
                "type": "ready",
                "visitor_id": visitor.id,
                "conversation": conversation.for_visitor() if conversation else None,
                "operators": [member.public() for member in team],
                "email_known": await visitors.visitor_email_known(ctx, visitor),
            }
        )
        bucket = TokenBucket(FRAMES_PER_SECOND, FRAME_BURST)

        async def dispatch(frame: Any) -> dict[str, Any] | None:
            if conn.closed:  # signed out (Hub.sign_out): nothing more is done for it
                return None
            # A merge moves this socket to another contact (Hub.deliver); follow it.
            contact_id = conn.contact_id or session.visitor.contact_id
            if contact_id != session.visitor.contact_id:
                session.visitor = replace(session.visitor, contact_id=contact_id)
                session.has_conversation = False  # unknown: the slower path finds out
            return await _dispatch(ctx, session, frame)

        await receive_frames(websocket, conn, p.visitor_frames, dispatch, bucket, collector)
    finally:
        conn.closed = True
        abuse.close_socket(ctx, visitor.id)
        hub.remove_visitor(conn, conn.contact_id or session.visitor.contact_id)
        await tracking.disconnect_visitor(ctx, session.visitor, client)


async def _admit(websocket: WebSocket, ctx: Ctx) -> tuple[Site, Visitor] | None:
    """The site and visitor of a socket allowed in, counted among the visitor's open sockets
    (the caller gives it back); else the socket is closed with the code that says why."""
    try:
        site = await sites.find_site_by_key(ctx, websocket.query_params.get("site", ""))
        sites.check_widget_origin(site, websocket.headers.get("origin"))
        visitor = await visitors.visitor_for_token(ctx, site, websocket.query_params.get("token"))
    except DomainError as exc:
        await websocket.close(code=CLOSE_CODES.get(exc.status, 4401), reason=exc.code)
        return None
    if not abuse.open_socket(ctx, visitor.id):
        await websocket.close(code=TOO_MANY_SOCKETS, reason="too_many_sockets")
        return None
    return site, visitor


@dataclass(slots=True)
class _Session:
    """What one visitor socket knows between frames."""

    visitor: Visitor
    client: tracking.Client
    conn: Connection
    hub: Hub
    # Whether the visitor is known to have a conversation: a message then tries the quick
    # way to continue it first (services/conversations.py, `send_visitor_message`).
    has_conversation: bool
    address: str | None  # the client's, as the abuse limits count it


async def _dispatch(ctx: Ctx, session: _Session, frame: Any) -> dict[str, Any] | None:
    visitor, client = session.visitor, session.client
    limit = _LIMITS.get(type(frame))  # message.send is counted by its service
    if limit is not None:
        limit(ctx, visitor.id, session.address)
    match frame:
        case p.PageViewFrame():  # first: nearly every frame a widget sends is a page view
            visit_id = await tracking.record_page_view(
                ctx, visitor, client, frame.client_id, frame.__dict__
            )
            return {"type": "page.ack", "client_id": frame.client_id, "visit_id": visit_id}
        case p.Ping():
            return {"type": "pong"}
        case p.VisitorSend():
            sent = await conversations.send_visitor_message(
                ctx,
                visitor,
                text=frame.text,
                client_msg_id=frame.client_msg_id,
                has_conversation=session.has_conversation,
                address=session.address,
            )
            session.has_conversation = True
            return {
                "type": "message.ack",
                "client_msg_id": frame.client_msg_id,
                "message": sent.message.public(),
            }
        case p.VisitorResume():
            conversation, found = await conversations.visitor_messages_after(
                ctx, visitor, frame.after_seq
            )
            return {
                "type": "messages",
                "conversation_id": conversation.id if conversation else None,
                "messages": [m.public() for m in found],
                "last_seq": conversation.last_seq if conversation else 0,
            }
        case p.Typing():
            await conversations.visitor_typing(ctx, visitor, frame.type == "typing.start")
        case p.VisitorRead():
            await conversations.mark_read_by_visitor(ctx, visitor, frame.seq)
        case p.Identify():
            identified = await visitors.identify_visitor(ctx, visitor, frame.traits)
            if identified.visitor is not None:
                await _become(ctx, session, identified.visitor)
            return _updated(frame, identified)
        case p.SetAttributes():
            contact = await visitors.set_visitor_attributes(ctx, visitor, frame.attributes)
            return _updated(frame, visitors.Identified(contact))
        case p.Track():
            name = await tracking.track_event(
                ctx, visitor, frame.name, frame.properties, client_id=frame.client_msg_id
            )
            return {"type": "event.ack", "name": name, "client_msg_id": frame.client_msg_id}
        case p.EmailSubmit():
            captured = await email_capture.capture_email(
                ctx, visitor, email=frame.email, client_msg_id=frame.client_msg_id
            )
            return {
                "type": "email.accepted",
                "client_msg_id": frame.client_msg_id,
                "email_hint": captured.email_hint,
            }
        case p.PageUpdateFrame():
            await tracking.record_page_progress(
                ctx, visitor, frame.client_id, frame.duration_ms, frame.scroll_depth
            )
    return None


# The frames that write, other than message.send, and the limit each counts against.
_LIMITS = {
    p.PageViewFrame: abuse.take_tracking,
    p.PageUpdateFrame: abuse.take_tracking,
    p.Track: abuse.take_tracking,
    p.Identify: abuse.take_tracking,
    p.SetAttributes: abuse.take_tracking,
    p.EmailSubmit: abuse.take_message,
}


async def _become(ctx: Ctx, session: _Session, visitor: Visitor) -> None:
    """The browser proved another identity and is now a new visitor of that contact: from
    this frame on the socket hears only the new contact's frames, and acts as the new
    visitor. The widget keeps the new token and reconnects for the new history."""
    old = session.visitor
    session.hub.remove_visitor(session.conn, session.conn.contact_id or old.contact_id)
    await tracking.disconnect_visitor(ctx, old, session.client)
    session.conn.contact_id = visitor.contact_id
    session.hub.add_visitor(session.conn, visitor.contact_id)
    session.visitor = visitor
    session.has_conversation = False
    await tracking.connect_visitor(ctx, visitor, session.client)


def _updated(frame: Any, identified: visitors.Identified) -> dict[str, Any]:
    answer = {
        "type": "visitor.updated",
        "email_known": identified.contact.email is not None,
        "identity": identified.standing,
        "client_msg_id": frame.client_msg_id,
    }
    if identified.verification not in (None, "verified"):
        answer["verification"] = identified.verification  # why the identity stays a claim
    if identified.visitor is not None:
        answer["visitor_id"] = identified.visitor.id
        answer["token"] = identified.token
    return answer
