"""Identity you can trust, over the real sockets: a browser that only claims someone's email
or user_id never sees their conversations; a valid user_hash joins a person's devices."""

from __future__ import annotations

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from doorstep.domain.identity import user_hash
from doorstep.services import contact_identity, contacts, conversations, sites
from tests.factories import Factory, proven
from tests.wsclient import Socket, open_operator, open_visitor, visitor_session

ALICE = {"user_id": "alice-1", "email": "alice@example.com", "name": "Alice", "plan": "enterprise"}
SECRET_TEXT = "my order 123 never arrived"
REPLY_TEXT = "Your refund of 400 is approved"
LATER_REPLY = "Here is the tracking number ZX99"


@pytest.fixture
async def shop(factory: Factory):
    site = await factory.site(key="shop-key")
    admin = await factory.operator(site, name="Anna", role="admin")
    return site, admin


async def _alice_with_history(server, site, console: Socket) -> tuple[Socket, str, int]:
    """Alice signs in (a valid user_hash), writes, and the operator answers."""
    alice, token = await open_visitor(server.url, site.key)
    await alice.next("ready")
    await alice.send({"type": "visitor.identify", "traits": proven(site, **ALICE)})
    assert (await alice.next("visitor.updated"))["identity"] == "verified"
    await alice.send({"type": "message.send", "client_msg_id": "a1", "text": SECRET_TEXT})
    conversation_id = (await alice.next("message.ack"))["message"]["conversation_id"]
    await _operator_says(console, conversation_id, REPLY_TEXT, "r1")
    await _until_text(alice, REPLY_TEXT)
    return alice, token, conversation_id


async def _operator_says(console: Socket, conversation_id: int, text: str, cid: str) -> None:
    frame = {"conversation_id": conversation_id, "client_msg_id": cid, "text": text}
    await console.send({"type": "message.send", **frame})
    await console.next("message.ack")


async def _until_text(sock: Socket, text: str) -> None:
    while True:
        frame = await sock.next("message.created")
        if frame["message"]["text"] == text:
            return


def _leaks(frames: list[dict], conversation_id: int) -> list[str]:
    """What of Alice's the frames carry: her texts, her plan, her conversation's id."""
    found = []
    for frame in frames:
        text = orjson.dumps(frame).decode()
        found += [
            word for word in (SECRET_TEXT, REPLY_TEXT, LATER_REPLY, "enterprise") if word in text
        ]
        conversation = frame.get("conversation") or {}
        message = frame.get("message") or {}
        if conversation_id in (
            frame.get("conversation_id"),
            conversation.get("id"),
            message.get("conversation_id"),
        ):
            found.append(f"conversation {conversation_id}")
    return found


CLAIMS = {
    "identify with her email": {"type": "visitor.identify", "traits": {"email": ALICE["email"]}},
    "identify with her user_id": {
        "type": "visitor.identify",
        "traits": {"user_id": "alice-1", "plan": "free"},
    },
    "identify with both, a wrong hash": {
        "type": "visitor.identify",
        "traits": {"user_id": "alice-1", "email": ALICE["email"], "user_hash": "0" * 64},
    },
    "the inline email field": {"type": "email.submit", "email": "Alice@Example.com"},
}


@pytest.mark.parametrize("claim", CLAIMS.values(), ids=CLAIMS.keys())
async def test_claiming_someones_identity_shows_nothing_of_theirs(server, shop, ctx, claim):
    site, admin = shop
    console = await open_operator(server.url, admin.email)
    await console.next("ready")
    alice, _, conversation_id = await _alice_with_history(server, site, console)
    mallory, token = await open_visitor(server.url, site.key)
    await mallory.next("ready")
    await mallory.send({**claim, "client_msg_id": "c1"})
    answer = await mallory.next()
    while answer["type"] not in ("visitor.updated", "email.accepted"):
        answer = await mallory.next()
    assert answer.get("identity", "claimed") == "claimed"
    # The operator writes to Alice again, and the claimer comes back with the same token.
    await _operator_says(console, conversation_id, LATER_REPLY, "r2")
    await _until_text(alice, LATER_REPLY)
    await mallory.close()
    mallory, _ = await open_visitor(server.url, site.key, token)
    ready = await mallory.next("ready")
    await mallory.send({"type": "resume", "after_seq": 0})
    await mallory.next("messages")
    frames = [*mallory.seen, ready, *await mallory.nothing_more()]
    assert _leaks(frames, conversation_id) == []
    # Alice's contact is as she left it; the claim sits on the claimer's own contact.
    alice_contact = await _card_of_conversation(ctx, admin, conversation_id)
    assert alice_contact["attributes"] == {"plan": "enterprise"}
    assert (alice_contact["email"], alice_contact["external_id"]) == (ALICE["email"], "alice-1")
    assert alice_contact["external_id_verified"] is True
    assert len(alice_contact["browsers"]) == 1
    for sock in (alice, mallory, console):
        await sock.close()


