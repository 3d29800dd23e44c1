"""The REST API under /api/v1: bearer tokens, the console cookie with CSRF, errors, OpenAPI."""

from __future__ import annotations

import httpx
import pytest

from doorstep.services import conversations, operators
from tests.factories import Factory
from tests.wsclient import console_cookie


@pytest.fixture
async def setup(factory: Factory, ctx, server):
    site = await factory.site(name="Shop")
    operator = await factory.operator(site)
    token = await operators.create_api_token(ctx, operator, name="test")
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hello", client_msg_id="1")
    client = httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    )
    yield {
        "site": site,
        "operator": operator,
        "client": client,
        "conversation_id": sent.conversation.id,
        "contact_id": visitor.contact_id,
    }
    await client.aclose()


async def test_without_credentials_the_api_answers_401_in_the_error_format(server) -> None:
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1") as client:
        response = await client.get("/conversations")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        response = await client.get("/conversations", headers={"Authorization": "Bearer nope"})
        assert response.json()["error"]["code"] == "invalid_token"


async def test_lists_sites_conversations_messages_and_contacts(setup) -> None:
    client = setup["client"]
    sites = (await client.get("/sites")).json()["data"]
    assert [s["name"] for s in sites] == ["Shop"]
    listed = (await client.get("/conversations", params={"status": "open"})).json()["data"]
    assert [c["id"] for c in listed] == [setup["conversation_id"]]
    assert listed[0]["unread"] == 1 and listed[0]["last_message"]["text"] == "Hello"
    assert (await client.get("/conversations", params={"status": "resolved"})).json()["data"] == []
    messages = (await client.get(f"/conversations/{setup['conversation_id']}/messages")).json()
    assert [m["text"] for m in messages["data"]] == ["Hello"]
    contacts = (await client.get("/contacts")).json()["data"]
    assert [c["id"] for c in contacts] == [setup["contact_id"]]
    card = (await client.get(f"/contacts/{setup['contact_id']}")).json()["data"]
    assert [c["id"] for c in card["conversations"]] == [setup["conversation_id"]]


