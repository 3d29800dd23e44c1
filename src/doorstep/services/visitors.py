"""Visitors: widget sessions, and what a visitor's browser tells about them (docs/widget.md).

A browser's word about who it is stays on its own contact; only a proof (a valid user_hash)
joins contacts (domain/identity.py, docs/contacts.md "Identity").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from doorstep.domain import attributes as attr_rules
from doorstep.domain import identity as rules
from doorstep.domain.merge import merged_fields
from doorstep.domain.models import Contact, Site, Visitor
from doorstep.errors import Forbidden, InvalidInput, Unauthorized
from doorstep.services import abuse, audiences
from doorstep.services.context import Ctx
from doorstep.services.operators import normalise_email
from doorstep.services.uow import UnitOfWork, unit_of_work
from doorstep.signing import sign, unsign
from doorstep.store import identity as identity_store
from doorstep.store import merge as merge_store
from doorstep.store import sites as site_store
from doorstep.store import visitors as visitor_store

_TOKEN_PURPOSE = "visitor"


def visitor_token(ctx: Ctx, visitor: Visitor) -> str:
    value = f"{visitor.site_id}-{visitor.id}-{visitor.token_generation}"
    return sign(ctx.settings.secret_key, _TOKEN_PURPOSE, value)


def _token_claims(ctx: Ctx, site: Site, token: str | None) -> tuple[int, int] | None:
    """The visitor id and token generation a token of this site names, else None."""
    value = unsign(ctx.settings.secret_key, _TOKEN_PURPOSE, token or "")
    if value is None:
        return None
    # Tokens handed out before generations existed name generation 0.
    site_part, visitor_part, generation = [*value.split("-"), "0"][:3]
    if site_part != str(site.id) or not visitor_part.isdigit() or not generation.isdigit():
        return None
    return int(visitor_part), int(generation)


def _token_holds(visitor: Visitor | None, site: Site, claims: tuple[int, int] | None) -> bool:
    return (
        visitor is not None
        and claims is not None
        and visitor.site_id == site.id
        and visitor.token_generation == claims[1]
    )


async def start_visitor_session(
    ctx: Ctx,
    site: Site,
    *,
    token: str | None,
    locale: str | None,
    address: str | None = None,
) -> tuple[Visitor, str]:
    """The visitor behind a stored token, or a new one; a bad or voided token is not an
    error, it starts a new anonymous visitor. New visitors are counted for the client's
    `address` (services/abuse.py): over the limit none is made, and `rate_limited` says when
    to retry."""
    locale = (locale or "")[:35] or None
    claims = _token_claims(ctx, site, token)
    if claims is None:
        abuse.take_new_visitor(ctx, address)  # refused before any transaction
    async with unit_of_work(ctx) as uow:
        visitor = await visitor_store.visitor_by_id(uow.conn, claims[0]) if claims else None
        if visitor is not None and _token_holds(visitor, site, claims):
            await visitor_store.touch_visitor(uow.conn, visitor, locale=locale, now=uow.now)
        else:
            if claims is not None:  # a signed token of a visitor who is gone or voided
                abuse.take_new_visitor(ctx, address)
            visitor = await visitor_store.insert_visitor(
                uow.conn, site_id=site.id, locale=locale, now=uow.now
            )
    return visitor, visitor_token(ctx, visitor)


async def visitor_for_token(ctx: Ctx, site: Site, token: str | None) -> Visitor:
    claims = _token_claims(ctx, site, token)
    if claims is None:
        raise Unauthorized("invalid visitor token", code="invalid_token")
    async with ctx.db.read() as conn:
        visitor = await visitor_store.visitor_by_id(conn, claims[0])
    if visitor is None or not _token_holds(visitor, site, claims):
        raise Unauthorized("invalid visitor token", code="invalid_token")
    return visitor


async def visitor_email_known(ctx: Ctx, visitor: Visitor) -> bool:
    """Whether the visitor's contact has an email: the widget then never asks for one."""
    async with ctx.db.read() as conn:
        contact = await visitor_store.contact_by_id(conn, visitor.contact_id)
    return contact is not None and contact.email is not None


