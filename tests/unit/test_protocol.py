from typing import Annotated, Union

import orjson
import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from doorstep.web.ws import protocol as p


def test_a_valid_send_frame_parses() -> None:
    frame = p.parse_frame(
        p.visitor_frames, '{"type":"message.send","client_msg_id":"a","text":"hi","extra":1}'
    )
    assert isinstance(frame, p.VisitorSend) and frame.text == "hi"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "invalid_json"),
        ("null", "invalid_json"),
        ('"text"', "invalid_json"),
        ("{}", "unknown_type"),
        ('{"type": 5}', "unknown_type"),
        ('{"type":"message.send","client_msg_id":"","text":"x"}', "invalid_frame"),
        ('{"type":"message.send","client_msg_id":"' + "a" * 65 + '","text":"x"}', "invalid_frame"),
        ('{"type":"messages.read","seq":"many"}', "invalid_frame"),
        ("{" + " " * p.MAX_FRAME_BYTES + "}", "frame_too_large"),
        ('{"type":"messages.read","seq":2147483648}', "invalid_frame"),  # past INTEGER
        ('{"type":"resume","after_seq":-1}', "invalid_frame"),
        ('{"type":"message.send","client_msg_id":"a","text":"a\\u0000b"}', "invalid_text"),
        ('{"type":"visitor.set","attributes":{"k":["\\u0000"]}}', "invalid_text"),
        ('{"type":"visitor.set","attributes":{"\\u0000":1}}', "invalid_text"),
    ],
)
def test_bad_frames_map_to_stable_error_codes(raw: str, code: str) -> None:
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.visitor_frames, raw)
    assert caught.value.code == code


def test_the_largest_numbers_the_columns_hold_are_fine() -> None:
    read = p.parse_frame(p.visitor_frames, '{"type":"messages.read","seq":2147483647}')
    assert read.seq == 2**31 - 1
    raw = '{"type":"resume","conversation_id":9223372036854775807}'
    assert p.parse_frame(p.operator_frames, raw).conversation_id == 2**63 - 1
    with pytest.raises(p.FrameError):
        p.parse_frame(p.operator_frames, '{"type":"resume","conversation_id":9223372036854775808}')


def test_a_backslash_before_u0000_is_text_not_nul() -> None:
    raw = '{"type":"message.send","client_msg_id":"a","text":"\\\\u0000"}'
    assert p.parse_frame(p.visitor_frames, raw).text == "\\u0000"
    frame = p.parse_frame(p.visitor_frames, raw.encode())  # a binary frame alike
    assert frame.text == "\\u0000"


def test_an_error_answering_a_send_carries_its_client_msg_id() -> None:
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.operator_frames, '{"type":"message.send","client_msg_id":"c9","text":"x"}')
    assert caught.value.ids == {"client_msg_id": "c9"}  # conversation_id is missing


def test_operator_frames_need_a_conversation() -> None:
    frame = p.parse_frame(p.operator_frames, '{"type":"typing.start","conversation_id":3}')
    assert isinstance(frame, p.OperatorTyping) and frame.conversation_id == 3


# Frames are validated by the one model their `type` names (protocol.Frames), no longer through
# a discriminated union of every model; the answers must be the union's, code and message alike.


def _union_answer(frames: p.Frames, raw: str) -> tuple[str, str, dict[str, str]] | BaseModel:
    """What the discriminated union on `type` answered (parse_frame before Frames)."""
    models = tuple(dict.fromkeys(frames.models.values()))
    adapter = TypeAdapter(Annotated[Union[models], Field(discriminator="type")])  # noqa: UP007
    data = orjson.loads(raw)
    ids = p.frame_ids(data)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            return ("unknown_type", f"unknown frame type {str(data.get('type'))[:40]!r}", ids)
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        return ("invalid_frame", f"{where}: {first['msg']}", ids)


def _answer(frames: p.Frames, raw: str) -> tuple[str, str, dict[str, str]] | BaseModel:
    try:
        return p.parse_frame(frames, raw)
    except p.FrameError as exc:
        return (exc.code, exc.message, exc.ids)


