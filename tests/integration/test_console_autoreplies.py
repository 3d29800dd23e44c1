"""The console's Auto-replies and Leads pages: served to signed-in operators, each at its own
address, reachable from the rail, and built only from same-origin modules (docs/console.md)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.factories import PASSWORD, Factory

PAGES = {"/console/autoreplies": "autoreplies", "/console/leads": "leads"}
MODULES = [
    "autoreplies.js",
    "autoreply-preview.js",
    "autoreply-words.js",
    "delete-confirm.js",
    "leads.js",
    "rule-editor.js",
    "schedule-editor.js",
    "site-switch.js",
]


@asynccontextmanager
async def signed_in(
    server, factory: Factory, *, role: str = "agent"
) -> AsyncIterator[httpx.AsyncClient]:
    site = await factory.site()
    operator = await factory.operator(site, role=role)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/console/login", data={"email": operator.email, "password": PASSWORD}
        )
        assert response.status_code == 303
        yield client


def opening_tag(html: str, element_id: str) -> str:
    match = re.search(rf'<[a-z]+[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"#{element_id} is missing"
    return match.group(0)


@pytest.mark.parametrize("role", ["admin", "agent"])
@pytest.mark.parametrize("path", list(PAGES))
async def test_each_page_is_served_at_its_address_to_a_signed_in_operator(
    server, factory: Factory, path: str, role: str
):
    async with signed_in(server, factory, role=role) as client:
        response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    shown = PAGES[path]
    title = {"autoreplies": "Auto-replies", "leads": "Leads"}[shown]
    assert f"<title>{title} · Doorstep</title>" in html
    assert " hidden" not in opening_tag(html, f"page-{shown}")
    for other in {"page-autoreplies", "page-leads", "page-live", "page-contacts"} - {
        f"page-{shown}"
    }:
        assert " hidden" in opening_tag(html, other)
    assert " hidden" in opening_tag(html, "conversation")  # the inbox makes way
    rail_link = re.search(rf'<a class="rail-item" href="{path}"[^>]*>', html)
    assert rail_link and 'aria-current="page"' in rail_link.group(0)
    assert f'href="#page-{shown}">Skip to main content' in html


async def test_the_auto_replies_page_holds_its_editors_and_preview(server, factory: Factory):
    async with signed_in(server, factory, role="admin") as client:
        html = (await client.get("/console/autoreplies")).text
    for element_id in [
        "autoreplies-site",
        "tz-form",
        "tz-input",
        "schedule-list",
        "schedule-new",
        "schedule-editor",
        "rule-list",
        "rule-new",
        "rule-editor",
        "preview-body",
    ]:
        opening_tag(html, element_id)
    assert '<label class="visually-hidden" for="tz-input">Time zone</label>' in html


async def test_the_leads_page_has_its_table_counts_and_paging(server, factory: Factory):
    async with signed_in(server, factory) as client:
        html = (await client.get("/console/leads")).text
    for element_id in ["leads-site", "lead-stat-cards", "leads-rows", "leads-load-more"]:
        opening_tag(html, element_id)
    assert "Load more" in html


async def test_every_page_links_to_both_from_the_rail(server, factory: Factory):
    async with signed_in(server, factory) as client:
        for path in ["/console/", "/console/live", "/console/contacts"]:
            html = (await client.get(path)).text
            assert 'href="/console/autoreplies"' in html and ">Auto-replies<" in html
            assert 'href="/console/leads"' in html and ">Leads<" in html


@pytest.mark.parametrize("path", list(PAGES))
async def test_without_a_session_the_pages_send_you_to_sign_in_and_back(server, path: str):
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/login?next={path}"


async def test_the_page_modules_are_served_and_never_build_html_from_strings(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        for name in MODULES:
            response = await client.get(f"/console/static/{name}")
            assert response.status_code == 200, name
            assert "javascript" in response.headers["content-type"]
            assert "innerHTML" not in response.text and "insertAdjacentHTML" not in response.text
            assert "eval(" not in response.text
        app = (await client.get("/console/static/app.js")).text
    assert 'from "./autoreplies.js"' in app and 'from "./leads.js"' in app


async def test_the_shell_keeps_to_its_content_security_policy(server, factory: Factory):
    """No inline script (other than the JSON start-up data) and no inline style."""
    async with signed_in(server, factory) as client:
        html = (await client.get("/console/autoreplies")).text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(
        'src="/console/static/' in tag or 'type="application/json"' in tag for tag in scripts
    )
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
