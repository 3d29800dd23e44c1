"""A mobile visitor from a campaign link; the operator watches the contact card fill in."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DemoServer
from tests.e2e.test_chat import sign_in

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def test_contact_card_shows_a_mobile_campaign_visit_live(browser: Browser, demo: DemoServer):
    operator = browser.new_context(viewport={"width": 1280, "height": 800})
    console = operator.new_page()
    sign_in(console, demo)
    console.goto(f"{demo.url}/console/live")

    visitor = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, user_agent=IPHONE
    )
    shop = visitor.new_page()
    shop.goto(f"{demo.url}/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=spring")

    # The visitor appears on the live page without a reload; open their contact card.
    row_link = console.locator("a.cell-link[href^='/console/contacts/']").first
    expect(row_link).to_be_visible(timeout=20_000)
    row_link.click()
    expect(console).to_have_url(re.compile(r"/console/contacts/\d+$"))
    card = console.locator("#page-contact")
    expect(card.get_by_text("spring").first).to_be_visible()
    expect(card.get_by_text(re.compile(r"Mobile · iOS")).first).to_be_visible()

    # Two more pages: each shows up on the open card as it happens.
    shop.get_by_role("link", name="Stoneware Mug").click()
    expect(card.get_by_text(re.compile("Stoneware Mug")).first).to_be_visible(timeout=15_000)
    shop.goto(f"{demo.url}/demo/cart.html")
    expect(card.get_by_text(re.compile("Your cart")).first).to_be_visible(timeout=15_000)

    # The visitor identifies; the card learns who they are.
    shop.get_by_role("button", name="Sign in as demo customer").click()
    expect(card.get_by_text("alex@example.com").first).to_be_visible(timeout=15_000)
    expect(card.get_by_text("Alex Demo").first).to_be_visible()
    visitor.close()
    operator.close()