async def _card_of_conversation(ctx, operator, conversation_id: int) -> dict:
    summary = await conversations.get_conversation(ctx, operator, conversation_id)
    contact_id = summary.conversation.contact_id
    return (await contacts.get_contact_card(ctx, operator, contact_id)).public()


async def test_the_claimer_first_then_the_real_person_signs_in_gains_nothing(
    server, shop, ctx
) -> None:
    site, admin = shop
    console = await open_operator(server.url, admin.email)
    await console.next("ready")
    mallory, _ = await open_visitor(server.url, site.key)
    await mallory.next("ready")
    await mallory.send({"type": "visitor.identify", "traits": {"user_id": "alice-1"}})
    await mallory.next("visitor.updated")
    await mallory.send({"type": "email.submit", "email": ALICE["email"]})
    await mallory.next("email.accepted")
    await mallory.send({"type": "message.send", "client_msg_id": "m1", "text": "phishing"})
    mallory_conversation = (await mallory.next("message.ack"))["message"]["conversation_id"]

    alice, _, conversation_id = await _alice_with_history(server, site, console)
    assert conversation_id != mallory_conversation
    await alice.send({"type": "resume", "after_seq": 0})
    shown = (await alice.next("messages"))["messages"]
    assert "phishing" not in [m["text"] for m in shown]
    assert _leaks(await mallory.nothing_more(), conversation_id) == []
    # The team sees the two contacts that share an email, and which one proved it.
    card = await _card_of_conversation(ctx, admin, mallory_conversation)
    (duplicate,) = card["possible_duplicates"]
    assert duplicate["email_verified"] is False  # Alice proved her user_id, not the email
    assert card["external_id_verified"] is False
    for sock in (alice, mallory, console):
        await sock.close()


async def test_a_valid_user_hash_joins_a_second_device_and_only_a_valid_one(
    server, shop, factory: Factory, ctx, clock
) -> None:
    site, admin = shop
    other_site = await factory.site()
    console = await open_operator(server.url, admin.email)
    await console.next("ready")
    alice, _, conversation_id = await _alice_with_history(server, site, console)
    rotated = await sites.rotate_identity_secret(ctx, admin, site.id, grace_hours=1)
    clock.advance(hours=2)  # the secret Alice's first hash was made with no longer verifies
    wrong = {
        "a wrong hash": "f" * 64,
        "another site's hash": user_hash(other_site.identity_secret, "alice-1"),
        "a rotated-out hash": user_hash(site.identity_secret, "alice-1"),
    }
    for label, bad in wrong.items():
        stranger, _ = await open_visitor(server.url, site.key)
        await stranger.next("ready")
        traits = {"user_id": "alice-1", "user_hash": bad}
        await stranger.send({"type": "visitor.identify", "traits": traits})
        answer = await stranger.next("visitor.updated")
        assert answer["identity"] == "claimed", label
        assert answer["verification"] == ("expired" if "rotated" in label else "invalid")
        assert "token" not in answer
        await stranger.send({"type": "resume", "after_seq": 0})
        await stranger.next("messages")
        assert _leaks(stranger.seen, conversation_id) == [], label
        await stranger.close()

    phone, _ = await open_visitor(server.url, site.key)
    await phone.next("ready")
    good = {"user_id": "alice-1", "user_hash": user_hash(rotated["secret"], "alice-1")}
    await phone.send({"type": "visitor.identify", "traits": good})
    answer = await phone.next("visitor.updated")
    assert (answer["identity"], answer["email_known"]) == ("verified", True)
    await phone.send({"type": "resume", "after_seq": 0})
    texts = [m["text"] for m in (await phone.next("messages"))["messages"]]
    assert texts == [SECRET_TEXT, REPLY_TEXT]
    # Both devices hear what comes next.
    await _operator_says(console, conversation_id, LATER_REPLY, "r2")
    await _until_text(phone, LATER_REPLY)
    await _until_text(alice, LATER_REPLY)
    for sock in (alice, phone, console):
        await sock.close()


