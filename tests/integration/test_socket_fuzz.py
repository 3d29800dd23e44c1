"""Fuzzing both sockets: whatever a client sends, the loop answers and goes on.

Each example opens a socket on the real server, sends a few frames drawn by hypothesis (any
text or bytes, any JSON value, and frames of a real `type` whose fields hold the wrong types,
numbers past every bound such as 2^63 and 2^64, or nested junk), then a `ping`. The socket must
still answer `pong`, no answer may be an `internal` error (a frame that failed in the server),
and nothing may be logged as an unhandled error. The widget's session request, the visitor
socket's way in, gets the same treatment: any body, an answer below 500.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from doorstep.services import conversations
from doorstep.services.context import Ctx
from doorstep.web.ws.protocol import MAX_FRAME_BYTES, Frames, operator_frames, visitor_frames
from tests.conftest import PG_URL, _truncate, settings_for
from tests.factories import PASSWORD, Factory
from tests.threaded_server import ThreadedServer, running

EXAMPLES = 100  # per socket and database: each opens a socket, so about 10 ms apiece
BIG_NUMBERS = [2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
# U+0000 (no PostgreSQL column takes it), a lone surrogate, a line separator.
ODD_TEXTS = ["\x00", "a\x00b", "\ud800", "\u2028", "", " " * 3]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(BIG_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(ODD_TEXTS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


# A valid frame of each type; the fuzz keeps or spoils each of its fields.
CONVERSATION = 1  # the seeded conversation
VISITOR_FRAMES: dict[str, dict[str, Any]] = {
    "ping": {},
    "resume": {"after_seq": 0},
    "message.send": {"client_msg_id": "c1", "text": "Hello"},
    "typing.start": {},
    "typing.stop": {},
    "messages.read": {"seq": 1},
    "visitor.identify": {
        "client_msg_id": "i1",
        "traits": {"name": "Ann", "email": "ann@example.com", "user_id": "u1", "plan": "pro"},
    },
    "visitor.set": {"client_msg_id": "s1", "attributes": {"plan": "pro", "cart": 3}},
    "event.track": {"client_msg_id": "e1", "name": "signup", "properties": {"n": 1}},
    "email.submit": {"client_msg_id": "m1", "email": "ann@example.com"},
    "page.view": {
        "client_id": "p1",
        "url": "https://shop.example/a?utm_source=x",
        "title": "A",
        "referrer": "https://www.google.com/",
        "timezone": "Europe/Berlin",
        "language": "en",
        "screen": {"w": 1280, "h": 720},
    },
    "page.update": {"client_id": "p1", "duration_ms": 1000, "scroll_depth": 50},
}
OPERATOR_FRAMES: dict[str, dict[str, Any]] = {
    "ping": {},
    "resume": {"conversation_id": CONVERSATION, "after_seq": 0},
    "message.send": {"conversation_id": CONVERSATION, "client_msg_id": "o1", "text": "Hi"},
    "typing.start": {"conversation_id": CONVERSATION},
    "typing.stop": {"conversation_id": CONVERSATION},
    "messages.read": {"conversation_id": CONVERSATION, "seq": 1},
    "presence.set": {"status": "online"},
}


def spoiled(value: Any) -> st.SearchStrategy[Any]:
    """The value itself, an edge value of its type, or any junk instead."""
    if isinstance(value, str):
        near = st.sampled_from(ODD_TEXTS) | st.text(max_size=40) | st.just("x" * 5000)
    elif isinstance(value, int):
        near = st.sampled_from(BIG_NUMBERS) | st.integers() | st.floats()
    else:  # an object: its own keys or new ones, with junk values
        keys = st.sampled_from(sorted(value)) | st.text(max_size=12)
        junk = st.dictionaries(keys, json_values, max_size=4)
        near = junk.map(lambda extra: {**value, **extra})
    return st.one_of(st.just(value), near, near, json_values)


def near_valid(templates: dict[str, dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A frame of a `type` the socket knows, some of its fields spoiled, others left out."""

    def frame_of(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        fields = {name: spoiled(value) for name, value in templates[kind].items()}
        return st.fixed_dictionaries({"type": st.just(kind), **fields}) | st.fixed_dictionaries(
            {"type": st.just(kind)}, optional=fields
        )

    return st.sampled_from(sorted(templates)).flatmap(frame_of)


def raw_frames(templates: dict[str, dict[str, Any]]) -> st.SearchStrategy[str | bytes]:
    # json.dumps, not orjson: it writes integers past 64 bits, as a hostile client could.
    frames = near_valid(templates).map(json.dumps)
    return st.one_of(
        frames,
        frames,
        frames.map(str.encode),  # the same as a binary frame
        json_values.map(json.dumps),
        st.text(max_size=200),
        st.binary(max_size=200),
        st.just("x" * (MAX_FRAME_BYTES + 1)),
    )


async def _seed(ctx: Ctx) -> dict[str, Any]:
    factory = Factory(ctx)
    site = await factory.site(name="Shop", key="fuzz-shop")
    operator = await factory.operator(site)
    visitor, token = await factory.visitor_with_token(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="1")
    assert sent.conversation.id == CONVERSATION
    return {
        "site_key": site.key,
        "visitor_token": token,
        "operator_email": operator.email,
        "conversation_id": sent.conversation.id,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ThreadedServer]:
    data_dir = tmp_path_factory.mktemp("socket-fuzz")
    if request.param == "sqlite":
        shutil.copy(sqlite_template, data_dir / "doorstep.db")
        url = f"sqlite+aiosqlite:///{data_dir / 'doorstep.db'}"
    elif PG_URL:
        url = request.getfixturevalue("pg_migrated")
        _truncate(url)
    else:
        pytest.skip("DOORSTEP_TEST_DATABASE_URL is not set")
    with running(settings_for(url, data_dir), _seed) as live:
        yield live


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:  # one, since making a client costs tens of ms
        yield client


@pytest.fixture(scope="module")
def console_cookie(server: ThreadedServer) -> str:
    response = httpx.post(
        f"{server.url}/console/login",
        data={"email": server.seeded["operator_email"], "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    return response.cookies["doorstep_session"]


def _answers_after(ws: ClientConnection, sent: list[str | bytes]) -> list[dict[str, Any]]:
    """Everything the socket answers to `sent` and a ping, up to the pong."""
    for frame in sent:
        ws.send(frame)
    ws.send('{"type": "ping"}')
    answers = []
    while True:
        answer = orjson.loads(ws.recv(timeout=5))
        answers.append(answer)
        if answer["type"] == "pong":
            return answers


def _assert_survives(server: ThreadedServer, ws: ClientConnection, sent: list[Any]) -> None:
    server.take_errors()
    # A visitor socket hears its contact's events from before `ready` on (a reply the moved
    # clock let the automatic replies send, say): those may come first.
    while orjson.loads(ws.recv(timeout=5))["type"] != "ready":
        pass
    answers = _answers_after(ws, sent)
    failed = [a for a in answers if a["type"] == "error" and a["code"] == "internal"]
    assert failed == []
    assert server.take_errors() == []


@pytest.mark.parametrize(
    ("templates", "frames"), [(VISITOR_FRAMES, visitor_frames), (OPERATOR_FRAMES, operator_frames)]
)
def test_every_frame_type_is_fuzzed(templates: dict[str, Any], frames: Frames) -> None:
    assert set(templates) == set(frames.models)
    for kind, fields in templates.items():
        frames.models[kind].model_validate({"type": kind, **fields})  # the templates are valid


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(sent=st.lists(raw_frames(VISITOR_FRAMES), min_size=1, max_size=4))
def test_the_visitor_socket_survives_any_frame(server: ThreadedServer, sent: list[Any]) -> None:
    server.advance(minutes=1)  # the visitor's rate limits refill
    seeded = server.seeded
    url = server.url.replace("http://", "ws://")
    query = f"site={seeded['site_key']}&token={seeded['visitor_token']}"
    with connect(f"{url}/widget/v1/ws?{query}", max_size=None) as ws:
        _assert_survives(server, ws, sent)


@FUZZ
@given(sent=st.lists(raw_frames(OPERATOR_FRAMES), min_size=1, max_size=4))
def test_the_operator_socket_survives_any_frame(
    server: ThreadedServer, console_cookie: str, sent: list[Any]
) -> None:
    url = server.url.replace("http://", "ws://")
    headers = {"Cookie": f"doorstep_session={console_cookie}"}
    with connect(f"{url}/console/ws", additional_headers=headers, max_size=None) as ws:
        _assert_survives(server, ws, sent)


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "site": spoiled("fuzz-shop"),
                "token": spoiled("1-1-0.x"),
                "locale": spoiled("en-US"),
            },
        ).map(json.dumps),
        json_values.map(json.dumps),
        st.binary(max_size=200),
    )
)
def test_the_widget_session_answers_any_body_without_a_server_error(
    server: ThreadedServer, http: httpx.Client, body: str | bytes
) -> None:
    """The visitor socket's way in: a session, or a 4xx in the widget's error shape."""
    server.advance(minutes=1)  # new visitors per address refill
    server.take_errors()
    response = http.post(f"{server.url}/widget/v1/session", content=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}
    assert server.take_errors() == []
