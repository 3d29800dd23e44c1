"""Contacts over REST: the card, edits, notes, live visitors, exports and erasure."""

from __future__ import annotations

import csv
import io

from doorstep.services import conversations, tracking, visitors
from tests.factories import Factory
from tests.wsclient import open_visitor

DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"


async def test_contact_card_edit_notes_and_events(api, factory: Factory, ctx) -> None:
    site, clients = api
    visitor = await factory.visitor(site)
    client = tracking.Client(DESKTOP, "8.8.8.8")
    await tracking.record_page_view(ctx, visitor, client, "p", {"url": "https://s.example/a"})
    await tracking.track_event(ctx, visitor, "signed_up", {"plan": "pro"})
    admin = clients["admin"]
    path = f"/contacts/{visitor.contact_id}"
    card = (await admin.get(path)).json()["data"]
    assert card["current_visit"]["pages"][0]["path"] == "/a"
    assert card["location"]["country"] == "US"
    changed = await admin.patch(
        path, json={"name": "Ann", "tags": ["vip"], "attributes": {"plan": "pro"}}
    )
    assert changed.json()["data"]["name"] == "Ann"
    bad = await admin.patch(path, json={"email": "not an email"})
    assert bad.status_code == 422
    note = await admin.post(f"{path}/notes", json={"text": "Call back on Monday"})
    assert note.status_code == 201
    events = (await admin.get(f"{path}/events")).json()["data"]
    assert [e["name"] for e in events] == ["signed_up"]
    assert (await admin.delete(f"{path}/notes/{note.json()['data']['id']}")).status_code == 204


async def test_live_visitors_and_a_message_written_first(api, server, ctx) -> None:
    site, clients = api
    socket, _token = await open_visitor(server.url, site.key)
    ready = await socket.next("ready")
    await socket.send(
        {"type": "page.view", "client_id": "v1", "url": "https://s.example/p", "title": "Pricing"}
    )
    assert (await socket.next("page.ack"))["client_id"] == "v1"
    live = (await clients["agent"].get("/live-visitors")).json()["data"]
    assert [(v["visitor_id"], v["title"], v["pages_this_visit"]) for v in live] == [
        (ready["visitor_id"], "Pricing", 1)
    ]
    contact_id = live[0]["contact_id"]
    sent = await clients["agent"].post(
        f"/contacts/{contact_id}/messages", json={"text": "Need help choosing a plan?"}
    )
    assert sent.status_code == 201
    pushed = await socket.next("message.created")
    assert pushed["message"]["text"] == "Need help choosing a plan?"
    await socket.close()


async def test_export_json_and_csv_then_erase(api, factory: Factory, ctx) -> None:
    site, clients = api
    visitor = await factory.visitor(site)
    await visitors.identify_visitor(ctx, visitor, {"email": "x@example.com", "name": "=cmd()"})
    await conversations.send_visitor_message(ctx, visitor, text="Hello", client_msg_id="1")
    admin, agent = clients["admin"], clients["agent"]
    document = (await agent.get(f"/contacts/{visitor.contact_id}/export")).json()
    assert document["contact"]["email"] == "x@example.com"
    assert document["conversations"][0]["messages"][0]["text"] == "Hello"
    rows = list(csv.reader(io.StringIO((await agent.get("/contacts.csv")).text)))
    assert rows[0][:3] == ["id", "name", "email"]
    assert rows[1][1] == "'=cmd()"  # a formula is defused for spreadsheets
    assert (await agent.delete(f"/contacts/{visitor.contact_id}")).status_code == 403
    assert (await admin.delete(f"/contacts/{visitor.contact_id}")).status_code == 204
    assert (await admin.get(f"/contacts/{visitor.contact_id}")).status_code == 404
    assert (await admin.get("/conversations")).json()["data"] == []
