"""Claims and proofs: checking a user_hash, and what a proof does to a browser's contact."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.identity import (
    IdentitySecrets,
    Proof,
    ProvenIdentity,
    claimable,
    may_merge,
    next_step,
    proof_key,
    user_hash,
    verify,
)
from doorstep.domain.merge import merged_fields
from doorstep.domain.models import Contact

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECRETS = IdentitySecrets("new-secret", "old-secret", NOW + timedelta(hours=1))


def test_user_hash_is_the_lowercase_hex_hmac_sha256_a_backend_computes() -> None:
    expected = hmac.new(b"s3cret", b"user-42", hashlib.sha256).hexdigest()
    assert user_hash("s3cret", "user-42") == expected == expected.lower()


def test_the_key_is_the_user_id_else_the_email() -> None:
    assert proof_key("42", "a@example.com") == Proof("user_id", "42")
    assert proof_key(None, "a@example.com") == Proof("email", "a@example.com")
    assert proof_key(None, None) is None


@pytest.mark.parametrize(
    ("given_hash", "now", "found"),
    [
        (user_hash("new-secret", "42"), NOW, "verified"),
        (user_hash("new-secret", "42").upper(), NOW, "verified"),
        (user_hash("old-secret", "42"), NOW, "verified"),  # within the grace period
        (user_hash("old-secret", "42"), NOW + timedelta(hours=2), "expired"),
        (user_hash("another-sites-secret", "42"), NOW, "invalid"),
        (user_hash("new-secret", "43"), NOW, "invalid"),  # someone else's hash
        ("not a hash", NOW, "invalid"),
        (None, NOW, "missing"),
        ("", NOW, "missing"),
    ],
)
def test_verify_tells_a_proof_from_each_kind_of_claim(given_hash, now, found) -> None:
    assert verify(SECRETS, "42", given_hash, now) == found


def test_without_a_previous_secret_only_the_current_one_verifies() -> None:
    fresh = IdentitySecrets("new-secret")
    assert verify(fresh, "42", user_hash("old-secret", "42"), NOW) == "invalid"
    # A site whose secret is empty (never set) verifies nothing, not even the empty key's hash.
    assert verify(IdentitySecrets(""), "42", user_hash("", "42"), NOW) == "invalid"


NOBODY = ProvenIdentity()
ALICE = ProvenIdentity(user_id="alice")
ALICE_BY_EMAIL = ProvenIdentity(email="alice@example.com")
AS_ALICE = Proof("user_id", "alice")
AS_BOB = Proof("user_id", "bob")
AS_ALICES_EMAIL = Proof("email", "alice@example.com")


@pytest.mark.parametrize(
    ("current", "proof", "holder", "sole", "step"),
    [
        # Signing in again as who the contact already is.
        (ALICE, AS_ALICE, 1, True, "stay"),
        (ALICE_BY_EMAIL, AS_ALICES_EMAIL, None, False, "stay"),
        # An anonymous browser alone on its contact brings its history along.
        (NOBODY, AS_ALICE, 2, True, "merge_into_holder"),
        (NOBODY, AS_ALICE, None, True, "adopt"),
        # A contact shared with other browsers (joined before proofs existed) is left behind.
        (NOBODY, AS_ALICE, 2, False, "switch_to_holder"),
        (NOBODY, AS_ALICE, None, False, "switch_to_new"),
        # Verified as Alice, now proving Bob: a new visitor on Bob's contact.
        (ALICE, AS_BOB, 2, True, "switch_to_holder"),
        (ALICE, AS_BOB, None, True, "switch_to_new"),
        # Proven by email, now signing in by account: the same person takes the user_id...
        (ALICE_BY_EMAIL, AS_ALICE, None, True, "adopt"),
        # ...unless another contact already holds that user_id: never merge two proofs.
        (ALICE_BY_EMAIL, AS_ALICE, 2, True, "switch_to_holder"),
    ],
)
def test_what_a_proof_does(current, proof, holder, sole, step) -> None:
    assert next_step(current, proof, holder_id=holder, current_id=1, sole_browser=sole) == step


identities = st.builds(
    ProvenIdentity,
    user_id=st.sampled_from([None, "alice", "bob"]),
    email=st.sampled_from([None, "alice@example.com", "bob@example.com"]),
)
proofs = st.one_of(
    st.builds(Proof, kind=st.just("user_id"), value=st.sampled_from(["alice", "bob"])),
    st.builds(Proof, kind=st.just("email"), value=st.sampled_from(["alice@example.com", "b@x.io"])),
)


@given(identities, proofs, st.sampled_from([None, 1, 2]), st.booleans())
def test_a_proof_never_takes_another_identitys_contact_with_it(
    current, proof, holder, sole
) -> None:
    step = next_step(current, proof, holder_id=holder, current_id=1, sole_browser=sole)
    if step == "merge_into_holder":
        # Only an unproven contact that is this browser's alone is ever merged by a proof.
        assert not current.proven and sole and holder == 2
    if step == "adopt":
        # The contact becomes the identity only when nobody else holds it, and a contact
        # proven as one user_id never becomes another.
        assert holder is None
        assert current.user_id is None
        assert sole or current.proven
    if current.user_id is not None and not (
        proof.kind == "user_id" and proof.value == current.user_id
    ):
        assert step not in ("adopt", "merge_into_holder")


def test_two_contacts_proven_as_different_users_never_merge() -> None:
    assert not may_merge(ALICE, ProvenIdentity(user_id="bob"))
    assert may_merge(ALICE, ProvenIdentity(user_id="alice"))
    assert may_merge(ALICE, NOBODY) and may_merge(NOBODY, ALICE_BY_EMAIL)


def test_a_claim_cannot_change_a_proven_email_or_user_id() -> None:
    fields = {"email": "mallory@example.com", "external_id": "mallory", "name": "M"}
    assert claimable(ALICE, fields) == {"email": "mallory@example.com", "name": "M"}
    assert claimable(ALICE_BY_EMAIL, fields) == {"external_id": "mallory", "name": "M"}
    assert claimable(NOBODY, fields) == fields


def test_a_merge_keeps_each_value_with_whether_it_was_proven() -> None:
    merged = Contact(
        2,
        1,
        None,
        "a@example.com",
        None,
        "alice",
        None,
        {},
        NOW,
        NOW,
        email_verified=True,
        external_id_verified=True,
    )
    survivor = Contact(1, 1, None, "claimed@example.com", None, None, None, {}, NOW, NOW)
    values = merged_fields(survivor, merged)
    # The survivor's own (claimed) email stays, unproven; the user_id it lacked comes proven.
    assert (values["email"], values["email_verified"]) == ("claimed@example.com", False)
    assert (values["external_id"], values["external_id_verified"]) == ("alice", True)
