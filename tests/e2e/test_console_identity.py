"""Identity in the console: two browsers claim one email, an admin merges them by hand, signs
them out, and looks after the site's identity-verification secret (docs/console.md)."""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, credentials
from tests.e2e.test_chat import sign_in
from tests.e2e.test_visitor_card import IPHONE

EMAIL = "sam@example.com"
AGENT = ("agent@example.com", "agent-password-1")


def admin_api(demo: DemoServer) -> httpx.Client:
    """The REST API with the admin's console session (reads need no CSRF token)."""
    email, password = credentials(demo)
    client = httpx.Client(base_url=demo.url, timeout=10)
    client.post("/console/login", data={"email": email, "password": password})
    client.base_url = f"{demo.url}/api/v1"
    return client


def contacts_claiming(api: httpx.Client, email: str, count: int) -> list[int]:
    """The ids of the contacts with this email, once there are `count` of them."""
    deadline = time.monotonic() + 15
    while True:
        ids = sorted(c["id"] for c in api.get("/contacts", params={"q": email}).json()["data"])
        if len(ids) == count or time.monotonic() > deadline:
            assert len(ids) == count, ids
            return ids
        time.sleep(0.1)


def identify(browser: Browser, demo: DemoServer, traits: str, **device: object) -> None:
    """A new browser on the demo shop that calls Doorstep('identify', traits)."""
    shop = browser.new_context(**device).new_page()
    shop.goto(f"{demo.url}/demo/")
    shop.evaluate(f"Doorstep('identify', {traits})")


def pretend_merged_before_upgrade(demo: DemoServer) -> None:
    """Mark the recorded merges as done before identity verification, as migration 0005 marks
    the merges an email alone made: no browser test can run the old version."""
    database = Path(demo.env["DOORSTEP_DATA_DIR"]) / "doorstep.db"
    with sqlite3.connect(database, timeout=10) as db:
        db.execute("UPDATE contact_merges SET kind = 'before_upgrade'")


def start_creating_agent(demo: DemoServer, site_key: str) -> subprocess.Popen[str]:
    """`doorstep create-operator` for an agent of the site, left to run beside the test."""
    command = [sys.executable, "-m", "doorstep.cli", "create-operator", "--password-stdin"]
    command += ["--email", AGENT[0], "--name", "Agent", "--role", "agent", "--site", site_key]
    process = subprocess.Popen(
        command,
        env=demo.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(f"{AGENT[1]}\n")
    process.stdin.close()
    return process


def sign_in_as_agent(browser: Browser, demo: DemoServer, creating: subprocess.Popen[str]) -> Page:
    assert creating.wait(30) == 0, creating.stderr.read() if creating.stderr else ""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{demo.url}/console/login")
    page.get_by_label("Email").fill(AGENT[0])
    page.get_by_label("Password").fill(AGENT[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{demo.url}/console/")
    return page


def test_admin_merges_a_claimed_duplicate_signs_it_out_and_rotates_the_secret(
    browser: Browser, demo: DemoServer
):
    api = admin_api(demo)
    (site,) = api.get("/sites").json()["data"]
    creating_agent = start_creating_agent(demo, site["key"])

    # Two browsers, a laptop and a phone, each say they are Sam: two contacts, one email.
    sam = f"{{email: '{EMAIL}', name: 'Sam'}}"
    identify(browser, demo, sam)
    identify(browser, demo, sam, is_mobile=True, has_touch=True, user_agent=IPHONE)
    first, second = contacts_claiming(api, EMAIL, 2)

    # The first contact's card: the email is a claim, and the other contact may be Sam too.
    console = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(console, demo)
    console.goto(f"{demo.url}/console/contacts/{first}")
    card = console.locator("#page-contact")
    details = card.get_by_role("region", name="Details")
    expect(details.get_by_text(EMAIL)).to_be_visible()
    expect(details.get_by_text("Unverified")).to_be_visible()
    duplicates = card.get_by_role("region", name="Possible duplicate")
    expect(duplicates.get_by_role("link", name="Sam")).to_have_attribute(
        "href", f"/console/contacts/{second}"
    )
    expect(card.get_by_role("region", name="Browsers")).to_contain_text("last seen")

    # Merged by hand, after a question: one contact with both browsers.
    duplicates.get_by_role("button", name="Merge into this contact").click()
    expect(duplicates).to_contain_text("Merge Sam into this contact?")
    duplicates.get_by_role("button", name="Merge", exact=True).click()
    expect(duplicates).to_have_count(0)
    browsers = card.get_by_role("region", name="Browsers (2)")
    expect(browsers.get_by_role("listitem")).to_have_count(2)
    expect(browsers).to_contain_text("Mobile · iOS")
    assert contacts_claiming(api, EMAIL, 1) == [first]

    # Signing out every browser of the contact says how many.
    browsers.get_by_role("button", name="Sign out all browsers").click()
    browsers.get_by_role("button", name="Sign out", exact=True).click()
    expect(browsers.get_by_role("status")).to_have_text("Signed out 2 browsers")

    # The Identity verification panel, beside the site's other settings.
    pretend_merged_before_upgrade(demo)
    console.get_by_role("link", name="Auto-replies").click()
    panel = console.get_by_role("region", name="Identity verification")
    secret = panel.get_by_label("Identity secret")
    identity = api.get(f"/sites/{site['id']}/identity").json()["data"]
    expect(secret).to_have_value(identity["secret"])
    expect(secret).to_have_attribute("type", "password")
    panel.get_by_role("button", name="Show").click()
    expect(secret).to_have_attribute("type", "text")
    expect(panel.get_by_role("button", name="Hide")).to_be_visible()

    # The contacts an email alone merged before this version, each to review and sign out.
    merged = panel.get_by_role("list", name=re.compile("merged automatically")).get_by_role(
        "listitem"
    )
    row = merged.filter(has=console.get_by_role("link", name="Sam"))
    expect(row.locator(".browser-item")).to_have_count(2)
    row.get_by_role("button", name="Sign out all browsers").click()
    row.get_by_role("button", name="Sign out", exact=True).click()
    expect(row.get_by_role("status")).to_have_text("Signed out 2 browsers")

    # Rotating: a new secret, and the old one still works for the grace period.
    panel.get_by_label("Grace period (hours)").fill("2")
    panel.get_by_role("button", name="Rotate secret").click()
    expect(panel).to_contain_text("The current one keeps working for 2 hours.")
    panel.get_by_role("button", name="Rotate", exact=True).click()
    expect(secret).not_to_have_value(identity["secret"])
    expect(panel).to_contain_text("The previous secret still works until")
    rotated = api.get(f"/sites/{site['id']}/identity").json()["data"]
    expect(secret).to_have_value(rotated["secret"])
    assert rotated["previous_secret_valid_until"] is not None

    # Require verification: stored on the site.
    panel.get_by_label("Require verification").check()
    deadline = time.monotonic() + 10
    while not api.get(f"/sites/{site['id']}/identity").json()["data"]["require_verification"]:
        assert time.monotonic() < deadline, "require_verification was not saved"
        time.sleep(0.1)

    # Two users the site signed in (user_hash) claim one email: they stay two.
    for user_id in ("u-1", "u-2"):
        signed = hmac.new(rotated["secret"].encode(), user_id.encode(), hashlib.sha256).hexdigest()
        identify(
            browser,
            demo,
            f"{{user_id: '{user_id}', email: 'kim@example.com', user_hash: '{signed}'}}",
        )
    kim, _ = contacts_claiming(api, "kim@example.com", 2)
    console.goto(f"{demo.url}/console/contacts/{kim}")
    expect(card.get_by_role("region", name="Details")).to_contain_text(
        re.compile(r"u-[12] Verified")
    )
    duplicates.get_by_role("button", name="Merge into this contact").click()
    duplicates.get_by_role("button", name="Merge", exact=True).click()
    expect(duplicates.get_by_role("alert")).to_have_text(
        "Can't merge: the two contacts have signed in as different users."
    )

    # Agents never see the panel (the API would answer 403 admin_only).
    agent = sign_in_as_agent(browser, demo, creating_agent)
    agent.goto(f"{demo.url}/console/autoreplies")
    expect(agent.get_by_text("Only admins can change auto-replies.")).to_be_visible()
    expect(agent.locator("#identity-panel")).to_be_hidden()
    api.close()
    for context in browser.contexts:  # the visitors' sockets too: the server stops at once
        context.close()