async def test_send_as_operator_is_idempotent_with_a_client_msg_id(setup) -> None:
    client, cid = setup["client"], setup["conversation_id"]
    body = {"text": "We ship worldwide.", "client_msg_id": "api-1"}
    first = await client.post(f"/conversations/{cid}/messages", json=body)
    again = await client.post(f"/conversations/{cid}/messages", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert first.json()["data"]["author"]["type"] == "operator"


async def test_patch_resolves_reopens_and_assigns(setup) -> None:
    client, cid = setup["client"], setup["conversation_id"]
    resolved = await client.patch(f"/conversations/{cid}", json={"status": "resolved"})
    assert resolved.json()["data"]["status"] == "resolved"
    assigned = await client.patch(
        f"/conversations/{cid}", json={"status": "open", "assignee_id": setup["operator"].id}
    )
    data = assigned.json()["data"]
    assert data["status"] == "open" and data["assignee"]["id"] == setup["operator"].id
    bad = await client.patch(f"/conversations/{cid}", json={"status": "deleted"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": ""}, 422), ({"text": "x" * 10_001}, 422), ({"txt": "typo"}, 422), ([], 422)],
)
async def test_bad_bodies_get_422_and_change_nothing(setup, body, status) -> None:
    client, cid = setup["client"], setup["conversation_id"]
    response = await client.post(f"/conversations/{cid}/messages", json=body)
    assert response.status_code == status
    assert "error" in response.json()
    messages = (await client.get(f"/conversations/{cid}/messages")).json()["data"]
    assert len(messages) == 1


async def test_other_sites_rows_are_not_found(setup, factory: Factory, ctx) -> None:
    other_site = await factory.site()
    stranger = await factory.operator(other_site)
    token = await operators.create_api_token(ctx, stranger, name="x")
    headers = {"Authorization": f"Bearer {token}"}
    client = setup["client"]
    for path in (
        f"/conversations/{setup['conversation_id']}",
        f"/contacts/{setup['contact_id']}",
        f"/sites/{setup['site'].id}",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path


async def test_console_cookie_works_for_reads_but_writes_need_the_csrf_header(
    setup, server
) -> None:
    cookie = await console_cookie(server.url, setup["operator"].email)
    cid = setup["conversation_id"]
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", cookies={"doorstep_session": cookie}
    ) as client:
        assert (await client.get("/conversations")).status_code == 200
        refused = await client.post(f"/conversations/{cid}/messages", json={"text": "x"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"


async def test_openapi_document_lists_the_resources(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        spec = (await client.get("/api/v1/openapi.json")).json()
    paths = set(spec["paths"])
    assert {
        "/conversations",
        "/conversations/{conversation_id}/messages",
        "/contacts",
        "/sites",
    } <= paths


async def test_health_and_readiness(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = (await client.get("/readyz")).json()
        assert ready["checks"] == {"database": True, "bus": True}


async def test_widget_session_errors_and_cors(server, factory: Factory) -> None:
    site = await factory.site()
    async with httpx.AsyncClient(base_url=server.url) as client:
        unknown = await client.post("/widget/v1/session", json={"site": "missing"})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "site_not_found"
        assert unknown.headers["access-control-allow-origin"] == "*"
        garbage = await client.post("/widget/v1/session", content=b"{nope")
        assert garbage.status_code == 422
        huge = await client.post("/widget/v1/session", content=b"{" + b" " * 20_000 + b"}")
        assert huge.status_code == 422
        preflight = await client.options("/widget/v1/session")
        assert preflight.status_code == 204
        fresh = (await client.post("/widget/v1/session", json={"site": site.key})).json()
        forged = (
            await client.post(
                "/widget/v1/session", json={"site": site.key, "token": fresh["token"] + "x"}
            )
        ).json()
        assert forged["visitor_id"] != fresh["visitor_id"]
        same = (
            await client.post(
                "/widget/v1/session", json={"site": site.key, "token": fresh["token"]}
            )
        ).json()
        assert same["visitor_id"] == fresh["visitor_id"]


async def test_admins_change_site_settings_and_the_widget_gets_its_texts(
    server, factory: Factory, ctx
) -> None:
    site = await factory.site()
    admin = await factory.operator(site, role="admin")
    agent = await factory.operator(site)
    admin_token = await operators.create_api_token(ctx, admin, name="a")
    agent_token = await operators.create_api_token(ctx, agent, name="b")
    strings = {"send": "Go", "ja": {"send": "送信"}}
    async with httpx.AsyncClient(base_url=server.url) as client:
        path = f"/api/v1/sites/{site.id}"
        refused = await client.patch(
            path, json={"color": "#000000"}, headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert refused.status_code == 403
        admin_headers = {"Authorization": f"Bearer {admin_token}"}
        bad = await client.patch(path, json={"timezone": "Mars/Olympus"}, headers=admin_headers)
        assert bad.json()["error"]["code"] == "invalid_timezone"
        changed = await client.patch(
            path, json={"color": "#112233", "widget_strings": strings}, headers=admin_headers
        )
        assert changed.json()["data"]["color"] == "#112233"
        session = (await client.post("/widget/v1/session", json={"site": site.key})).json()
        assert session["site"]["strings"] == strings
        assert session["site"]["color"] == "#112233"


async def test_inbox_pages_by_last_activity_without_skipping_or_repeating(
    factory: Factory, ctx, clock
) -> None:
    site = await factory.site()
    operator = await factory.operator(site)
    visitors = [await factory.visitor(site) for _ in range(7)]
    for i, visitor in enumerate(visitors):
        await conversations.send_visitor_message(ctx, visitor, text="hi", client_msg_id="1")
        if i % 2 == 0:
            clock.advance(seconds=1)  # some conversations share an activity time
    # Activity order now differs from id order: the oldest conversation gets a new message.
    await conversations.send_visitor_message(ctx, visitors[0], text="again", client_msg_id="2")
    seen: list[int] = []
    page = await conversations.list_conversations(ctx, operator, limit=3)
    while page:
        seen += [s.conversation.id for s in page]
        last = page[-1].conversation
        page = await conversations.list_conversations(
            ctx,
            operator,
            limit=3,
            before_id=last.id,
            before_at=last.last_message_at or last.created_at,
        )
    everything = await conversations.list_conversations(ctx, operator, limit=50)
    assert seen == [s.conversation.id for s in everything]
    assert len(seen) == 7


async def test_console_pages_forbid_framing_and_foreign_scripts(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/console/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
