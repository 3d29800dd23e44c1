"""The widget over the abuse limits (docs/security.md): refused writes and sessions wait for
the server's retry_after and arrive later, each once; nothing the visitor typed is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, running_demo, set_autoreply_rules
from tests.e2e.test_chat import visitor_messages


@pytest.fixture
def strict_demo(tmp_path: Path) -> Iterator[DemoServer]:
    # One new visitor per 6 s from this address; two messages, then one every 2 s per visitor.
    with running_demo(
        tmp_path, DOORSTEP_LIMIT_SESSIONS="1/6s", DOORSTEP_LIMIT_MESSAGES="2/4s"
    ) as server:
        yield server


def write(shop: Page, text: str) -> None:
    shop.get_by_role("textbox", name="Message").fill(text)
    shop.get_by_role("button", name="Send").click()


def test_refused_messages_and_sessions_are_sent_again_later(
    browser: Browser, strict_demo: DemoServer
) -> None:
    set_autoreply_rules(strict_demo)
    first = browser.new_context().new_page()
    first.goto(f"{strict_demo.url}/demo/")
    first.get_by_role("button", name="Open chat").click()
    texts = ["one", "two", "three", "four"]
    for text in texts:
        write(first, text)
    # A second browser from the same address: its session is refused for a few seconds, and
    # it asks again when Retry-After says, not before.
    second = browser.new_context().new_page()
    refused = []
    second.on(
        "response",
        lambda r: refused.append(r.url) if r.status == 429 and "/session" in r.url else None,
    )
    second.goto(f"{strict_demo.url}/demo/")
    second.get_by_role("button", name="Open chat").click()
    write(second, "from the second browser")
    expect(second.get_by_text("sending…")).to_be_visible()

    for page in (first, second):
        expect(page.get_by_text("sending…")).to_have_count(0, timeout=30_000)
    expect(first.get_by_text("not sent")).to_have_count(0)
    assert 1 <= len(refused) <= 2
    for text in [*texts, "from the second browser"]:
        assert visitor_messages(strict_demo, text) == 1
    first.context.close()
    second.context.close()
