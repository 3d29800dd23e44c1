"""Nobody is online: the visitor asks, the automatic reply asks for the email after the
configured timeout, the visitor leaves it, and the operator's contact card shows it."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DemoServer, set_autoreply_rules
from tests.e2e.test_chat import sign_in

TIMEOUT_SECONDS = 3  # configured for the test; a site would use a minute or so
REPLY = "Thanks for asking! Nobody is here right now; we will answer {{ next_available }}."


def test_the_offline_reply_asks_for_the_email_once_and_the_card_shows_it(
    browser: Browser, demo: DemoServer
) -> None:
    set_autoreply_rules(
        demo,
        {
            "name": "Nobody online",
            "condition": "nobody_online",
            "timeout_seconds": TIMEOUT_SECONDS,
            "text": REPLY,
            "ask_email": True,
        },
    )
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    shop = visitor.new_page()
    shop.goto(f"{demo.url}/demo/")
    shop.get_by_role("button", name="Open chat").click()
    shop.get_by_role("textbox", name="Message").fill("Do you ship to Japan?")
    shop.get_by_role("button", name="Send").click()
    sent_at = time.monotonic()
    expect(shop.get_by_text("Do you ship to Japan?")).to_be_visible()

    # The reply waits for the timeout, then appears with one inline field: the email.
    reply = shop.get_by_text(re.compile("Nobody is here right now"))
    expect(reply).to_have_count(0)
    expect(reply).to_be_visible(timeout=20_000)
    assert time.monotonic() - sent_at >= TIMEOUT_SECONDS - 0.5
    # Rendered with when the team is back, from the site's working hours.
    expect(reply).to_contain_text(re.compile(r"answer (in a few minutes|today|tomorrow|on )"))
    email = shop.get_by_role("textbox", name="Email")
    expect(email).to_be_visible()

    # A wrong address is refused inline; the conversation goes on untouched.
    email.fill("not-an-email")
    shop.get_by_role("button", name="Save email").click()
    expect(shop.get_by_role("alert")).to_contain_text("valid email")
    email.fill("lead@example.com")
    shop.get_by_role("button", name="Save email").click()
    expect(shop.get_by_text("Thanks! We'll send the answer to l***@example.com.")).to_be_visible()
    expect(shop.get_by_role("textbox", name="Email")).to_have_count(0)

    # Known now: a reload shows the history without asking again.
    shop.reload()  # the panel stays open across reloads in this tab
    expect(shop.get_by_text(re.compile("Nobody is here right now"))).to_be_visible()
    expect(shop.get_by_role("textbox", name="Email")).to_have_count(0)

    # The operator finds the conversation under the visitor's email, with the card.
    operator = browser.new_context(viewport={"width": 1280, "height": 800})
    console = operator.new_page()
    sign_in(console, demo)
    console.get_by_text("lead@example.com").first.click()
    expect(console.get_by_role("log").get_by_text("Do you ship to Japan?")).to_be_visible()
    card = console.locator("#contact-panel")
    expect(card.get_by_text("lead@example.com").first).to_be_visible()
    visitor.close()
    operator.close()