PAGE_VIEW = {
    "type": "page.view",
    "client_id": "pv-1",
    "url": "https://shop.example/products/1?utm_source=x",
    "title": "Product 1",
    "referrer": "https://www.google.com/",
    "timezone": "Asia/Tokyo",
    "language": "ja",
    "screen": {"w": 390, "h": 844},
}
FRAMES_TO_COMPARE = [
    PAGE_VIEW,
    {"type": "page.view", "client_id": "pv-2", "url": "https://s.example/"},
    {**PAGE_VIEW, "url": "x" * 2001},
    {**PAGE_VIEW, "title": "t" * 2001},
    {**PAGE_VIEW, "referrer": "r" * 4001},
    {**PAGE_VIEW, "timezone": "z" * 101},
    {**PAGE_VIEW, "language": "l" * 101},
    {**PAGE_VIEW, "client_id": "c" * 65},
    {**PAGE_VIEW, "client_id": ""},
    {**PAGE_VIEW, "client_id": 7},
    {**PAGE_VIEW, "url": 5},
    {**PAGE_VIEW, "url": None},
    {**PAGE_VIEW, "title": ["a"]},
    {**PAGE_VIEW, "screen": "390x844"},
    {**PAGE_VIEW, "screen": {"w": "wide"}},
    {key: value for key, value in PAGE_VIEW.items() if key != "client_id"},
    {key: value for key, value in PAGE_VIEW.items() if key != "url"},
    {"type": "page.update", "client_id": "pv-1", "duration_ms": 1200, "scroll_depth": 40},
    {"type": "page.update", "client_id": "pv-1", "duration_ms": "long", "scroll_depth": 40},
    {"type": "message.send", "client_msg_id": "m1", "text": "hi"},
    {"type": "message.send", "client_msg_id": "m1", "text": "x" * 40_001},
    {"type": "message.send", "text": "no id"},
    {"type": "typing.start"},
    {"type": "typing.stop", "conversation_id": 3},
    {"type": "messages.read", "seq": 3},
    {"type": "messages.read", "seq": 2**31 + 1},
    {"type": "resume", "after_seq": -4},
    {"type": "resume"},
    {"type": "ping"},
    {"type": "presence.set", "status": "online"},
    {"type": "presence.set", "status": "asleep"},
    {"type": "visitor.identify", "client_msg_id": "i1", "traits": {"email": "a@b.example"}},
    {"type": "visitor.identify", "traits": "me"},
    {"type": "visitor.set", "attributes": []},
    {"type": "event.track", "client_msg_id": "e1", "name": "n" * 101},
    {"type": "event.track", "name": "cart", "properties": {"value": 3}},
    {"type": "email.submit", "client_msg_id": "s1", "email": "e" * 1001},
    {"type": "message.send", "conversation_id": 0, "client_msg_id": "o1", "text": "x"},
    {"type": "teleport", "client_id": "t1"},
    {"type": "x" * 100},
    {"type": ""},
    {"type": None, "client_msg_id": "n1"},
    {"type": 5},
    {"type": True},
    {"type": ["page.view"]},
    {"type": {"page.view": 1}},
    {"client_id": "no type"},
    {},
]


@pytest.mark.parametrize(
    "frames", [p.visitor_frames, p.operator_frames], ids=["visitor", "operator"]
)
@pytest.mark.parametrize("frame", FRAMES_TO_COMPARE)
def test_each_frame_gets_the_answer_the_discriminated_union_gave(frames, frame) -> None:
    raw = orjson.dumps(frame).decode()
    assert _answer(frames, raw) == _union_answer(frames, raw)


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"url": "u" * 2001}, "url"),
        ({"title": "t" * 2001}, "title"),
        ({"referrer": "r" * 4001}, "referrer"),
        ({"timezone": "z" * 101}, "timezone"),
        ({"language": "l" * 101}, "language"),
        ({"client_id": "c" * 65}, "client_id"),
        ({"url": 5}, "url"),
        ({"title": {"text": "t"}}, "title"),
        ({"screen": [390, 844]}, "screen"),
        ({"screen": {"w": 1.5}}, "screen.w"),
    ],
)
def test_oversized_or_mistyped_page_view_fields_are_refused(changes, where) -> None:
    raw = orjson.dumps({**PAGE_VIEW, **changes}).decode()
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.visitor_frames, raw)
    assert caught.value.code == "invalid_frame"
    assert caught.value.message.startswith(f"{where}: ")
    # The id is echoed as sent (even too long), so that the widget can match the refusal.
    assert caught.value.ids == {"client_id": changes.get("client_id", "pv-1")}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\x00\xff\xfe", "invalid_json"),
        ("{'type': 'page.view'}", "invalid_json"),
        ('{"type": "page.view"', "invalid_json"),
        ("[]", "invalid_json"),
        ("1e999", "invalid_json"),
        ('{"type": ["page.view"]}', "unknown_type"),
        ('{"type": {"page.view": true}}', "unknown_type"),
        ('{"type": "PAGE.VIEW", "client_id": "a", "url": "https://s.example/"}', "unknown_type"),
        ('{"type": "page.view"}', "invalid_frame"),
        (b'{"type": "page.view", "client_id": "a", "url": "https://s.example/"}', None),
        (
            '{"type": "page.view", "client_id": "a", "url": "' + "u" * 70_000 + '"}',
            "frame_too_large",
        ),
    ],
)
def test_garbage_is_refused_with_stable_codes(raw: str | bytes, code: str | None) -> None:
    if code is None:
        assert isinstance(p.parse_frame(p.visitor_frames, raw), p.PageViewFrame)
        return
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.visitor_frames, raw)
    assert caught.value.code == code


def test_a_page_view_keeps_every_field_the_tracker_reads() -> None:
    frame = p.parse_frame(p.visitor_frames, orjson.dumps({**PAGE_VIEW, "extra": 1}))
    assert isinstance(frame, p.PageViewFrame)
    assert frame.__dict__ == {key: value for key, value in PAGE_VIEW.items()}


def test_a_type_is_accepted_by_one_model_only() -> None:
    assert set(p.visitor_frames.models) >= {"page.view", "typing.start", "typing.stop", "ping"}
    assert p.operator_frames.models["typing.start"] is p.OperatorTyping
    with pytest.raises(ValueError, match="two frame models"):
        p.Frames(p.Ping, p.Typing, p.Ping)
