"""Frames the sockets accept, validated with size limits (docs/websocket.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from doorstep.domain.models import MAX_ID, MAX_MESSAGE_CHARS, MAX_SEQ
from doorstep.domain.plain_text import NUL_MESSAGE, has_nul

MAX_FRAME_BYTES = 64 * 1024
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64)]
# Bounded like the columns they reach (domain/models.py): a larger number is refused here.
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
ConversationId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Ping(_Frame):
    type: Literal["ping"]


class VisitorResume(_Frame):
    type: Literal["resume"]
    after_seq: Seq = 0


class VisitorSend(_Frame):
    type: Literal["message.send"]
    client_msg_id: ClientMsgId
    # Length is checked by the service so that the answer can carry its own error code.
    text: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS * 4)]


class Typing(_Frame):
    type: Literal["typing.start", "typing.stop"]


class VisitorRead(_Frame):
    type: Literal["messages.read"]
    seq: Seq


class Identify(_Frame):
    type: Literal["visitor.identify"]
    client_msg_id: ClientMsgId | None = None
    traits: dict[str, Any]


class SetAttributes(_Frame):
    type: Literal["visitor.set"]
    client_msg_id: ClientMsgId | None = None
    attributes: dict[str, Any]


class Track(_Frame):
    type: Literal["event.track"]
    client_msg_id: ClientMsgId | None = None
    name: Annotated[str, Field(max_length=100)]
    properties: dict[str, Any] | None = None


class EmailSubmit(_Frame):
    type: Literal["email.submit"]
    client_msg_id: ClientMsgId | None = None
    # The address is checked by the service, so that the answer carries `invalid_email`.
    email: Annotated[str, Field(max_length=1000)]


class PageViewFrame(_Frame):
    type: Literal["page.view"]
    client_id: ClientMsgId
    url: Annotated[str, Field(max_length=2000)]
    title: Annotated[str, Field(max_length=2000)] | None = None
    referrer: Annotated[str, Field(max_length=4000)] | None = None
    timezone: Annotated[str, Field(max_length=100)] | None = None
    language: Annotated[str, Field(max_length=100)] | None = None
    screen: dict[str, int] | None = None


class PageUpdateFrame(_Frame):
    type: Literal["page.update"]
    client_id: ClientMsgId
    duration_ms: int
    scroll_depth: int


class OperatorResume(_Frame):
    type: Literal["resume"]
    conversation_id: ConversationId
    after_seq: Seq = 0


class OperatorSend(_Frame):
    type: Literal["message.send"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS * 4)]
    internal: bool = False


class OperatorTyping(_Frame):
    type: Literal["typing.start", "typing.stop"]
    conversation_id: ConversationId


class OperatorRead(_Frame):
    type: Literal["messages.read"]
    conversation_id: ConversationId
    seq: Seq


class PresenceSet(_Frame):
    type: Literal["presence.set"]
    status: Literal["online", "away"]


class Frames:
    """The frames one socket accepts, by their `type`.

    A frame is validated by the one model its `type` names, the way a discriminated union on
    `type` would, without trying the union: this is on the path of every frame.
    """

    __slots__ = ("models",)

    def __init__(self, *models: type[_Frame]) -> None:
        self.models: dict[str, type[_Frame]] = {}
        for model in models:
            for kind in get_args(model.model_fields["type"].annotation):
                if kind in self.models:
                    raise ValueError(f"two frame models for {kind!r}")
                self.models[kind] = model


visitor_frames = Frames(
    Ping,
    VisitorResume,
    VisitorSend,
    Typing,
    VisitorRead,
    Identify,
    SetAttributes,
    Track,
    EmailSubmit,
    PageViewFrame,
    PageUpdateFrame,
)
operator_frames = Frames(
    Ping, OperatorResume, OperatorSend, OperatorTyping, OperatorRead, PresenceSet
)


ID_FIELDS = ("client_msg_id", "client_id")


def frame_ids(frame: Any) -> dict[str, str]:
    """The client's ids a frame carries (a parsed frame or a raw dict), to echo in answers."""
    get = frame.get if isinstance(frame, dict) else lambda name: getattr(frame, name, None)
    return {name: value for name in ID_FIELDS if isinstance(value := get(name), str)}


class FrameError(Exception):
    def __init__(self, code: str, message: str, ids: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ids = ids or {}


_NUL_TEXT = "\\u0000"
_NUL_BYTES = _NUL_TEXT.encode()


def parse_frame(frames: Frames, raw: str | bytes) -> Any:
    """A validated frame, or FrameError with the code the client gets back."""
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"a frame has at most {MAX_FRAME_BYTES} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", "a frame is one JSON object") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_json", "a frame is one JSON object")
    kind = data.get("type")
    model = frames.models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise FrameError("unknown_type", f"unknown frame type {str(kind)[:40]!r}", frame_ids(data))
    # JSON can carry U+0000 only as an escape: the walk runs for the frames that have one.
    if (_NUL_TEXT if isinstance(raw, str) else _NUL_BYTES) in raw and has_nul(data):
        raise FrameError("invalid_text", NUL_MESSAGE, frame_ids(data))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise FrameError("invalid_frame", f"{where}: {first['msg']}", frame_ids(data)) from None


def error_frame(
    code: str, message: str, ids: dict[str, str] | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    """An error; `ids` (client_msg_id, client_id) name the write it refuses, for a retry,
    and `retry_after` the whole seconds to wait before it (a `rate_limited` refusal)."""
    frame = {"type": "error", "code": code, "message": message, **(ids or {})}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame
