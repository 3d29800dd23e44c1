"""Identity in the browser: only a valid user_hash shows a person's conversation; what a
browser merely claims, a wrong hash, `Doorstep('reset')` and "sign out all browsers" never
show it (docs/widget.md, "Identity verification"; docs/contacts.md, "Identity")."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from doorstep.demo.seed import DEMO_SITE_KEY
from tests.e2e.conftest import DemoServer, api_client, running_demo

KEY = f"doorstep:{DEMO_SITE_KEY}:"
VISITOR_ID = f"() => (JSON.parse(localStorage.getItem('{KEY}history')) || {{}}).visitor_id"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """One demo server for the module: every test uses people of its own."""
    with running_demo(tmp_path_factory.mktemp("identity")) as server:
        yield server


@pytest.fixture(scope="module")
def api(shop: DemoServer) -> Iterator[httpx.Client]:
    with api_client(shop) as client:
        (site,) = client.get("/sites").json()["data"]
        ask_for_emails(client, site, False)  # the default rules depend on the time of day
        yield client


@pytest.fixture(scope="module")
def site(api: httpx.Client) -> dict[str, Any]:
    (found,) = api.get("/sites").json()["data"]
    return found


@pytest.fixture(scope="module")
def secret(api: httpx.Client, site: dict[str, Any]) -> str:
    return api.get(f"/sites/{site['id']}/identity").json()["data"]["secret"]


def ask_for_emails(api: httpx.Client, site: dict[str, Any], ask: bool) -> None:
    """With `ask`, a visitor's first message is answered at once, asking for the email."""
    for rule in api.get("/autoreply-rules", params={"site_id": site["id"]}).json()["data"]:
        api.delete(f"/autoreply-rules/{rule['id']}").raise_for_status()
    if ask:
        api.post(
            "/autoreply-rules",
            json={
                "site_id": site["id"],
                "name": "Nobody online",
                "condition": "nobody_online",
                "timeout_seconds": 0,
                "text": "Nobody is here right now.",
                "ask_email": True,
            },
        ).raise_for_status()


def user_hash(secret: str, key: str) -> str:
    """What the site's backend computes for its signed-in user."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def open_shop(context: BrowserContext, shop: DemoServer) -> Page:
    tab = context.new_page()
    tab.goto(f"{shop.url}/demo/")
    open_chat(tab)
    return tab


def open_chat(tab: Page) -> None:
    tab.get_by_role("button", name="Open chat").click()
    expect(tab.get_by_role("textbox", name="Message")).to_be_visible()


def identify(tab: Page, traits: dict[str, str]) -> None:
    """Doorstep('identify', traits), until the server has answered it."""
    tab.evaluate("(traits) => Doorstep('identify', traits)", traits)
    answered(tab)


def answered(tab: Page) -> None:
    """Wait until the server has answered every identify of the tab."""
    tab.wait_for_function(
        f"() => !(JSON.parse(sessionStorage.getItem('{KEY}cmds')) || [])"
        ".some((c) => c.type === 'visitor.identify')"
    )


def write(tab: Page, text: str) -> None:
    """Send a message and wait until the server has it. The server answers `resume` before
    it acknowledges a message, so by then the widget shows all the history it will get."""
    tab.get_by_role("textbox", name="Message").fill(text)
    tab.get_by_role("button", name="Send").click()
    expect(tab.get_by_text(text, exact=True)).to_be_visible()
    expect(tab.get_by_text("sending…")).to_have_count(0)


def reply(api: httpx.Client, to_text: str, text: str) -> int:
    """An operator answers (REST) the conversation with the message `to_text`; returns the
    conversation's contact id."""
    rows = api.get("/conversations", params={"limit": 200}).json()["data"]
    (row,) = [r for r in rows if to_text in texts_of(api, r["id"])]
    api.post(
        f"/conversations/{row['id']}/messages",
        json={"text": text, "client_msg_id": str(uuid.uuid4())},
    ).raise_for_status()
    return row["contact"]["id"]


def texts_of(api: httpx.Client, conversation_id: int) -> list[str]:
    messages = api.get(f"/conversations/{conversation_id}/messages").json()["data"]
    return [m["text"] for m in messages]


def shows_none(tab: Page, *texts: str) -> None:
    for text in texts:
        expect(tab.get_by_text(text)).to_have_count(0)


