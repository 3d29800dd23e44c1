import pytest

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
    ],
)
def test_bad_frames_map_to_stable_error_codes(raw: str, code: str) -> None:
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.visitor_frames, raw)
    assert caught.value.code == code


def test_an_error_answering_a_send_carries_its_client_msg_id() -> None:
    with pytest.raises(p.FrameError) as caught:
        p.parse_frame(p.operator_frames, '{"type":"message.send","client_msg_id":"c9","text":"x"}')
    assert caught.value.ids == {"client_msg_id": "c9"}  # conversation_id is missing


def test_operator_frames_need_a_conversation() -> None:
    frame = p.parse_frame(p.operator_frames, '{"type":"typing.start","conversation_id":3}')
    assert isinstance(frame, p.OperatorTyping) and frame.conversation_id == 3