@dataclass(frozen=True, slots=True)
class Identified:
    """What an identify did. `verification` is None when nothing was there to prove (no email
    or user_id); `visitor` is set when the browser became a new visitor of another contact,
    and `token` is then that visitor's."""

    contact: Contact
    verification: rules.Verification | None = None
    visitor: Visitor | None = None
    token: str | None = None

    @property
    def standing(self) -> str:
        c = self.contact
        return rules.standing(c.proven, c.email, c.external_id)


async def identify_visitor(ctx: Ctx, visitor: Visitor, traits: object) -> Identified:
    """The JS API's identify: claims, and with a valid user_hash a proven identity."""
    identity, custom = attr_rules.split_traits(traits)
    given_hash = rules.check_user_hash(identity.get("user_hash"))
    email = identity.get("email")
    user_id = None if identity.get("user_id") is None else str(identity["user_id"])[:200]
    fields: dict[str, Any] = {}
    if email is not None:
        fields["email"] = normalise_email(str(email)).lower()
    if user_id is not None:
        fields["external_id"] = user_id
    for name in ("name", "phone", "avatar_url"):
        if identity.get(name) is not None:
            fields[name] = str(identity[name])[: 200 if name != "avatar_url" else 1000]
    # The hash signs the exact text the page passed; contacts are found by the stored form.
    proof = rules.proof_key(user_id, fields.get("email"))
    if proof is None:
        return Identified(await _claim(ctx, visitor, fields, custom))
    signed = user_id if user_id is not None else str(email)
    for attempt in range(2):
        try:
            return await _identify(ctx, visitor, proof, signed, given_hash, fields, custom)
        except IntegrityError:
            # Another browser proved the same new user_id in the same moment (PostgreSQL):
            # it holds the identity now, and a second look finds it.
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _identify(
    ctx: Ctx,
    visitor: Visitor,
    proof: rules.Proof,
    signed: str,
    given_hash: str | None,
    fields: dict[str, Any],
    custom: dict[str, Any],
) -> Identified:
    async with unit_of_work(ctx) as uow:
        site = await site_store.site_by_id(uow.conn, visitor.site_id)
        assert site is not None
        secrets = rules.IdentitySecrets(
            site.identity_secret, site.identity_secret_previous, site.identity_previous_until
        )
        verification = rules.verify(secrets, signed, given_hash, uow.now)
        if verification != "verified":
            if site.require_verification:
                raise Forbidden(_REFUSALS[verification], code=f"user_hash_{verification}")
            contact = await change_contact(uow, visitor.contact_id, fields, custom, claim=True)
            return Identified(contact, verification)
        moved = await _prove(uow, visitor, proof, fields, custom)
    if moved.visitor is None and moved.contact.id != visitor.contact_id:
        ctx.visitors_live.move_contact(visitor.contact_id, moved.contact.id)
    token = visitor_token(ctx, moved.visitor) if moved.visitor else None
    return Identified(moved.contact, verification, moved.visitor, token)


_REFUSALS = {
    "missing": "this site requires a user_hash with an email or user_id",
    "invalid": "the user_hash does not match this email or user_id",
    "expired": "the user_hash was made with a secret that has been replaced",
}


@dataclass(frozen=True, slots=True)
class _Proven:
    contact: Contact
    visitor: Visitor | None  # the browser's new visitor, when it left its contact


