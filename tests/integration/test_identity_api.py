"""Identity over REST: the site's secret, possible duplicates, merges by hand, sign-outs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from doorstep.domain.identity import IdentitySecrets, user_hash, verify
from doorstep.services import contact_identity, contacts, visitors
from doorstep.signing import sign
from tests.factories import Factory, proven


async def test_admins_see_and_rotate_the_secret_agents_do_not(api, ctx, clock) -> None:
    site, clients = api
    path = f"/sites/{site.id}/identity"
    assert (await clients["agent"].get(path)).json()["error"]["code"] == "admin_only"
    shown = (await clients["admin"].get(path)).json()["data"]
    assert shown["secret"] == site.identity_secret and len(shown["secret"]) == 64
    assert shown["previous_secret_valid_until"] is None
    # The site itself, as agents read it, never carries the secret.
    listed = (await clients["agent"].get(f"/sites/{site.id}")).json()["data"]
    assert site.identity_secret not in str(listed)

    assert (await clients["agent"].post(f"{path}/rotate")).status_code == 403
    rotated = (await clients["admin"].post(f"{path}/rotate", json={"grace_hours": 2})).json()
    new = rotated["data"]
    assert new["secret"] != site.identity_secret
    assert new["previous_secret_valid_until"] is not None
    bad = await clients["admin"].post(f"{path}/rotate", json={"grace_hours": 10_000})
    assert bad.status_code == 422

    changed = await clients["admin"].patch(f"/sites/{site.id}", json={"require_verification": True})
    assert changed.json()["data"]["require_verification"] is True
    assert (await clients["admin"].get(path)).json()["data"]["require_verification"] is True
    refused = await clients["agent"].patch(
        f"/sites/{site.id}", json={"require_verification": False}
    )
    assert refused.status_code == 403


async def test_contacts_sharing_an_email_are_possible_duplicates_merged_by_hand(
    api, ctx, factory: Factory
) -> None:
    site, clients = api
    laptop, phone = await factory.visitor(site), await factory.visitor(site)
    await visitors.identify_visitor(ctx, laptop, {"email": "jo@example.com", "plan": "pro"})
    await visitors.identify_visitor(ctx, phone, {"email": "JO@example.com", "seats": 3})
    assert laptop.contact_id != phone.contact_id  # a claim joins nobody
    card = (await clients["agent"].get(f"/contacts/{laptop.contact_id}")).json()["data"]
    assert [d["id"] for d in card["possible_duplicates"]] == [phone.contact_id]
    assert card["email_verified"] is False and len(card["browsers"]) == 1

    merged = await clients["agent"].post(
        f"/contacts/{phone.contact_id}/merge", json={"into_id": laptop.contact_id}
    )
    assert merged.status_code == 200, merged.text
    survivor = merged.json()["data"]
    assert survivor["id"] == laptop.contact_id
    assert survivor["attributes"] == {"plan": "pro", "seats": 3}
    card = (await clients["agent"].get(f"/contacts/{laptop.contact_id}")).json()["data"]
    assert card["possible_duplicates"] == [] and len(card["browsers"]) == 2
    again = await clients["agent"].post(
        f"/contacts/{phone.contact_id}/merge", json={"into_id": laptop.contact_id}
    )
    assert again.json()["error"]["code"] == "contact_merged"
    itself = await clients["agent"].post(
        f"/contacts/{laptop.contact_id}/merge", json={"into_id": laptop.contact_id}
    )
    assert itself.status_code == 422

    # Recorded: who merged what, and which browsers moved; admins only.
    path = f"/sites/{site.id}/merges"
    assert (await clients["agent"].get(path)).status_code == 403
    (record,) = (await clients["admin"].get(path, params={"kind": "manual"})).json()["data"]
    assert record["operator_id"] is not None
    assert (record["from"]["id"], record["into"]["id"]) == (phone.contact_id, laptop.contact_id)
    assert record["from"]["email"] == "jo@example.com"
    assert record["moved_browsers"] == [phone.id]
    assert {b["id"] for b in record["browsers"]} == {laptop.id, phone.id}
    assert (await clients["admin"].get(path, params={"kind": "before_upgrade"})).json() == {
        "data": []
    }
    assert (await clients["admin"].get(path, params={"kind": "x"})).status_code == 422


async def test_contacts_proven_as_different_users_are_never_merged(
    api, ctx, factory: Factory
) -> None:
    site, clients = api
    alice, bob = await factory.visitor(site), await factory.visitor(site)
    await visitors.identify_visitor(ctx, alice, proven(site, user_id="alice"))
    await visitors.identify_visitor(ctx, bob, proven(site, user_id="bob"))
    refused = await clients["agent"].post(
        f"/contacts/{bob.contact_id}/merge", json={"into_id": alice.contact_id}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "different_users")


async def test_a_contact_of_another_site_is_not_found_for_a_merge(
    api, ctx, factory: Factory
) -> None:
    site, clients = api
    mine = await factory.visitor(site)
    theirs = await factory.visitor(await factory.site())
    for source, target in ((mine, theirs), (theirs, mine)):
        answer = await clients["admin"].post(
            f"/contacts/{source.contact_id}/merge", json={"into_id": target.contact_id}
        )
        assert answer.status_code == 404
    assert (
        await clients["admin"].post(f"/contacts/{theirs.contact_id}/sign-out")
    ).status_code == 404


async def test_an_operators_email_edit_joins_nothing_and_is_no_proof(
    api, ctx, factory: Factory
) -> None:
    site, clients = api
    alice, other = await factory.visitor(site), await factory.visitor(site)
    await visitors.identify_visitor(ctx, alice, proven(site, email="alice@example.com"))
    edited = await clients["agent"].patch(
        f"/contacts/{other.contact_id}", json={"email": "alice@example.com"}
    )
    data = edited.json()["data"]
    assert (data["id"], data["email_verified"]) == (other.contact_id, False)
    # Changing a proven email un-proves it: the new address was never signed by the site.
    changed = await clients["agent"].patch(
        f"/contacts/{alice.contact_id}", json={"email": "alice@work.example"}
    )
    assert changed.json()["data"]["email_verified"] is False


async def test_signing_out_over_rest_starts_each_browser_again(api, ctx, factory: Factory) -> None:
    site, clients = api
    laptop, token = await factory.visitor_with_token(site)
    answer = await clients["agent"].post(f"/contacts/{laptop.contact_id}/sign-out")
    assert answer.json()["data"] == {"browsers": 1}
    again, new_token = await visitors.start_visitor_session(ctx, site, token=token, locale="en")
    assert again.id != laptop.id and new_token != token


async def test_two_browsers_proving_one_new_user_at_once_end_on_one_contact(
    ctx, factory: Factory
) -> None:
    site = await factory.site()
    browsers = [await factory.visitor(site) for _ in range(4)]
    traits = proven(site, user_id="same-person")
    done = await asyncio.gather(*(visitors.identify_visitor(ctx, b, traits) for b in browsers))
    assert len({d.contact.id for d in done}) == 1


def test_the_rotated_out_secret_verifies_only_during_the_grace(clock) -> None:
    now = clock.now()
    secrets = IdentitySecrets("new", "old", now + timedelta(hours=24))
    old_hash = user_hash("old", "42")
    assert verify(secrets, "42", old_hash, now + timedelta(hours=23)) == "verified"
    assert verify(secrets, "42", old_hash, now + timedelta(hours=25)) == "expired"


async def test_the_card_of_a_claimer_says_nothing_of_the_other_contact_but_its_duplicate(
    ctx, factory: Factory
) -> None:
    site = await factory.site()
    operator = await factory.operator(site)
    claimer = await factory.visitor(site)
    found = await visitors.identify_visitor(ctx, claimer, {"email": "nobody@example.com"})
    # No other contact has the address: the answer is the same as when one has.
    assert (found.standing, found.verification, found.visitor) == ("claimed", "missing", None)
    card = (await contacts.get_contact_card(ctx, operator, claimer.contact_id)).public()
    assert card["possible_duplicates"] == []
    assert await contact_identity.sign_out_browsers(ctx, operator, claimer.contact_id) == 1


async def test_tokens_from_before_generations_still_open_their_session(
    ctx, factory: Factory
) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    old_form = sign(ctx.settings.secret_key, "visitor", f"{site.id}-{visitor.id}")
    assert (await visitors.visitor_for_token(ctx, site, old_form)).id == visitor.id
    again, _ = await visitors.start_visitor_session(ctx, site, token=old_form, locale=None)
    assert again.id == visitor.id


async def test_the_user_hash_is_never_kept_as_an_attribute(ctx, factory: Factory) -> None:
    site = await factory.site()
    visitor = await factory.visitor(site)
    done = await visitors.identify_visitor(ctx, visitor, proven(site, user_id="u1", plan="pro"))
    assert done.contact.attributes == {"plan": "pro"}
    claimed = await visitors.identify_visitor(ctx, visitor, {"user_hash": "x" * 64, "seats": 2})
    assert "user_hash" not in claimed.contact.attributes
