"""A visitor writes from the demo shop; an operator answers from the console."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, credentials, set_autoreply_rules


def sign_in(page: Page, demo: DemoServer) -> None:
    email, password = credentials(demo)
    page.goto(f"{demo.url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{demo.url}/console/")


def visitor_messages(demo: DemoServer, text: str) -> int:
    """How many stored messages have this text, asked through the REST API."""
    email, password = credentials(demo)
    with httpx.Client(base_url=demo.url) as client:
        client.post("/console/login", data={"email": email, "password": password})
        conversations = client.get("/api/v1/conversations").json()["data"]
        count = 0
        for conversation in conversations:
            messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages").json()
            count += sum(1 for m in messages["data"] if m["text"] == text)
        return count


def test_visitor_and_operator_chat_survives_reload_and_server_restart(
    browser: Browser, demo: DemoServer
) -> None:
    set_autoreply_rules(demo)  # this conversation is between people only
    operator = browser.new_context(viewport={"width": 1280, "height": 800})
    console = operator.new_page()
    sign_in(console, demo)

    visitor_context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    shop = visitor_context.new_page()
    shop.goto(f"{demo.url}/demo/")
    shop.get_by_role("button", name="Open chat").click()
    shop.get_by_role("textbox", name="Message").fill("Hello")
    shop.get_by_role("button", name="Send").click()

    # The operator sees the message live, without reloading, and answers it.
    console.get_by_text("Hello").first.click()
    expect(console.get_by_role("log").get_by_text("Hello")).to_be_visible()
    console.get_by_role("textbox", name="Reply").fill("Hi! How can I help?")
    console.get_by_role("button", name="Send reply").click()

    expect(shop.get_by_text("Hi! How can I help?")).to_be_visible()

    # A reload keeps the history (and the panel stays open across pages of the visit).
    shop.reload()
    expect(shop.get_by_role("button", name="Close chat")).to_be_visible()
    expect(shop.get_by_text("Hello", exact=True)).to_be_visible()
    expect(shop.get_by_text("Hi! How can I help?")).to_be_visible()

    # The server restarts while the visitor types; the message arrives exactly once.
    demo.stop()
    shop.get_by_role("textbox", name="Message").fill("Typed while you were away")
    shop.get_by_role("button", name="Send").click()
    expect(shop.get_by_text("sending…")).to_be_visible()  # queued: the server is down
    demo.start()
    expect(console.get_by_role("log").get_by_text("Typed while you were away")).to_be_visible(
        timeout=30_000
    )
    # Once acknowledged, the widget's outbox is empty: nothing can be sent a second time.
    expect(shop.get_by_text("sending…")).to_have_count(0, timeout=30_000)
    assert visitor_messages(demo, "Typed while you were away") == 1
    assert visitor_messages(demo, "Hello") == 1
    visitor_context.close()
    operator.close()