async def _prove(
    uow: UnitOfWork,
    visitor: Visitor,
    proof: rules.Proof,
    fields: dict[str, Any],
    custom: dict[str, Any],
) -> _Proven:
    """Carry out what a proof does (domain/identity.py, `next_step`), inside the unit of work."""
    conn = uow.conn
    current = await visitor_store.contact_by_id(conn, visitor.contact_id)
    assert current is not None
    holder_id = await identity_store.contact_proven_as(conn, visitor.site_id, proof)
    step = rules.next_step(
        current.proven,
        proof,
        holder_id=holder_id,
        current_id=current.id,
        sole_browser=await identity_store.browser_count(conn, current.id) == 1,
    )
    proven = _proven_fields(proof, fields)
    if step in ("stay", "adopt"):
        return _Proven(await change_contact(uow, current.id, proven, custom, claim=True), None)
    if step == "merge_into_holder":
        assert holder_id is not None
        await merge_contacts_in(uow, current, holder_id, kind="verified", operator_id=None)
        return _Proven(await change_contact(uow, holder_id, proven, custom, claim=True), None)
    if holder_id is None:
        holder_id = (await visitor_store.insert_contact(conn, visitor.site_id, uow.now)).id
    browser = await visitor_store.insert_browser(
        conn, holder_id, visitor.site_id, visitor.locale, uow.now
    )
    return _Proven(await change_contact(uow, holder_id, proven, custom, claim=True), browser)


def _proven_fields(proof: rules.Proof, fields: dict[str, Any]) -> dict[str, Any]:
    """The identify's fields with the proven one marked: the other stays a claim."""
    if proof.kind == "user_id":
        return {**fields, "external_id": proof.value, "external_id_verified": True}
    return {**fields, "email_verified": True}


async def _claim(
    ctx: Ctx, visitor: Visitor, fields: dict[str, Any], custom: dict[str, Any]
) -> Contact:
    async with unit_of_work(ctx) as uow:
        return await change_contact(uow, visitor.contact_id, fields, custom, claim=True)


async def set_visitor_attributes(ctx: Ctx, visitor: Visitor, attributes: object) -> Contact:
    return await _claim(ctx, visitor, {}, attr_rules.check_attributes(attributes))


async def change_contact(
    uow: UnitOfWork,
    contact_id: int,
    fields: dict[str, Any],
    custom: dict[str, Any],
    *,
    claim: bool,
) -> Contact:
    """Update one contact's own fields; it never joins another contact.

    A `claim` (what a browser says) cannot change a proven email or user_id; a proven value
    that does change (an operator's edit) is no longer proven. Call inside a unit of work.
    """
    current = await visitor_store.contact_by_id(uow.conn, contact_id)
    assert current is not None, "the contact must exist inside the calling transaction"
    new_keys = set(custom) - set(current.attributes)
    if len(current.attributes) + len(new_keys) > attr_rules.MAX_ATTRIBUTES:
        raise InvalidInput(
            f"a contact has at most {attr_rules.MAX_ATTRIBUTES} attributes",
            code="too_many_attributes",
        )
    if claim:
        proving = {k: v for k, v in fields.items() if k.endswith("_verified")}
        fields = {**rules.claimable(current.proven, fields), **proving}
    for name, flag in (("email", "email_verified"), ("external_id", "external_id_verified")):
        if name in fields and fields[name] != getattr(current, name) and flag not in fields:
            fields[flag] = False
    contact = await visitor_store.update_contact(
        uow.conn, contact_id, fields=fields, attributes=custom
    )
    uow.emit(audiences.visitor_updated(contact.site_id, contact.id, contact.public()))
    return contact


async def merge_contacts_in(
    uow: UnitOfWork, merged: Contact, survivor_id: int, *, kind: str, operator_id: int | None
) -> Contact:
    """Move everything of `merged` to the survivor and record the merge. Call inside a unit
    of work, after checking that the two may be one (domain/identity.py, `may_merge`)."""
    conn = uow.conn
    survivor = await visitor_store.contact_by_id(conn, survivor_id)
    assert survivor is not None
    moved = await merge_store.move_contact_rows(conn, merged.id, survivor.id)
    await merge_store.retire_contact(conn, merged.id, survivor.id)
    await merge_store.set_contact_fields(conn, survivor.id, merged_fields(survivor, merged))
    await merge_store.record_merge(
        conn,
        merged,
        survivor.id,
        kind=kind,
        operator_id=operator_id,
        visitor_ids=moved,
        now=uow.now,
    )
    uow.emit(audiences.contacts_merged(merged.site_id, merged.id, survivor.id))
    result = await visitor_store.contact_by_id(conn, survivor.id)
    assert result is not None
    return result
