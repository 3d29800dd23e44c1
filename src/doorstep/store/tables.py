"""Table definitions shared by SQLite and PostgreSQL; migrations live in store/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(name, Id, ForeignKey(target, ondelete=ondelete), nullable=nullable)


sites = Table(
    "sites",
    metadata,
    _id(),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("locale", String(16), nullable=True),
    Column("color", String(16), nullable=False, default="#4f46e5"),
    # Per-site overrides of the widget's texts, {locale: {key: text}} or {key: text}.
    Column("widget_strings", Json, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    # Identity verification (docs/widget.md): the key the site's backend signs `user_hash`
    # with; after a rotation the previous key still verifies until `identity_previous_until`.
    Column("identity_secret", String(64), nullable=False, server_default=text("''")),
    Column("identity_secret_previous", String(64), nullable=True),
    Column("identity_previous_until", UTCDateTime, nullable=True),
    Column("require_verification", Boolean, nullable=False, server_default=text("false")),
    # Origins whose pages may load the widget, ["https://shop.example.com", ...]; []: any.
    Column("allowed_origins", Json, nullable=False, server_default=text("'[]'")),
)

operators = Table(
    "operators",
    metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False, default="agent"),
    Column("avatar_url", String(1000), nullable=True),
    Column("status", String(16), nullable=False, default="online"),
    Column("created_at", UTCDateTime, nullable=False),
)

site_members = Table(
    "site_members",
    metadata,
    _fk("site_id", "sites.id"),
    _fk("operator_id", "operators.id"),
    UniqueConstraint("site_id", "operator_id"),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    _fk("operator_id", "operators.id"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "operator_id"),  # ending every session of an operator
)

# Failed console sign-ins of the last minutes, which every node reads to throttle the next
# attempt (domain/throttling.py); the daily housekeeping deletes the old ones.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    _id(),
    Column("email", String(254), nullable=False),  # as typed, lower-cased: known or not
    Column("address", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "email", "created_at"),
    Index(None, "address", "created_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _fk("operator_id", "operators.id"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    Column("name", String(200), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(64), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("avatar_url", String(1000), nullable=True),
    Column("attributes", Json, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # The latest known profile facts, copied from visits as they happen (docs/tracking.md).
    Column("first_source", Json, nullable=True),
    Column("last_source", Json, nullable=True),
    Column("country", String(2), nullable=True),
    Column("city", String(100), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("language", String(35), nullable=True),
    Column("device_type", String(16), nullable=True),
    Column("os", String(64), nullable=True),
    Column("browser", String(64), nullable=True),
    Column("tags", Json, nullable=False, default=list, server_default=text("'[]'")),
    # A contact merged into another keeps its row as a forwarding address.
    Column("merged_into_id", Id, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True),
    # Whether the email / user_id was proven (a valid user_hash) or only claimed by a browser:
    # only proven values join contacts (docs/contacts.md, "Identity").
    Column("email_verified", Boolean, nullable=False, server_default=text("false")),
    Column("external_id_verified", Boolean, nullable=False, server_default=text("false")),
    Index(None, "site_id", "email"),
    Index(None, "site_id", "last_seen_at"),
    # One live contact per verified user_id of a site: two browsers proving the same new
    # identity at once end up on one contact (the second write fails and is retried).
    Index(
        "uq_contacts_verified_external_id",
        "site_id",
        "external_id",
        unique=True,
        sqlite_where=text("external_id_verified AND merged_into_id IS NULL"),
        postgresql_where=text("external_id_verified AND merged_into_id IS NULL"),
    ),
)

visitors = Table(
    "visitors",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    Column("locale", String(35), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # Part of the visitor's token: raising it ("sign out all browsers") voids the tokens out.
    Column("token_generation", Integer, nullable=False, server_default=text("0")),
    Index(None, "contact_id"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    Column("status", String(16), nullable=False, default="open"),
    _fk("assignee_id", "operators.id", nullable=True, ondelete="SET NULL"),
    Column("last_seq", Integer, nullable=False, default=0),
    # Read pointers: the highest seq each side has seen.
    Column("visitor_read_seq", Integer, nullable=False, default=0),
    Column("operator_read_seq", Integer, nullable=False, default=0),
    # The visitor's messages past `operator_read_seq`: kept by every write that adds a
    # message or moves the pointer, so an inbox row counts nothing when it is read.
    Column("operator_unread", Integer, nullable=False, default=0, server_default=text("0")),
    Column("last_message_at", UTCDateTime, nullable=True),
    Column("last_message_text", String(200), nullable=True),
    Column("last_message_author", String(16), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    # When the conversation was last (re)opened, and the first operator answer since then:
    # automatic replies look only at what happened after `opened_at` (docs/autoreplies.md).
    Column("opened_at", UTCDateTime, nullable=True),
    Column("operator_replied_at", UTCDateTime, nullable=True),
    Index(None, "site_id", "status", "last_message_at"),
    Index(None, "contact_id"),
)

messages = Table(
    "messages",
    metadata,
    _id(),
    _fk("conversation_id", "conversations.id"),
    Column("seq", Integer, nullable=False),
    Column("author_type", String(16), nullable=False),
    Column("author_id", Id, nullable=True),
    Column("text", Text, nullable=False),
    Column("internal", Boolean, nullable=False, default=False),
    Column("client_msg_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # What a system message is: {"kind": "autoreply", ...} or {"kind": "email_captured", ...}.
    Column("meta", Json, nullable=True),
    UniqueConstraint("conversation_id", "seq"),
    UniqueConstraint("conversation_id", "client_msg_id"),
)

visitor_events = Table(
    "visitor_events",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    _fk("visitor_id", "visitors.id"),
    Column("name", String(100), nullable=False),
    Column("properties", Json, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("visit_id", Id, ForeignKey("visits.id", ondelete="SET NULL"), nullable=True),
    # The widget's id for the write: a retried track() is stored once (NULLs never clash).
    Column("client_id", String(64), nullable=True),
    Index(None, "contact_id", "created_at"),
    UniqueConstraint("visitor_id", "client_id"),
)

visits = Table(
    "visits",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    _fk("visitor_id", "visitors.id"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_activity_at", UTCDateTime, nullable=False),
    Column("entry_url", String(2000), nullable=True),
    Column("referrer", String(2000), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("source", String(200), nullable=True),
    Column("medium", String(200), nullable=True),
    Column("campaign", String(200), nullable=True),
    Column("term", String(200), nullable=True),
    Column("content", String(200), nullable=True),
    Column("referrer_host", String(255), nullable=True),
    Column("device_type", String(16), nullable=False),
    Column("os", String(64), nullable=True),
    Column("browser", String(64), nullable=True),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("country", String(2), nullable=True),
    Column("city", String(100), nullable=True),
    Column("language", String(35), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("screen", String(20), nullable=True),
    Index(None, "contact_id", "started_at"),
    Index(None, "site_id", "last_activity_at"),
)

page_views = Table(
    "page_views",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    _fk("visit_id", "visits.id"),
    Column("client_id", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("title", String(300), nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False, default=0),
    Column("scroll_depth", Integer, nullable=False, default=0),
    UniqueConstraint("visit_id", "client_id"),
    Index(None, "contact_id", "started_at"),
    # page.update names its page view by the client's id only; it may be of an earlier visit.
    Index(None, "contact_id", "client_id"),
)

contact_notes = Table(
    "contact_notes",
    metadata,
    _id(),
    _fk("contact_id", "contacts.id"),
    _fk("operator_id", "operators.id", nullable=True, ondelete="SET NULL"),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "contact_id"),
)

segments = Table(
    "segments",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    Column("name", String(200), nullable=False),
    Column("filter", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "site_id"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("payload", Json, nullable=False, default=dict),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "due_at"),
)


schedules = Table(
    "schedules",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    Column("name", String(100), nullable=False),
    # Whether operators work in these hours; "Lunch" inside "Working hours" is not staffed.
    Column("staffed", Boolean, nullable=False, default=True),
    Column("weekly", Json, nullable=False, default=list),  # [{"day", "start", "end"}]
    Column("exceptions", Json, nullable=False, default=list),  # [{"date", "ranges"}]
    Column("holiday_country", String(8), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "site_id"),
)

autoreply_rules = Table(
    "autoreply_rules",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    Column("name", String(100), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    _fk("schedule_id", "schedules.id", nullable=True, ondelete="RESTRICT"),
    Column("condition", String(32), nullable=False),
    Column("timeout_seconds", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("translations", Json, nullable=False, default=dict),  # {language: text}
    _fk("segment_id", "segments.id", nullable=True, ondelete="RESTRICT"),
    Column("ask_email", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "site_id"),
)

# One row per automatic reply sent: the facts behind "answered by an auto-reply" and the
# counts by rule; a rule's deletion keeps its history (rule_id becomes NULL).
autoreplies_sent = Table(
    "autoreplies_sent",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("conversation_id", "conversations.id"),
    _fk("contact_id", "contacts.id"),
    _fk("message_id", "messages.id"),
    _fk("rule_id", "autoreply_rules.id", nullable=True, ondelete="SET NULL"),
    Column("rule_name", String(100), nullable=False),
    Column("asked_email", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "site_id", "id"),
    Index(None, "conversation_id"),
)

# Emails left in the chat's email field: the leads.
leads = Table(
    "leads",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    _fk("contact_id", "contacts.id"),
    _fk("conversation_id", "conversations.id", nullable=True),
    _fk("rule_id", "autoreply_rules.id", nullable=True, ondelete="SET NULL"),
    Column("email", String(254), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "site_id", "id"),
    Index(None, "conversation_id"),
)

# Every merge of two contacts, by hand or by a proven identity; those from before identities
# were verified are listed for admins to review (docs/contacts.md, "Merging").
contact_merges = Table(
    "contact_merges",
    metadata,
    _id(),
    _fk("site_id", "sites.id"),
    # The merged contact stays as an empty forwarding row; erasing the survivor removes both.
    _fk("source_contact_id", "contacts.id", nullable=True, ondelete="SET NULL"),
    _fk("target_contact_id", "contacts.id"),
    Column("kind", String(16), nullable=False),  # manual | verified | before_upgrade
    _fk("operator_id", "operators.id", nullable=True, ondelete="SET NULL"),
    # Who the merged contact was and which browsers moved, as they were at the merge.
    Column("source_name", String(200), nullable=True),
    Column("source_email", String(254), nullable=True),
    Column("visitor_ids", Json, nullable=False, default=list),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "site_id", "kind", "id"),
    Index(None, "target_contact_id"),
)