async def test_a_browser_that_proves_another_identity_leaves_the_first(server, shop, ctx) -> None:
    site, admin = shop
    console = await open_operator(server.url, admin.email)
    await console.next("ready")
    alice, _, conversation_id = await _alice_with_history(server, site, console)
    await alice.send({"type": "visitor.identify", "traits": proven(site, user_id="bob-2")})
    answer = await alice.next("visitor.updated")
    assert answer["identity"] == "verified" and answer["token"]
    # From that frame on the socket is Bob's: Alice's conversation goes on without it.
    await _operator_says(console, conversation_id, LATER_REPLY, "r2")
    assert _leaks(await alice.nothing_more(), conversation_id) == []
    await alice.close()
    bob, _ = await open_visitor(server.url, site.key, answer["token"])
    ready = await bob.next("ready")
    assert ready["visitor_id"] == answer["visitor_id"] and ready["conversation"] is None
    await bob.send({"type": "resume", "after_seq": 0})
    await bob.next("messages")
    assert _leaks(bob.seen, conversation_id) == []
    # Alice's contact keeps her history and her one browser; Bob's has the new visitor.
    card = await _card_of_conversation(ctx, admin, conversation_id)
    assert card["external_id"] == "alice-1" and len(card["browsers"]) == 1
    for sock in (bob, console):
        await sock.close()


async def test_signing_out_all_browsers_closes_their_chats_and_voids_their_tokens(
    server, shop, ctx
) -> None:
    site, admin = shop
    console = await open_operator(server.url, admin.email)
    await console.next("ready")
    alice, token, conversation_id = await _alice_with_history(server, site, console)
    card = await _card_of_conversation(ctx, admin, conversation_id)
    assert await contact_identity.sign_out_browsers(ctx, admin, card["id"]) == 1
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await alice.next(wait=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert (await console.next("contact.signed_out"))["contact_id"] == card["id"]
    # The old token opens no socket, and a session with it starts a new anonymous visitor.
    async with connect(f"{server.ws_url}/widget/v1/ws?site={site.key}&token={token}") as old:
        with pytest.raises(ConnectionClosed) as refused:
            await old.recv()
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401
    session = await visitor_session(server.url, site.key, token)
    assert session["token"] != token
    fresh, _ = await open_visitor(server.url, site.key, session["token"])
    ready = await fresh.next("ready")
    assert ready["conversation"] is None and ready["email_known"] is False
    for sock in (fresh, console):
        await sock.close()


async def test_when_verification_is_required_a_claim_is_refused_but_email_capture_works(
    server, shop, ctx
) -> None:
    site, admin = shop
    await sites.update_site(ctx, admin, site.id, {"require_verification": True})
    browser, _ = await open_visitor(server.url, site.key)
    await browser.next("ready")
    refusals = {
        "user_hash_missing": {"email": "x@example.com"},
        "user_hash_invalid": {"user_id": "x", "user_hash": "0" * 64},
    }
    for code, traits in refusals.items():
        await browser.send({"type": "visitor.identify", "traits": traits, "client_msg_id": code})
        error = await browser.next("error")
        assert (error["code"], error["client_msg_id"]) == (code, code)
        assert "alice" not in error["message"]
    # A name alone proves nothing and needs nothing.
    await browser.send({"type": "visitor.identify", "traits": {"name": "Kim"}})
    assert (await browser.next("visitor.updated"))["identity"] == "anonymous"
    await browser.send({"type": "email.submit", "email": "kim@example.com"})
    await browser.next("email.accepted")
    await browser.send({"type": "visitor.identify", "traits": proven(site, user_id="kim")})
    assert (await browser.next("visitor.updated"))["identity"] == "verified"
    await browser.close()
