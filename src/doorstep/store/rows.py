"""Turn result rows into the domain's value types."""

from __future__ import annotations

from typing import Any

from doorstep.domain.models import Contact, Conversation, Operator, Site, Visitor


def to_site(row: Any) -> Site:
    m = row._mapping
    return Site(
        m["id"],
        m["key"],
        m["name"],
        m["timezone"],
        m["locale"],
        m["color"],
        m["created_at"],
        dict(m["widget_strings"] or {}),
        m["identity_secret"],
        m["identity_secret_previous"],
        m["identity_previous_until"],
        bool(m["require_verification"]),
        tuple(m["allowed_origins"] or ()),
    )


def to_operator(row: Any) -> Operator:
    m = row._mapping
    return Operator(
        m["id"], m["email"], m["name"], m["role"], m["avatar_url"], m["status"], m["created_at"]
    )


def to_contact(row: Any) -> Contact:
    m = row._mapping
    return Contact(
        m["id"],
        m["site_id"],
        m["name"],
        m["email"],
        m["phone"],
        m["external_id"],
        m["avatar_url"],
        dict(m["attributes"] or {}),
        m["created_at"],
        m["last_seen_at"],
        m["first_source"],
        m["last_source"],
        m["country"],
        m["city"],
        m["timezone"],
        m["language"],
        m["device_type"],
        m["os"],
        m["browser"],
        tuple(m["tags"] or ()),
        m["merged_into_id"],
        bool(m["email_verified"]),
        bool(m["external_id_verified"]),
    )


def to_visitor(row: Any) -> Visitor:
    m = row._mapping
    return Visitor(
        m["id"],
        m["site_id"],
        m["contact_id"],
        m["locale"],
        m["created_at"],
        m["last_seen_at"],
        m["token_generation"],
    )


def to_conversation(row: Any) -> Conversation:
    m = row._mapping
    return Conversation(
        m["id"],
        m["site_id"],
        m["contact_id"],
        m["status"],
        m["assignee_id"],
        m["last_seq"],
        m["visitor_read_seq"],
        m["operator_read_seq"],
        m["last_message_at"],
        m["last_message_text"],
        m["last_message_author"],
        m["created_at"],
        m["updated_at"],
        m["resolved_at"],
        m["opened_at"],
        m["operator_replied_at"],
    )
