"""Value types passed between the store, the services and the doors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from doorstep.domain.identity import ProvenIdentity

AuthorType = Literal["visitor", "operator", "system"]
ConversationStatus = Literal["open", "resolved"]
Role = Literal["admin", "agent"]
PresenceStatus = Literal["online", "away"]

MAX_MESSAGE_CHARS = 10_000
# Ids are BIGINT in both databases: a larger number is no id of anything, and passing it to a
# query would fail in the driver (SQLite: OverflowError; asyncpg: DataError) as a 500.
MAX_ID = 2**63 - 1
# A conversation's seq, read marks and other counters are 32-bit INTEGER columns.
MAX_SEQ = 2**31 - 1
# The moments a request may name (a page cursor, a preview's time): far enough from the ends
# of Python's calendar (years 1 and 9999) that a time-zone shift or a year of schedules
# ahead stays representable.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, the one timestamp format on every wire."""
    if moment is None:
        return None
    # isoformat is a third quicker than strftime, and several stamps go into every message's
    # frames; its first 26 characters are the date and time, an offset would follow them.
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    key: str
    name: str
    timezone: str
    locale: str | None
    color: str
    created_at: datetime
    widget_strings: dict[str, Any] = field(default_factory=dict)
    # Identity verification (domain/identity.py); the secrets never leave through public().
    identity_secret: str = field(default="", repr=False)
    identity_secret_previous: str | None = field(default=None, repr=False)
    identity_previous_until: datetime | None = None
    require_verification: bool = False
    # Origins whose pages may load the widget (domain/site_settings.py); empty: any.
    allowed_origins: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "timezone": self.timezone,
            "locale": self.locale,
            "color": self.color,
            "widget_strings": self.widget_strings,
            "require_verification": self.require_verification,
            "allowed_origins": list(self.allowed_origins),
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    email: str
    name: str
    role: Role
    avatar_url: str | None
    status: PresenceStatus
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "avatar_url": self.avatar_url}


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    site_id: int
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    avatar_url: str | None
    attributes: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime
    first_source: dict[str, Any] | None = None
    last_source: dict[str, Any] | None = None
    country: str | None = None
    city: str | None = None
    timezone: str | None = None
    language: str | None = None
    device_type: str | None = None
    os: str | None = None
    browser: str | None = None
    tags: tuple[str, ...] = ()
    merged_into_id: int | None = None
    # Proven by a valid user_hash, not only claimed by a browser (domain/identity.py).
    email_verified: bool = False
    external_id_verified: bool = False

    @property
    def display_name(self) -> str:
        return contact_display_name(self.id, self.name, self.email)

    @property
    def proven(self) -> ProvenIdentity:
        return ProvenIdentity(
            self.external_id if self.external_id_verified else None,
            self.email if self.email_verified else None,
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "name": self.name,
            "display_name": self.display_name,
            "email": self.email,
            "phone": self.phone,
            "external_id": self.external_id,
            "email_verified": self.email_verified,
            "external_id_verified": self.external_id_verified,
            "avatar_url": self.avatar_url,
            "attributes": self.attributes,
            "created_at": iso(self.created_at),
            "last_seen_at": iso(self.last_seen_at),
            "first_source": self.first_source,
            "last_source": self.last_source,
            "location": {"country": self.country, "city": self.city, "timezone": self.timezone},
            "language": self.language,
            "device": {"type": self.device_type, "os": self.os, "browser": self.browser},
            "tags": list(self.tags),
        }


@dataclass(frozen=True, slots=True)
class Visitor:
    id: int
    site_id: int
    contact_id: int
    locale: str | None
    created_at: datetime
    last_seen_at: datetime
    # Part of the visitor's token; raised to void every token handed out before.
    token_generation: int = 0


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    site_id: int
    contact_id: int
    status: ConversationStatus
    assignee_id: int | None
    last_seq: int
    visitor_read_seq: int
    operator_read_seq: int
    last_message_at: datetime | None
    last_message_text: str | None
    last_message_author: AuthorType | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    opened_at: datetime | None = None
    operator_replied_at: datetime | None = None

    def for_visitor(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "last_seq": self.last_seq,
            "visitor_read_seq": self.visitor_read_seq,
            "operator_read_seq": self.operator_read_seq,
        }


@dataclass(frozen=True, slots=True)
class Author:
    type: AuthorType
    id: int | None = None
    name: str | None = None
    avatar_url: str | None = None

    def public(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name, "avatar_url": self.avatar_url}


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: int
    seq: int
    author: Author
    text: str
    internal: bool
    client_msg_id: str | None
    created_at: datetime
    # What a system message is: {"kind": "autoreply" | "email_captured", ...}; else None.
    meta: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "author": self.author.public(),
            "text": self.text,
            "internal": self.internal,
            "client_msg_id": self.client_msg_id,
            "created_at": iso(self.created_at),
            "meta": self.meta,
        }


def contact_display_name(contact_id: int, name: str | None, email: str | None) -> str:
    """What the team calls a contact: the name, else the e-mail address, else a number."""
    return name or email or f"Visitor #{contact_id}"


@dataclass(frozen=True, slots=True)
class InboxContact:
    """Who a conversation is with, as an inbox row names them: the contact's card has the
    rest, so an inbox row reads only these columns on the way of every message."""

    id: int
    name: str | None
    email: str | None

    @property
    def display_name(self) -> str:
        return contact_display_name(self.id, self.name, self.email)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """What an inbox row shows: the conversation, who it is with, and what is unread."""

    conversation: Conversation
    contact: InboxContact
    unread: int
    assignee: Operator | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        c = self.conversation
        return {
            "id": c.id,
            "site_id": c.site_id,
            "status": c.status,
            "last_seq": c.last_seq,
            "unread": self.unread,
            "assignee": self.assignee.public() if self.assignee else None,
            "contact": {
                "id": self.contact.id,
                "display_name": self.contact.display_name,
                "email": self.contact.email,
            },
            "last_message": {
                "text": c.last_message_text,
                "author": c.last_message_author,
                "at": iso(c.last_message_at),
            },
            "visitor_read_seq": c.visitor_read_seq,
            "operator_read_seq": c.operator_read_seq,
            "created_at": iso(c.created_at),
            "updated_at": iso(c.updated_at),
            "resolved_at": iso(c.resolved_at),
        }
