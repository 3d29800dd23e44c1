"""Who a browser is: claims, proofs, and what a proof does to its contact (docs/widget.md,
"Identity verification"; docs/contacts.md, "Identity").

Whatever a browser says about itself (an email, a `user_id`) is a *claim*: kept on its own
contact, never a reason to join another. A *proof* is a `user_hash`, the HMAC-SHA256 of the
site's identity secret over the exact `user_id` (or the email when no `user_id` is given),
which only the site's backend can compute. Only proven identities join contacts.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from doorstep.errors import InvalidInput

MAX_USER_HASH_CHARS = 128

# What checking a user_hash found: a proof, or why the identity stays a claim.
Verification = Literal["verified", "missing", "invalid", "expired"]
ProofKind = Literal["user_id", "email"]

# What a proof does to the browser that presents it (see `next_step`).
Step = Literal["stay", "adopt", "merge_into_holder", "switch_to_holder", "switch_to_new"]


@dataclass(frozen=True, slots=True)
class IdentitySecrets:
    """A site's signing keys: the current one, and the one before it until its grace ends."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Proof:
    """The identity a valid user_hash proves: the `user_id` if one was passed, else the email."""

    kind: ProofKind
    value: str


@dataclass(frozen=True, slots=True)
class ProvenIdentity:
    """What a contact has proven about itself so far (both None: nothing, only claims)."""

    user_id: str | None = None
    email: str | None = None

    @property
    def proven(self) -> bool:
        return self.user_id is not None or self.email is not None

    def is_(self, proof: Proof) -> bool:
        """Whether the proof names this identity: a user_id names it by its user_id; an email
        alone names it when that email is its proven one."""
        if proof.kind == "user_id":
            return self.user_id == proof.value
        return self.email == proof.value


def user_hash(secret: str, key: str) -> str:
    """What the site's backend computes: lowercase hex HMAC-SHA256(secret, key)."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def proof_key(user_id: str | None, email: str | None) -> Proof | None:
    """What a user_hash must sign: the exact user_id, or the email when there is no user_id."""
    if user_id is not None:
        return Proof("user_id", user_id)
    if email is not None:
        return Proof("email", email)
    return None


def check_user_hash(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_USER_HASH_CHARS:
        raise InvalidInput(
            f"user_hash is a text of at most {MAX_USER_HASH_CHARS} characters",
            code="invalid_user_hash",
        )
    return value


def verify(secrets: IdentitySecrets, key: str, given: str | None, now: datetime) -> Verification:
    """Whether `given` is the user_hash of `key` under the site's secrets, in constant time.

    A hash made with the previous secret verifies until its grace period ends, and is then
    `expired` (so a site owner can tell a forgotten deployment from a forgery); anything
    else, including another site's hash, is `invalid`. Nothing here says whether the key
    belongs to anyone.
    """
    if not given:
        return "missing"
    candidate = given.lower().encode()
    if secrets.current and hmac.compare_digest(user_hash(secrets.current, key).encode(), candidate):
        return "verified"
    if secrets.previous and hmac.compare_digest(
        user_hash(secrets.previous, key).encode(), candidate
    ):
        until = secrets.previous_until
        return "verified" if until is not None and now <= until else "expired"
    return "invalid"


def next_step(
    current: ProvenIdentity,
    proof: Proof,
    *,
    holder_id: int | None,
    current_id: int,
    sole_browser: bool,
) -> Step:
    """What a browser on the contact `current_id` becomes when it proves `proof`.

    `holder_id` is the live contact already proven as `proof` (None when nobody is yet);
    `sole_browser` whether this browser is its contact's only one, so that the contact's
    history is this browser's own.

    - `stay`: the contact is already this identity.
    - `merge_into_holder`: an unproven contact of this browser alone joins the identity's
      contact: what it did before signing in belongs to the person who signed in.
    - `adopt`: the same when nobody has proven this identity yet: the contact becomes it. A
      contact proven by its email alone also takes a user_id nobody holds: the same person,
      now signing in by account.
    - `switch_to_holder` / `switch_to_new`: the browser leaves its contact, as a new visitor
      on the identity's contact (or on a new one). It takes nothing with it and sees nothing
      of what it leaves: the contact is another proven identity, or is shared with other
      browsers (contacts joined automatically before identities were proven).
    """
    if holder_id == current_id or current.is_(proof):
        return "stay"
    if current.proven:
        if holder_id is None and proof.kind == "user_id" and current.user_id is None:
            return "adopt"
    elif sole_browser:
        return "merge_into_holder" if holder_id is not None else "adopt"
    return "switch_to_holder" if holder_id is not None else "switch_to_new"


def may_merge(survivor: ProvenIdentity, merged: ProvenIdentity) -> bool:
    """Two contacts proven as different user_ids are two people: never one contact."""
    return survivor.user_id is None or merged.user_id is None or survivor.user_id == merged.user_id


def claimable(proven: ProvenIdentity, fields: dict[str, Any]) -> dict[str, Any]:
    """What a claim may change on its own contact: everything but a proven email or user_id
    (a signed-in person's page cannot be talked out of who they are)."""
    kept = {"email"} if proven.email is not None else set()
    if proven.user_id is not None:
        kept.add("external_id")
    return {name: value for name, value in fields.items() if name not in kept}


def standing(proven: ProvenIdentity, email: str | None, external_id: str | None) -> str:
    """How a widget is told who it is: `verified`, `claimed` or `anonymous`."""
    if proven.proven:
        return "verified"
    return "claimed" if email is not None or external_id is not None else "anonymous"
