"""Bad input gets a 4xx (or an error frame), never a 500: the cases the fuzzing found.

Each of these once reached the database or a conversion unchecked and failed there: ids past
64 bits, counters past 32 bits, moments past the calendar, U+0000 (which PostgreSQL stores
nowhere), numbers no JSON writer of 64-bit integers can send on.
"""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from doorstep.domain.models import MAX_ID, MAX_SEQ
from doorstep.services import conversations
from tests.factories import Factory
from tests.wsclient import open_visitor

TOO_BIG = MAX_ID + 1  # 9223372036854775808: the probe that answered 500


def refused(response: httpx.Response, code: str = "invalid_input") -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error["message"]


@pytest.fixture
async def conversation_id(api, factory: Factory, ctx) -> int:
    site, _clients = api
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="1")
    return sent.conversation.id


@pytest.mark.parametrize("bad_id", [str(TOO_BIG), str(2**64), "0", "-1", "1.5", "abc"])
async def test_a_path_id_outside_1_to_2_63_minus_1_is_422(api, bad_id: str) -> None:
    _site, clients = api
    for path in ("/conversations/{}", "/contacts/{}", "/segments/{}", "/sites/{}"):
        message = refused(await clients["admin"].get(path.format(bad_id)))
        assert "conversation_id" in message or "_id" in message


async def test_the_largest_id_is_simply_not_found(api) -> None:
    _site, clients = api
    response = await clients["admin"].get(f"/conversations/{MAX_ID}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "conversation_not_found"


async def test_query_and_body_numbers_are_bounded(api, conversation_id: int) -> None:
    site, clients = api
    admin = clients["admin"]
    refused(await admin.get("/conversations", params={"before_id": TOO_BIG}))
    refused(await admin.get("/contacts", params={"before_id": 0}))
    refused(await admin.get("/conversations", params={"site_id": TOO_BIG}))
    path = f"/conversations/{conversation_id}"
    refused(await admin.get(f"{path}/messages", params={"after_seq": MAX_SEQ + 1}))
    refused(await admin.get(f"{path}/messages", params={"before_seq": -1}))
    refused(await admin.post(f"{path}/read", json={"seq": MAX_SEQ + 1}))
    refused(await admin.patch(path, json={"assignee_id": TOO_BIG}))
    refused(await admin.post("/segments", json={"site_id": TOO_BIG, "name": "x", "filter": {}}))
    refused(await admin.get("/autoreplies", params={"site_id": site.id, "before_id": TOO_BIG}))
    draft = {"schedule_id": TOO_BIG}
    refused(await admin.post("/autoreply-rules/preview", json={"site_id": site.id, "draft": draft}))
    assert (await admin.post(f"{path}/read", json={"seq": MAX_SEQ})).status_code == 204


async def test_moments_must_be_on_the_calendar_and_cursors_carry_an_offset(api) -> None:
    site, clients = api
    admin = clients["admin"]
    for before_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "2026-01-05T10:00"):
        params = {"before_at": before_at, "before_id": 1}
        refused(await admin.get("/conversations", params=params))
    params = {"before_at": "2026-01-05T10:00:00Z", "before_id": 1}
    assert (await admin.get("/conversations", params=params)).status_code == 200
    for at in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):
        refused(await admin.post("/autoreply-rules/preview", json={"site_id": site.id, "at": at}))
    fine = {"site_id": site.id, "at": "2026-01-05T10:00:00"}
    assert (await admin.post("/autoreply-rules/preview", json=fine)).status_code == 200


async def test_nul_characters_are_refused_in_queries_and_bodies(api, conversation_id) -> None:
    site, clients = api
    admin = clients["admin"]
    contact = (await admin.get("/contacts")).json()["data"][0]["id"]
    refused(await admin.get("/contacts", params={"q": "a\x00"}), "invalid_text")
    bodies = [
        ("post", f"/conversations/{conversation_id}/messages", {"text": "a\x00b"}),
        ("post", f"/contacts/{contact}/notes", {"text": "\x00"}),
        ("patch", f"/contacts/{contact}", {"name": "a\x00b"}),
        ("patch", f"/contacts/{contact}", {"tags": ["a\x00"]}),
        ("patch", f"/contacts/{contact}", {"attributes": {"plan": "\x00"}}),
        ("post", "/segments", {"site_id": site.id, "name": "n\x00", "filter": {}}),
    ]
    for method, path, body in bodies:
        message = refused(await admin.request(method, path, json=body), "invalid_text")
        assert "U+0000" in message
    # The six characters \u0000 typed as text are text.
    note = await admin.post(f"/contacts/{contact}/notes", json={"text": "\\u0000"})
    assert note.status_code == 201 and note.json()["data"]["text"] == "\\u0000"


async def test_values_the_domain_must_check_itself(api, conversation_id: int) -> None:
    site, clients = api
    admin = clients["admin"]
    path = f"/contacts/{(await admin.get('/contacts')).json()['data'][0]['id']}"
    refused(await admin.patch(f"/sites/{site.id}", json={"name": None}))
    refused(await admin.patch(f"/sites/{site.id}", json={"timezone": None}), "invalid_timezone")
    refused(await admin.patch(f"/sites/{site.id}", json={"color": None}), "invalid_color")
    for big in (1e308, 2**70):
        refused(await admin.patch(path, json={"attributes": {"x": big}}), "invalid_value")
    condition = {"field": "visits", "op": "gt", "value": 2**70}
    body = {"site_id": site.id, "filter": {"conditions": [condition]}}
    assert "64-bit" in refused(await admin.post("/segments/preview", json=body))


async def test_the_other_doors_refuse_nul_as_well(server, factory: Factory) -> None:
    site = await factory.site()
    async with httpx.AsyncClient(base_url=server.url) as http:
        for body in ({"site": "ab\x00cd"}, {"site": site.key, "locale": "en\x00"}):
            response = await http.post("/widget/v1/session", json=body)
            assert response.status_code == 422
            assert response.json()["error"]["code"] == "invalid_text"
        login = await http.post("/console/login", data={"email": "a\x00@b.c", "password": "x"})
        assert login.status_code == 401
    ws_url = server.url.replace("http://", "ws://")
    async with connect(f"{ws_url}/widget/v1/ws?site=ab%00cd&token=x") as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_socket_frames_with_bad_numbers_or_nul_are_error_frames(server, factory) -> None:
    site = await factory.site()
    socket, _token = await open_visitor(server.url, site.key)
    await socket.next("ready")
    frames = [
        ({"type": "messages.read", "seq": MAX_SEQ + 1}, "invalid_frame"),
        ({"type": "resume", "after_seq": 2**64}, "invalid_frame"),
        ({"type": "message.send", "client_msg_id": "n", "text": "a\x00b"}, "invalid_text"),
        ({"type": "event.track", "name": "n", "properties": {"k": "\x00"}}, "invalid_text"),
        ({"type": "page.view", "client_id": "p", "url": "https://x.example/\x00"}, "invalid_text"),
        ({"type": "visitor.identify", "traits": {"name": "\x00"}}, "invalid_text"),
        ({"type": "page.update", "client_id": "p", "duration_ms": 2**64, "scroll_depth": 1}, None),
    ]
    for frame, code in frames:
        await socket.send(json.dumps(frame))  # json: it writes integers past 64 bits
        error = await socket.next("error")
        assert error["code"] != "internal"
        assert code is None or error["code"] == code, error
    await socket.send({"type": "ping"})
    await socket.next("pong")
    await socket.close()