def test_only_a_valid_user_hash_shows_a_persons_conversation(
    browser: Browser, shop: DemoServer, api: httpx.Client, site: dict[str, Any], secret: str
) -> None:
    alice = {
        "email": "alice@example.com",
        "name": "Alice",
        "user_id": "alice-1",
        "user_hash": user_hash(secret, "alice-1"),
    }
    question, answer = "Alice's private question", "Your order 1234 ships Monday, Alice"

    laptop = browser.new_context()
    mine = open_shop(laptop, shop)
    identify(mine, alice)
    write(mine, question)
    alice_contact = reply(api, question, answer)
    expect(mine.get_by_text(answer)).to_be_visible()

    # An attacker claims Alice's email, in the automatic reply's email field and through the
    # JS API: a claim, kept on the attacker's own contact.
    other = browser.new_context()
    theirs = open_shop(other, shop)
    ask_for_emails(api, site, True)
    write(theirs, "Attacker here")
    theirs.get_by_role("textbox", name="Email").fill(alice["email"])
    theirs.get_by_role("button", name="Save email").click()
    expect(theirs.get_by_role("textbox", name="Email")).to_have_count(0)
    ask_for_emails(api, site, False)
    identify(theirs, {"email": alice["email"]})
    shows_none(theirs, question, answer)
    theirs.reload()
    write(theirs, "Attacker after reload")
    expect(theirs.get_by_text("Attacker here", exact=True)).to_be_visible()
    shows_none(theirs, question, answer)

    # A wrong hash is a claim too, and the widget says why on the console.
    forger = browser.new_context()
    forged = open_shop(forger, shop)
    with forged.expect_console_message(lambda m: "user_hash invalid" in m.text) as logged:
        identify(forged, {**alice, "user_hash": "0" * 64})
    assert logged.value.type == "error"
    assert 'See "Identity verification" in docs/widget.md' in logged.value.text
    write(forged, "Forger here")
    shows_none(forged, question, answer)
    forged.reload()
    write(forged, "Forger after reload")
    shows_none(forged, question, answer)

    # Alice's phone proves who she is: her conversation shows at once, and after a reload.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    hers = open_shop(phone, shop)
    shows_none(hers, question)
    identify(hers, alice)
    expect(hers.get_by_text(question)).to_be_visible()
    expect(hers.get_by_text(answer)).to_be_visible()
    hers.reload()
    expect(hers.get_by_text(answer)).to_be_visible()
    other.close()
    forger.close()

    # "Sign out all browsers": both open widgets lose Alice's history at once, as new visitors.
    before = {tab: tab.evaluate(VISITOR_ID) for tab in (mine, hers)}
    assert api.post(f"/contacts/{alice_contact}/sign-out").json()["data"]["browsers"] == 2
    for tab in (mine, hers):
        shows_none(tab, question, answer)
        tab.wait_for_function(f"(old) => ({VISITOR_ID})() > old", arg=before[tab])
    write(mine, "Signed out, still here")
    shows_none(mine, question, answer)
    mine.reload()
    write(mine, "Signed out, after reload")
    shows_none(mine, question, answer)
    laptop.close()
    phone.close()


def test_proving_another_person_shows_theirs_and_nothing_of_the_first(
    browser: Browser, shop: DemoServer, secret: str
) -> None:
    def person(user_id: str) -> dict[str, str]:
        return {"user_id": user_id, "name": user_id, "user_hash": user_hash(secret, user_id)}

    bobs = browser.new_context()
    bob_tab = open_shop(bobs, shop)
    identify(bob_tab, person("bob-2"))
    write(bob_tab, "Bob's message")
    bobs.close()

    shared = browser.new_context()
    tab = open_shop(shared, shop)
    identify(tab, person("ann-2"))
    write(tab, "Ann's message")
    first_visitor = tab.evaluate(VISITOR_ID)

    # Bob signs in on Ann's browser: it becomes a new visitor of Bob's contact.
    identify(tab, person("bob-2"))
    expect(tab.get_by_text("Bob's message")).to_be_visible()
    shows_none(tab, "Ann's message")
    assert tab.evaluate(VISITOR_ID) != first_visitor
    tab.reload()
    write(tab, "Bob again")
    expect(tab.get_by_text("Bob's message")).to_be_visible()
    shows_none(tab, "Ann's message")
    shared.close()


def test_reset_forgets_the_signed_in_customer(
    browser: Browser, shop: DemoServer, api: httpx.Client
) -> None:
    context = browser.new_context()
    cart = context.new_page()
    cart.goto(f"{shop.url}/demo/cart.html")
    # The demo shop renders Alex's user_hash into the page, as a site's backend would.
    cart.get_by_role("button", name="Sign in as demo customer").click()
    expect(cart.get_by_role("button", name="Signed in as Alex Demo")).to_be_disabled()
    answered(cart)
    open_chat(cart)
    write(cart, "Alex's order question")
    alex = reply(api, "Alex's order question", "Answer for Alex")
    card = api.get(f"/contacts/{alex}").json()["data"]
    assert (card["external_id"], card["external_id_verified"]) == ("demo-42", True)
    expect(cart.get_by_text("Answer for Alex")).to_be_visible()
    alex_visitor = cart.evaluate(VISITOR_ID)

    # The customer logs out: the chat closes, empty, and is a new visitor.
    cart.get_by_role("button", name="Close chat").click()
    cart.get_by_role("button", name="Sign out").click()
    expect(cart.get_by_role("button", name="Sign in as demo customer")).to_be_enabled()
    expect(cart.get_by_role("button", name="Open chat")).to_be_visible()
    shows_none(cart, "Alex's order question", "Answer for Alex")
    cart.wait_for_function(f"(old) => ({VISITOR_ID})() > old", arg=alex_visitor)
    cart.reload()
    open_chat(cart)
    write(cart, "Someone else now")
    shows_none(cart, "Alex's order question", "Answer for Alex")
    anonymous = cart.evaluate(VISITOR_ID)

    # `reset` queued before the script loads works too: yet another new visitor.
    context.add_init_script(
        "window.Doorstep = function () { (Doorstep.q = Doorstep.q || []).push(arguments) };"
        "Doorstep('reset');"
    )
    cart.reload()
    cart.wait_for_function(f"(old) => ({VISITOR_ID})() > old", arg=anonymous)
    open_chat(cart)
    write(cart, "A third visitor")
    shows_none(cart, "Someone else now", "Alex's order question")
    context.close()


def test_a_refused_identify_is_dropped_with_one_console_error(
    browser: Browser, shop: DemoServer, api: httpx.Client, site: dict[str, Any]
) -> None:
    api.patch(f"/sites/{site['id']}", json={"require_verification": True}).raise_for_status()
    try:
        context = browser.new_context()
        tab = open_shop(context, shop)
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        with tab.expect_console_message(lambda m: "user_hash missing" in m.text):
            identify(tab, {"email": "someone@example.com"})
        write(tab, "Refused, still chatting")
        assert len([e for e in errors if "user_hash" in e]) == 1
        context.close()
    finally:
        api.patch(f"/sites/{site['id']}", json={"require_verification": False})
